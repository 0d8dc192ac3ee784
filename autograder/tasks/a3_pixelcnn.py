"""Assignment 3 (PixelCNN, its blind spot, Gated PixelCNN, discretized logistic mixture): probes and checks.

Same shape as every task module (see autograder/README.md): `*_inputs(rng)` draws the hidden inputs
on the judge's side, `*_probe(target, inputs, record)` runs in the sandbox (only `np`, `torch` and
its arguments), and weighted `Check`s judge the records. The checks test the claims of each task:

- masks against their definition for many (kernel size, type, channels, colour groups);
- convolutions and networks by their *dependency maps*, measured in the sandbox by moving one input
  element at a time and recording the outputs (values, not gradients: a `.detach()` cannot hide a
  dependency). The judge turns them into a map (an output depends on an input when moving the input
  changes it at all: a masked weight contributes an exact zero) and runs
  `course_lib.checks.check_autoregressive` on it or compares it with the mask geometry, at
  initialization, after optimiser steps that move every weight, and after `load_state_dict`;
- receptive fields and blind spots against the solution for many (layers, kernel, canvas, pixel),
  canvas edges included, plus the defining property of a blind spot (only earlier pixels);
- the mixture likelihood against the solution, normalization by summing over all values, finite
  values and gradients at extreme parameters, and accurate (not clamped) tail log-probabilities.

Property checks (formats, causality, normalization) count only after a check that the code does the
work (values against the solution, outputs that depend on the inputs): `requires` in the `Check`s.

Messages say what is wrong without giving hidden inputs or reference values away.
"""
import numpy as np
import torch

from autograder import figures
from autograder.taskapi import Check, Display, Fail, Task
from course_lib.checks import check_autoregressive, check_normalization

SEED = 20260303
TENSOR = ("tensor",)
ARRAYISH = ("ndarray", "tensor")
FLOATS = ("float16", "float32", "float64")


def _as_bool_map(ctx, key, shape):
    """A 0/1 map (numpy or torch, bool or 0/1 numbers) of the given shape, as a bool array."""
    got = ctx.get(key, kinds=ARRAYISH, shape=shape)
    if not np.isin(got, (0, 1)).all():
        raise Fail("the map has entries other than True/False (0/1)")
    return got.astype(bool)


def _moved(outs: np.ndarray, n_points: int, n_moves: int) -> np.ndarray:
    """Which output elements changed when each input element was moved.

    `outs` holds (1 + n_moves) blocks of n_points outputs: the base points, then the points with
    input element m moved. Returns dep (num_output_elements, n_moves): a change at any point.
    float64 results come from one batched call, where rounding may differ between examples by a
    few units in the last place: a change counts above 1e-11 (1 + |output|), far below any real
    dependency. float32 results come from separate calls of the same shape, where an output that
    does not depend on the moved element is bit for bit the same: any change counts."""
    flat = outs.reshape(1 + n_moves, n_points, -1).astype(np.float64)
    base = flat[0][None]
    tol = 1e-11 * (1 + np.abs(base)) if outs.dtype == np.float64 else 0.0
    changed = (np.abs(flat[1:] - base) > tol) | (np.isnan(flat[1:]) != np.isnan(base))
    return changed.any(axis=1).T


# ---------------------------------------------------------------- causal_mask
# case columns: kernel_size, type (0 = "A", 1 = "B"), in_channels, out_channels, colour groups

MASK_KINDS = ("single", "multi", "colour")


def mask_inputs(rng):
    single = [(k, t, 1, 1, 1) for k in (1, 3, 5, 7) for t in (0, 1)]
    multi = [(3, 0, int(rng.integers(2, 5)), int(rng.integers(2, 6)), 1), (5, 1, int(rng.integers(2, 5)), 3, 1),
             (1, 1, 2, 3, 1), (7, 0, 3, 2, 1)]
    colour = [(3, 0, 3, 3, 3), (3, 1, 3, 3, 3), (3, 0, 6, 9, 3), (5, 1, 9, 3, 3), (3, 0, 4, 8, 2),
              (3, 1, 12, 6, 3), (1, 0, 6, 6, 3), (5, 0, 3 * int(rng.integers(1, 4)), 3 * int(rng.integers(1, 4)), 3)]
    cases = single + multi + colour
    kind = [0] * len(single) + [1] * len(multi) + [2] * len(colour)
    order = rng.permutation(len(cases))
    return {"cases": np.array(cases, dtype=np.int64)[order], "kind": np.array(kind, dtype=np.int64)[order]}


def mask_probe(causal_mask, inputs, record):
    for i, (k, t, cin, cout, g) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda k=k, t=t, cin=cin, cout=cout, g=g:
               causal_mask(k, "AB"[t], in_channels=cin, out_channels=cout, color_channels=g))
    record("positional", lambda: causal_mask(3, "B", 6, 3, 3))

    def raises_value_error(*args, **kwargs):
        try:
            causal_mask(*args, **kwargs)
        except ValueError:
            return True
        except Exception:
            return False
        return False

    record("rejects_even", lambda: raises_value_error(4, "A"))
    record("rejects_type", lambda: raises_value_error(3, "C"))
    record("rejects_groups", lambda: raises_value_error(3, "A", in_channels=4, out_channels=3, color_channels=3))


def _mask(ctx, i):
    k, _, cin, cout, _ = (int(v) for v in ctx.inputs["cases"][i])
    got = ctx.get(f"case{i}", kinds=TENSOR, dtype=FLOATS)
    if got.shape != (cout, cin, k, k):
        raise Fail(f"a mask has shape {got.shape}; expected (out_channels, in_channels, k, k), "
                   "the layout of nn.Conv2d's weight")
    if not np.isin(got, (0, 1)).all():
        raise Fail("a mask has entries other than 0 and 1")
    return got


def _mask_format(ctx):
    for i in range(len(ctx.inputs["cases"])):
        _mask(ctx, i)
    ctx.get("positional", kinds=TENSOR, dtype=FLOATS, shape=(3, 6, 3, 3))
    return True, "float tensors of 0/1 shaped (out_channels, in_channels, k, k)"


def _mask_values(kind, hint):
    def fn(ctx):
        cases = [i for i, kd in enumerate(ctx.inputs["kind"]) if MASK_KINDS[int(kd)] == kind]
        wrong = sum(not np.array_equal(_mask(ctx, i), ctx.ref(f"case{i}")) for i in cases)
        if kind == "colour":
            got = ctx.get("positional", kinds=TENSOR, dtype=FLOATS)
            wrong += got.shape != ctx.ref("positional").shape or not np.array_equal(got, ctx.ref("positional"))
        if wrong:
            return False, f"wrong for {wrong} of the masks tried: {hint}"
        return True, "correct for every mask tried"
    return fn


def _mask_rejects(ctx):
    for key, what in (("rejects_even", "an even kernel_size"), ("rejects_type", "a mask_type other than 'A' or 'B'"),
                      ("rejects_groups", "channels not divisible by color_channels")):
        if not bool(ctx.get(key, kinds=("python_bool",))):
            return False, f"{what} must raise ValueError"
    return True, "invalid arguments raise ValueError"


# ---------------------------------------------------------------- MaskedConv2d
# case columns: in_channels, out_channels, kernel_size, type (0 = "A", 1 = "B"), colour groups, H, W

CONV_CASES = [(1, 4, 3, 0, 1, 5, 4), (2, 3, 5, 1, 1, 5, 5), (3, 6, 3, 0, 3, 4, 4), (6, 3, 3, 1, 3, 3, 4),
              (2, 2, 1, 1, 1, 3, 3)]
CONV_POINTS = 2


def conv_inputs(rng):
    out = {"cases": np.array(CONV_CASES, dtype=np.int64)}
    for i, (cin, cout, k, t, g, h, w) in enumerate(CONV_CASES):
        out[f"c{i}_x"] = rng.normal(size=(CONV_POINTS, cin, h, w)).astype(np.float32)
        out[f"c{i}_delta"] = (rng.random((cin, h, w)) + 0.5).astype(np.float32)
        out[f"c{i}_train"] = rng.normal(size=(4, cin, h, w)).astype(np.float32)
        out[f"c{i}_weight"] = rng.normal(size=(cout, cin, k, k)).astype(np.float32)
        out[f"c{i}_bias"] = rng.normal(size=(cout,)).astype(np.float32)
    return out


def dense_gradient_steps(conv, data):
    """Three Adam steps with gradients that touch every weight (as momentum or weight decay would)."""
    opt = torch.optim.Adam(conv.parameters(), lr=0.5, weight_decay=0.5)
    for _ in range(3):
        loss = conv(data).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        for p in conv.parameters():
            p.grad = (torch.zeros_like(p) if p.grad is None else p.grad) + 1.0
        opt.step()


def measured(module, x, delta):
    """The outputs at the base points, then at the points with one input element moved. In float64,
    in one batch, where the module allows it (weak paths through deep stacks still show);
    otherwise in float32, one call per moved element, each a batch of the same shape."""
    flat = delta.reshape(-1)
    with torch.no_grad():
        try:
            n = x.shape[0]
            moved = x.double().reshape(1, n, -1).repeat(flat.numel() + 1, 1, 1)
            idx = torch.arange(flat.numel())
            moved[idx + 1, :, idx] += flat.double()[:, None]
            out = module.double()(moved.reshape((-1,) + tuple(x.shape[1:])))
            if out.dtype != torch.float64:
                raise TypeError("not float64")
            return out
        except Exception:
            module.float()
            outs = [module(x)]
            for m in range(flat.numel()):
                xm = x.clone().reshape(x.shape[0], -1)
                xm[:, m] += flat[m]
                outs.append(module(xm.reshape(x.shape)))
            return torch.cat(outs)
        finally:
            module.float()


def conv_probe(MaskedConv2d, inputs, record):
    for i, (cin, cout, k, t, g, h, w) in enumerate(inputs["cases"].tolist()):
        x, delta = torch.from_numpy(inputs[f"c{i}_x"]), torch.from_numpy(inputs[f"c{i}_delta"])
        torch.manual_seed(300 + i)
        conv = MaskedConv2d(cin, cout, k, "AB"[t], color_channels=g)
        record(f"c{i}_is_conv2d", lambda: isinstance(conv, torch.nn.Conv2d))
        record(f"c{i}_nparams", lambda: sum(int(p.numel()) for p in conv.parameters()))
        record(f"c{i}_init", lambda: measured(conv, x, delta))

        def train():
            dense_gradient_steps(conv, torch.from_numpy(inputs[f"c{i}_train"]))
            return measured(conv, x, delta)
        record(f"c{i}_trained", train)

        def reload():
            # a state dict with dense weights (every tap set), loaded into a fresh layer
            state = dict(conv.state_dict())
            state["weight"] = torch.from_numpy(inputs[f"c{i}_weight"])
            state["bias"] = torch.from_numpy(inputs[f"c{i}_bias"])
            torch.manual_seed(400 + i)
            fresh = MaskedConv2d(cin, cout, k, "AB"[t], color_channels=g)
            fresh.load_state_dict(state)
            return measured(fresh, x, delta)
        record(f"c{i}_reloaded", reload)


def _conv_expected(cin, cout, k, t, g, h, w):
    """Which input element (c, i', j') each output element (o, i, j) may see, both flattened C-order."""
    r = k // 2
    go, gi = np.arange(cout) // (cout // g), np.arange(cin) // (cin // g)
    oc, oi, oj = (a.reshape(-1, 1) for a in np.meshgrid(np.arange(cout), np.arange(h), np.arange(w), indexing="ij"))
    ic, ii, ij = (a.reshape(1, -1) for a in np.meshgrid(np.arange(cin), np.arange(h), np.arange(w), indexing="ij"))
    du, dv = ii - oi, ij - oj
    near = (np.abs(du) <= r) & (np.abs(dv) <= r)
    before = (du < 0) | ((du == 0) & (dv < 0))
    centre = (du == 0) & (dv == 0) & ((gi[ic] < go[oc]) if t == 0 else (gi[ic] <= go[oc]))
    return near & (before | centre)


def _conv_dep(ctx, i, stage):
    cin, cout, k, t, g, h, w = CONV_CASES[i]
    n_moves = cin * h * w
    out = ctx.get(f"c{i}_{stage}", kinds=TENSOR)
    if out.shape != ((n_moves + 1) * CONV_POINTS, cout, h, w):
        raise Fail(f"an input of shape (B, {cin}, H, W) gave an output of shape (B,) + {out.shape[1:]}; "
                   "expected (B, out_channels, H, W): pad by kernel_size // 2 for a same-size output")
    if not np.isfinite(out).all():
        raise Fail("the output has NaN or inf")
    return _moved(out, CONV_POINTS, n_moves), _conv_expected(cin, cout, k, t, g, h, w)


def _describe_conv_mismatch(dep, exp):
    extra, missing = int((dep & ~exp).sum()), int((exp & ~dep).sum())
    parts = []
    if extra:
        parts.append(f"{extra} connection(s) the mask forbids (a pixel at or after the output pixel, "
                     "or a colour group that comes later)")
    if missing:
        parts.append(f"{missing} connection(s) the mask allows are missing")
    return " and ".join(parts)


def _conv_depends(ctx):
    for i in range(len(CONV_CASES)):
        dep, exp = _conv_dep(ctx, i, "init")
        if (dep & exp).sum() < 0.5 * exp.sum():
            return False, ("the output depends on fewer than half of the input elements that the mask allows "
                           "(does forward convolve its input with the masked weight?)")
    return True, "the output depends on the input elements the mask allows"


def _conv_format(ctx):
    for i in range(len(CONV_CASES)):
        if not bool(ctx.get(f"c{i}_is_conv2d", kinds=("python_bool",))):
            return False, "MaskedConv2d must subclass nn.Conv2d"
        _conv_dep(ctx, i, "init")
    return True, "an nn.Conv2d subclass with same-size output"


def _conv_causal(ctx):
    for i, (cin, cout, k, t, g, h, w) in enumerate(CONV_CASES):
        if t != 0:
            continue
        dep, _ = _conv_dep(ctx, i, "init")
        # inputs in generation order: pixel by pixel, then colour group by colour group
        order = sorted(range(cin * h * w), key=lambda e: (e % (h * w), (e // (h * w)) // (cin // g), e))
        # output channel o at pixel p predicts its colour group at p: the group's first input channel
        o_idx = np.arange(cout * h * w)
        site = ((o_idx // (h * w)) // (cout // g)) * (cin // g) * h * w + o_idx % (h * w)
        res = check_autoregressive(dep, order, output_site=site, max_report=0)
        if not res.passed:
            return False, (f"a type-A layer is not autoregressive: {len(res.violations)} connection(s) to the "
                           "output's own pixel, a later pixel, or a colour group that comes later")
    return True, "type-A layers see only earlier pixels (and earlier colour groups at the centre)"


def _conv_stage(stage, when):
    def fn(ctx):
        for i in range(len(CONV_CASES)):
            dep, exp = _conv_dep(ctx, i, stage)
            if not np.array_equal(dep, exp):
                return False, f"{when}: {_describe_conv_mismatch(dep, exp)}"
        return True, f"{when}: exactly the connections the mask allows"
    return fn


def _conv_params(ctx):
    for i, (cin, cout, k, t, g, h, w) in enumerate(CONV_CASES):
        got = int(ctx.get(f"c{i}_nparams", kinds=("python_int",)))
        if got != cout * cin * k * k + cout:
            return False, ("parameters() holds more than the weight and the bias: register the mask as a buffer "
                           "(register_buffer), not as an nn.Parameter")
    return True, "parameters() holds exactly the weight and the bias"


# ---------------------------------------------------------------- pixelcnn_receptive_field and blind_spot
# case columns: num_layers, kernel_size, height, width, row, col; group 0 = one layer, 1 = inside, 2 = edges

def rf_inputs(rng):
    one = [(1, 3, 5, 5, 2, 2), (1, 5, 6, 6, 0, 3), (1, 1, 3, 3, 1, 1), (1, 3, 4, 6, 3, 5), (1, 7, 8, 8, 4, 1)]
    inside = [(2, 3, 6, 6, 3, 3), (3, 3, 8, 8, 5, 4), (4, 3, 9, 9, 6, 5), (5, 3, 10, 10, 7, 5),
              (3, 5, 9, 9, 6, 4), (2, 7, 9, 9, 5, 4), (6, 3, 10, 12, 8, 6), (8, 3, 12, 12, 9, 6),
              (3, 1, 4, 4, 2, 2), (2, 3, 9, 9, 7, 4)]
    for _ in range(6):
        L, k = int(rng.integers(2, 7)), int(rng.choice([3, 5]))
        h, w = int(rng.integers(6, 12)), int(rng.integers(6, 12))
        inside.append((L, k, h, w, int(rng.integers(2, h - 1)), int(rng.integers(2, w - 2))))
    edges = []
    for L, k, h, w in [(3, 3, 6, 7), (5, 3, 8, 8), (2, 5, 5, 9), (7, 3, 6, 12), (4, 5, 7, 10)]:
        for row, col in [(0, 0), (0, w - 1), (h - 1, 0), (h - 1, w - 1), (1, w - 1), (h - 1, 1), (2, w - 2), (0, w // 2)]:
            edges.append((L, k, h, w, row, col))
    cases = one + inside + edges
    group = [0] * len(one) + [1] * len(inside) + [2] * len(edges)
    order = rng.permutation(len(cases))
    return {"cases": np.array(cases, dtype=np.int64)[order], "group": np.array(group, dtype=np.int64)[order]}


def rf_probe(pixelcnn_receptive_field, inputs, record):
    for i, (L, k, h, w, row, col) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda L=L, k=k, h=h, w=w, row=row, col=col: pixelcnn_receptive_field(L, k, h, w, row, col))


def blind_probe(blind_spot, inputs, record):
    for i, (L, k, h, w, row, col) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda L=L, k=k, h=h, w=w, row=row, col=col: blind_spot(L, k, h, w, row, col))


def _map_format(ctx):
    for i, (L, k, h, w, row, col) in enumerate(ctx.inputs["cases"]):
        ctx.get(f"case{i}", kinds=("ndarray",), dtype="bool", shape=(int(h), int(w)))
    return True, "boolean numpy arrays of shape (height, width)"


def _map_values(groups, hint):
    def fn(ctx):
        cases = [i for i, g in enumerate(ctx.inputs["group"]) if int(g) in groups]
        wrong = 0
        for i in cases:
            L, k, h, w, row, col = (int(v) for v in ctx.inputs["cases"][i])
            wrong += not np.array_equal(_as_bool_map(ctx, f"case{i}", (h, w)), ctx.ref(f"case{i}").astype(bool))
        if wrong:
            return False, f"wrong for {wrong} of {len(cases)} (layers, kernel, canvas, pixel) cases: {hint}"
        return True, f"correct for all {len(cases)} cases"
    return fn


def _blind_only_earlier(ctx):
    for i, (L, k, h, w, row, col) in enumerate(ctx.inputs["cases"]):
        h, w, row, col = int(h), int(w), int(row), int(col)
        got = _as_bool_map(ctx, f"case{i}", (h, w))
        before = (np.arange(h * w) < row * w + col).reshape(h, w)
        if got[row, col]:
            return False, "the output pixel itself is marked: a pixel is not before itself, so it is never in its own blind spot"
        if (got & ~before).any():
            return False, "pixels after the output pixel in raster order are marked: the blind spot holds only earlier pixels"
    return True, "only pixels before the output pixel are marked"


RF_HINT = ("the first layer is type A (no centre), the others type B (centre included); each layer reaches "
           "kernel_size // 2 rows up, to both sides in the rows above, only to the left in its own row")
EDGE_HINT = "near the canvas edges, clip to the canvas at every layer (no wrapping around)"
BLIND_HINT = "the blind spot is every pixel before (row, col) in raster order that the stack does not see"


# ---------------------------------------------------------------- GatedPixelCNN
# case columns: in_channels, hidden_channels, out_channels, num_layers, kernel_size, H, W

GATED_CASES = [(1, 8, 2, 2, 3, 5, 6), (3, 6, 4, 3, 3, 4, 4), (1, 8, 1, 10, 3, 5, 5), (2, 6, 3, 9, 5, 4, 5)]
GATED_POINTS = 3
GATED_TRAINED = (0, 1)


def gated_inputs(rng):
    out = {"cases": np.array(GATED_CASES, dtype=np.int64)}
    for i, (cin, hid, cout, L, k, h, w) in enumerate(GATED_CASES):
        out[f"c{i}_x"] = rng.normal(size=(GATED_POINTS, cin, h, w)).astype(np.float32)
        out[f"c{i}_delta"] = (rng.random((cin, h, w)) + 0.5).astype(np.float32)
        out[f"c{i}_train"] = rng.normal(size=(4, cin, h, w)).astype(np.float32)
    return out


def gated_probe(GatedPixelCNN, inputs, record):
    for i, (cin, hid, cout, L, k, h, w) in enumerate(inputs["cases"].tolist()):
        x, delta = torch.from_numpy(inputs[f"c{i}_x"]), torch.from_numpy(inputs[f"c{i}_delta"])
        torch.manual_seed(500 + i)
        net = GatedPixelCNN(cin, hid, cout, L, kernel_size=k)
        record(f"c{i}_init", lambda: measured(net, x, delta))
        if i in GATED_TRAINED:
            def train():
                opt = torch.optim.Adam(net.parameters(), lr=0.3)
                data = torch.from_numpy(inputs[f"c{i}_train"])
                for _ in range(3):
                    loss = net(data).pow(2).mean()
                    opt.zero_grad()
                    loss.backward()
                    for p in net.parameters():
                        p.grad = (torch.zeros_like(p) if p.grad is None else p.grad) + 1.0
                    opt.step()
                return measured(net, x, delta)
            record(f"c{i}_trained", train)


def _gated_dep(ctx, i, stage):
    """Pixel-level map (H*W outputs x H*W inputs): any output channel, any input channel."""
    cin, hid, cout, L, k, h, w = GATED_CASES[i]
    n_moves = cin * h * w
    out = ctx.get(f"c{i}_{stage}", kinds=TENSOR)
    if out.shape != ((n_moves + 1) * GATED_POINTS, cout, h, w):
        raise Fail(f"an input of shape (B, {cin}, H, W) gave an output of shape (B,) + {out.shape[1:]}; "
                   "expected (B, out_channels, H, W)")
    if not np.isfinite(out).all():
        raise Fail("the output has NaN or inf")
    return _moved(out, GATED_POINTS, n_moves).reshape(cout, h * w, cin, h * w).any(axis=(0, 2))


def _gated_depends(ctx):
    for i in range(len(GATED_CASES)):
        if not _gated_dep(ctx, i, "init").any():
            return False, "no output depends on any input pixel (does forward use its input?)"
    return True, "the outputs depend on the input"


def _gated_shape(ctx):
    for i in range(len(GATED_CASES)):
        _gated_dep(ctx, i, "init")
    return True, "(B, in_channels, H, W) maps to (B, out_channels, H, W)"


def _gated_causal(stage, when):
    def fn(ctx):
        for i in (range(len(GATED_CASES)) if stage == "init" else GATED_TRAINED):
            res = check_autoregressive(_gated_dep(ctx, i, stage), max_report=0)
            if not res.passed:
                return False, (f"{when}: {len(res.violations)} (output pixel, input pixel) pair(s) where an output "
                               "depends on its own pixel or a later one. Is the vertical stack shifted down one "
                               "row before it feeds the horizontal stack? Is (i, j) excluded in the first layer?")
        return True, f"{when}: every output depends only on earlier pixels"
    return fn


def _gated_no_blind_spot(ctx):
    for i, (cin, hid, cout, L, k, h, w) in enumerate(GATED_CASES):
        if L < h + w:
            continue
        dep = _gated_dep(ctx, i, "init")
        missing = np.tril(np.ones_like(dep), -1) & ~dep
        if missing.any():
            return False, (f"with num_layers >= H + W, {int(missing.any(axis=1).sum())} output pixel(s) miss earlier "
                           "pixels (a blind spot). Does the horizontal stack receive the shifted vertical features, "
                           "and does the vertical kernel span columns j - r .. j + r?")
    return True, "no blind spot: with num_layers >= H + W every output sees every earlier pixel"


def _gated_neighbours(ctx):
    for i in (0, 1):
        cin, hid, cout, L, k, h, w = GATED_CASES[i]
        dep = _gated_dep(ctx, i, "init")
        if not all(dep[r * w + c, r * w + c - 1] for r in range(h) for c in range(1, w)):
            return False, "an output does not see its left neighbour (the horizontal stack)"
        if not all(dep[r * w + c, (r - 1) * w + c + 1] for r in range(1, h) for c in range(w - 1)):
            return False, ("an output does not see the pixel up and to the right (the vertical stack, "
                           "linked into the horizontal one)")
    return True, "every output sees its left neighbour and the pixel up and to the right"


# ---------------------------------------------------------------- discretized_logistic_mixture_log_prob

MIX_CASES = [(2, 1), (17, 5), (256, 3), (4, 2), (256, 1)]
MIX_N = 40
GRID_MEANS = (-1.5, -0.7, 0.0, 0.999, 1.5)
GRID_LOG_SCALES = (-7.0, -4.0, -1.0, 0.5, 3.0)
NORM_SMALL = [(2, 2), (17, 3)]


def mix_inputs(rng):
    out = {}
    for i, (v, k) in enumerate(MIX_CASES):
        out[f"c{i}_x"] = rng.integers(0, v, size=MIX_N).astype(np.int64)
        out[f"c{i}_lw"] = rng.normal(size=(MIX_N, k)) * 2
        out[f"c{i}_mu"] = rng.uniform(-1.2, 1.2, size=(MIX_N, k))
        out[f"c{i}_ls"] = rng.uniform(-3.5, -0.5, size=(MIX_N, k))
    # one parameter row per (mean, log_scale) of the grid (float32, as a network gives them), with a
    # second component elsewhere; every one of the 256 values for each row
    rows = [(m, s) for m in GRID_MEANS for s in GRID_LOG_SCALES]
    out["grid_lw"] = np.stack([rng.normal(size=len(rows)), rng.normal(size=len(rows)) - 1], 1).astype(np.float32)
    out["grid_mu"] = np.stack([[m for m, _ in rows], rng.uniform(-1.5, 1.5, len(rows))], 1).astype(np.float32)
    out["grid_ls"] = np.stack([[s for _, s in rows], rng.uniform(-7, 3, len(rows))], 1).astype(np.float32)
    for j, (v, k) in enumerate(NORM_SMALL):
        out[f"small{j}_lw"] = rng.normal(size=(3, k))
        out[f"small{j}_mu"] = rng.uniform(-1.5, 1.5, size=(3, k))
        out[f"small{j}_ls"] = rng.uniform(-7, 3, size=(3, k))
    return out


def mix_probe(discretized_logistic_mixture_log_prob, inputs, record):
    f = discretized_logistic_mixture_log_prob
    for i, (v, _) in enumerate(MIX_CASES):
        args = [torch.from_numpy(inputs[f"c{i}_{n}"]) for n in ("x", "lw", "mu", "ls")]
        record(f"case{i}", lambda args=args, v=v: f(*args, num_values=v))
    record("default_v", lambda: f(*[torch.from_numpy(inputs[f"c2_{n}"]) for n in ("x", "lw", "mu", "ls")]))

    def over_all_values(lw, mu, ls, v):
        # every value 0..v-1 for every parameter row: rows repeated, values tiled
        x = torch.arange(v).repeat(lw.shape[0])
        return f(x, lw.repeat_interleave(v, 0), mu.repeat_interleave(v, 0), ls.repeat_interleave(v, 0), num_values=v)

    grid = [torch.from_numpy(inputs[f"grid_{n}"]) for n in ("lw", "mu", "ls")]
    record("grid", lambda: over_all_values(*grid, 256))
    for j, (v, _) in enumerate(NORM_SMALL):
        small = [torch.from_numpy(inputs[f"small{j}_{n}"]) for n in ("lw", "mu", "ls")]
        record(f"small{j}", lambda small=small, v=v: over_all_values(*small, v))

    def grads():
        p = [t.clone().requires_grad_(True) for t in grid]
        over_all_values(*p, 256).sum().backward()
        return [t.grad for t in p]
    record("grads", grads)


def _mix_format(ctx):
    for i in range(len(MIX_CASES)):
        ctx.get(f"case{i}", kinds=TENSOR, dtype=FLOATS, shape=(MIX_N,))
    return True, "a float tensor of shape (N,)"


def _mix_values(cases, default, what):
    def fn(ctx):
        wrong = []
        for i in cases:
            v, k = MIX_CASES[i]
            got = ctx.get(f"case{i}", kinds=TENSOR, shape=(MIX_N,)).astype(np.float64)
            if not np.allclose(got, ctx.ref(f"case{i}"), rtol=1e-4, atol=1e-4):
                wrong.append(f"{v} values, {k} component(s)")
        if default:
            got = ctx.get("default_v", kinds=TENSOR, shape=(MIX_N,)).astype(np.float64)
            if not np.allclose(got, ctx.ref("default_v"), rtol=1e-4, atol=1e-4):
                wrong.append("the default num_values")
        if wrong:
            return False, (f"wrong log-probabilities ({'; '.join(wrong)}). Check the centre 2x/(V-1) - 1, the half-width "
                           "1/(V-1), the edge bins (x = 0 from -inf, x = V-1 to +inf), the softmax of the weights, "
                           "and for many values (narrow bins) that log(sigmoid(a) - sigmoid(b)) is computed in log space")
        return True, f"log-probabilities correct for {what}"
    return fn


def _grid(ctx):
    got = ctx.get("grid", kinds=TENSOR, shape=(len(GRID_MEANS) * len(GRID_LOG_SCALES) * 256,))
    return got.astype(np.float64).reshape(-1, 256)


def _mix_normalized(ctx):
    blocks = [(_grid(ctx), 256)]
    for j, (v, k) in enumerate(NORM_SMALL):
        blocks.append((ctx.get(f"small{j}", kinds=TENSOR, shape=(3 * v,)).astype(np.float64).reshape(3, v), v))
    for block, v in blocks:
        for lp in block:
            res = check_normalization(lambda _, lp=lp: torch.from_numpy(lp), torch.zeros(v, 1), atol=1e-4)
            if not res.passed:
                return False, (f"the probabilities of all {v} values do not sum to 1 for some parameters: the first "
                               "bin must integrate from -inf and the last to +inf, the bins have half-width 1/(V-1)")
    return True, "the probabilities of all values sum to 1 (means in [-1.5, 1.5], log-scales in [-7, 3])"


def _mix_finite(ctx):
    grid = _grid(ctx)
    if not np.isfinite(grid).all():
        return False, (f"{int((~np.isfinite(grid)).sum())} log-probabilities are -inf or NaN at extreme parameters: "
                       "log(sigmoid(a) - sigmoid(b)) underflows for narrow components far from the bin; work in log space")
    return True, "finite for every value at extreme parameters"


def _mix_tails(ctx):
    grid = _grid(ctx)
    ref = ctx.ref("grid").astype(np.float64).reshape(-1, 256)
    tail = ref < -11.5   # probability below 1e-5
    if not np.isfinite(grid).all():
        return False, "not finite at extreme parameters"
    if not np.allclose(grid[~tail], ref[~tail], rtol=1e-3, atol=2e-3):
        return False, "inaccurate log-probabilities at extreme parameters for likely values"
    if not (np.abs(grid[tail] - ref[tail]) <= 0.1 * np.abs(ref[tail])).all():
        return False, ("values far in the tails do not get their (very negative) log-probabilities: do not clamp "
                       "probabilities to a small epsilon; compute log(sigmoid(a) - sigmoid(b)) in log space")
    return True, "accurate in the tails: very unlikely values get very negative, finite log-probabilities"


def _mix_grads(ctx):
    items = ctx.items("grads")
    if len(items) != 3:
        raise Fail("no gradients could be computed")
    for key in items:
        if not np.isfinite(ctx.get(key, kinds=TENSOR)).all():
            return False, ("NaN or inf gradients at extreme parameters: torch.where differentiates both branches, so "
                           "keep the argument of every log finite in both")
    return True, "finite gradients at extreme parameters"


# ---------------------------------------------------------------- the tasks

# ---------------------------------------------------------------- figures on public display inputs
# (seeded by the task's name in grade.display_inputs: the same for everyone, nothing hidden)

MASK_DISPLAY_K = 5


def mask_display_inputs(rng):
    return {"k": np.array(MASK_DISPLAY_K)}


def mask_display_probe(causal_mask, inputs, record):
    k = int(inputs["k"])
    record("A", lambda: causal_mask(k, "A"))
    record("B", lambda: causal_mask(k, "B"))


def _mask_figure(mask_type):
    def fn(ctx):
        k = MASK_DISPLAY_K
        got = ctx.get(mask_type, kinds=TENSOR, shape=(1, 1, k, k))
        if not np.isin(got, (0, 1)).all():
            raise Fail("the mask has entries other than 0 and 1")
        return figures.field(f"your type-{mask_type} mask (kernel {k}) over the expected one",
                             got[0, 0].astype(bool), ctx.ref(mask_type)[0, 0].astype(bool), (k // 2, k // 2))
    return fn


CONV_DISPLAY = (1, 1, 3, 0, 1, 4, 4)    # in, out channels, kernel, type A, colour groups, H, W


def conv_display_inputs(rng):
    cin, cout, k, t, g, h, w = CONV_DISPLAY
    return {"x": rng.normal(size=(CONV_POINTS, cin, h, w)).astype(np.float32),
            "delta": (rng.random((cin, h, w)) + 0.5).astype(np.float32),
            "train": rng.normal(size=(4, cin, h, w)).astype(np.float32)}


def conv_display_probe(MaskedConv2d, inputs, record):
    cin, cout, k, t, g, h, w = CONV_DISPLAY
    x, delta = torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["delta"])
    torch.manual_seed(0)
    conv = MaskedConv2d(cin, cout, k, "AB"[t], color_channels=g)
    record("init", lambda: measured(conv, x, delta))

    def train():
        dense_gradient_steps(conv, torch.from_numpy(inputs["train"]))
        return measured(conv, x, delta)
    record("trained", train)


def _conv_figure(stage, when):
    def fn(ctx):
        cin, cout, k, t, g, h, w = CONV_DISPLAY
        n = cin * h * w
        out = ctx.get(stage, kinds=TENSOR, shape=ctx.ref(stage).shape)
        if not np.isfinite(out).all():
            raise Fail("the output has NaN or inf")
        return figures.dependency(f"type-A MaskedConv2d (kernel {k}) on a {h}x{w} image, {when}",
                                  _moved(out, CONV_POINTS, n), _moved(ctx.ref(stage), CONV_POINTS, n),
                                  xlabel="input pixel (row, col)", ylabel="output pixel (row, col)", image_shape=(h, w))
    return fn


RF_DISPLAY = [(3, 3, 8, 8, 5, 4), (4, 3, 7, 9, 1, 8)]    # layers, kernel, height, width, row, col


def rf_display_inputs(rng):
    return {"cases": np.array(RF_DISPLAY, dtype=np.int64)}


def _rf_figure(i, what):
    def fn(ctx):
        L, k, h, w, row, col = RF_DISPLAY[i]
        got = _as_bool_map(ctx, f"case{i}", (h, w))
        return figures.field(f"your {what} ({L} layers, kernel {k}, {h}x{w} canvas, pixel ({row}, {col})) over the "
                             "expected one", got, ctx.ref(f"case{i}").astype(bool), (row, col))
    return fn


MASK_SINGLE = "one channel, types A and B"
CONV_DEPENDS, CONV_CAUSAL = "the output depends on the input", "type A is autoregressive"
RF_STACKS, BLIND_VALUES = "stacks of layers", "one layer and stacks of layers"
GATED_DEPENDS, GATED_AR = "the output depends on the input", "autoregressive"
MIX_VALUES = "values for a few values (V = 2, 4, 17)"

TASKS = [
    Task("causal_mask", mask_inputs, mask_probe, [
        Check(MASK_SINGLE, 2, _mask_values(
            "single", "1 in the rows above the centre and left of the centre; the centre is 0 for A and 1 for B")),
        Check("several channels, no colour groups", 1, _mask_values(
            "multi", "every (output, input) channel pair gets the same k x k picture")),
        Check("colour groups at the centre", 2, _mask_values(
            "colour", "channel c is in group c // (C / G) (contiguous blocks); at the centre output group g sees "
                      "input group g' iff g' < g (A) or g' <= g (B); elsewhere the mask ignores the groups")),
        Check("float tensor (out, in, k, k) of 0/1", 1, _mask_format, requires=(MASK_SINGLE,)),
        Check("invalid arguments raise ValueError", 1, _mask_rejects, requires=(MASK_SINGLE,)),
    ], display=Display(mask_display_inputs, mask_display_probe,
                       [("your type-A mask", _mask_figure("A")), ("your type-B mask", _mask_figure("B"))])),
    Task("MaskedConv2d", conv_inputs, conv_probe, [
        Check(CONV_DEPENDS, 1, _conv_depends),
        Check(CONV_CAUSAL, 1, _conv_causal, requires=(CONV_DEPENDS,)),
        Check("exactly the masked connections", 2, _conv_stage("init", "at initialization"), requires=(CONV_DEPENDS,)),
        Check("mask holds after optimiser steps", 2, _conv_stage(
            "trained", "after Adam steps that moved every weight (apply the mask in forward)"), requires=(CONV_DEPENDS,)),
        Check("mask holds after load_state_dict", 1, _conv_stage(
            "reloaded", "after load_state_dict with dense weights (apply the mask in forward)"), requires=(CONV_DEPENDS,)),
        Check("nn.Conv2d subclass, same-size output", 1, _conv_format, requires=(CONV_DEPENDS, CONV_CAUSAL)),
        Check("the mask is not a parameter", 1, _conv_params, requires=(CONV_DEPENDS, CONV_CAUSAL)),
    ], helpers=(measured, dense_gradient_steps),
       display=Display(conv_display_inputs, conv_display_probe,
                       [("dependency map at initialization", _conv_figure("init", "at initialization")),
                        ("dependency map after Adam steps", _conv_figure("trained", "after Adam steps"))],
                       constants={"CONV_DISPLAY": CONV_DISPLAY, "CONV_POINTS": CONV_POINTS})),
    Task("pixelcnn_receptive_field", rf_inputs, rf_probe, [
        Check(RF_STACKS, 2, _map_values({1}, RF_HINT)),
        Check("one layer (type A)", 1, _map_values({0}, RF_HINT)),
        Check("pixels at the canvas edges", 1, _map_values({2}, EDGE_HINT)),
        Check("boolean array (height, width)", 1, _map_format, requires=(RF_STACKS,)),
    ], display=Display(rf_display_inputs, rf_probe, [("your receptive field", _rf_figure(0, "receptive field")),
                                                     ("your receptive field at an edge",
                                                      _rf_figure(1, "receptive field"))])),
    Task("blind_spot", rf_inputs, blind_probe, [
        Check(BLIND_VALUES, 2, _map_values({0, 1}, BLIND_HINT)),
        Check("pixels at the canvas edges", 1, _map_values({2}, BLIND_HINT + "; " + EDGE_HINT)),
        Check("only earlier pixels", 1, _blind_only_earlier, requires=(BLIND_VALUES,)),
        Check("boolean array (height, width)", 1, _map_format, requires=(BLIND_VALUES,)),
    ], display=Display(rf_display_inputs, blind_probe, [("your blind spot", _rf_figure(0, "blind spot"))])),
    Task("GatedPixelCNN", gated_inputs, gated_probe, [
        Check(GATED_DEPENDS, 1, _gated_depends),
        Check(GATED_AR, 2, _gated_causal("init", "at initialization"), requires=(GATED_DEPENDS,)),
        Check("no blind spot when deep enough", 2, _gated_no_blind_spot, requires=(GATED_AR,)),
        Check("sees its neighbours", 1, _gated_neighbours, requires=(GATED_AR,)),
        Check("autoregressive after optimiser steps", 1, _gated_causal("trained", "after Adam steps"),
              requires=(GATED_AR,)),
        Check("output shape (B, out_channels, H, W)", 1, _gated_shape, requires=(GATED_AR,)),
    ], helpers=(measured,), constants={"GATED_TRAINED": GATED_TRAINED}),
    Task("discretized_logistic_mixture_log_prob", mix_inputs, mix_probe, [
        Check(MIX_VALUES, 1, _mix_values([i for i, (v, _) in enumerate(MIX_CASES) if v < 256], False,
                                         "2, 4 and 17 values")),
        Check("values for 256 values", 1, _mix_values([i for i, (v, _) in enumerate(MIX_CASES) if v == 256], True,
                                                      "256 values, the default num_values included")),
        Check("float tensor of shape (N,)", 1, _mix_format, requires=(MIX_VALUES,)),
        Check("sums to 1 over all values", 2, _mix_normalized, requires=(MIX_VALUES,)),
        Check("finite at extreme parameters", 1, _mix_finite, requires=(MIX_VALUES,)),
        Check("accurate in the tails", 1, _mix_tails, requires=(MIX_VALUES,)),
        Check("finite gradients", 1, _mix_grads, requires=(MIX_VALUES,)),
    ], constants={"MIX_CASES": MIX_CASES, "NORM_SMALL": NORM_SMALL}),
]
