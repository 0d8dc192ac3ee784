"""Assignment 3 (PixelCNN, blind spot, Gated PixelCNN, logistic mixture): hidden probes and checks.

Each task: `*_inputs(rng)` draws the hidden inputs (judge side), `*_probe(target, inputs, record)`
runs in the sandbox and records what the student's code returns, and `Check`s with weights judge
the records against the solution's results and the course's property checks. Dependency maps of
networks are measured inside the sandbox by perturbation (base outputs, then one input element
moved at a time) and turned into maps here, on the judge side.
"""
import numpy as np
import torch

from autograder.taskapi import Check, Fail, Task
from course_lib.checks import check_autoregressive, check_normalization

SEED = 20260303
TENSOR = ("tensor",)
ARRAY = ("ndarray",)

# ---------------------------------------------------------------- causal_mask

MASK_CASES = [(3, "A", 1, 1, 1), (3, "B", 1, 1, 1), (5, "A", 2, 4, 1), (1, "A", 1, 1, 1), (1, "B", 2, 3, 1),
              (7, "B", 3, 2, 1), (3, "A", 3, 3, 3), (3, "B", 3, 3, 3), (3, "A", 6, 9, 3), (5, "B", 9, 6, 3),
              (3, "A", 4, 8, 2)]
SINGLE = [i for i, c in enumerate(MASK_CASES) if c[4] == 1]
COLOUR = [i for i, c in enumerate(MASK_CASES) if c[4] > 1]


def mask_inputs(rng):
    return {"cases": np.array([[k, int(t == "A"), ci, co, g] for k, t, ci, co, g in MASK_CASES], dtype=np.int64)}


def mask_probe(causal_mask, inputs, record):
    for i, (k, is_a, ci, co, g) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda k=k, t="A" if is_a else "B", ci=ci, co=co, g=g:
               causal_mask(k, t, in_channels=ci, out_channels=co, color_channels=g))

    def raises(**kw):
        def fn():
            try:
                causal_mask(**kw)
            except ValueError:
                return True
            return False
        return fn
    record("raises_even", raises(kernel_size=4, mask_type="A"))
    record("raises_type", raises(kernel_size=3, mask_type="C"))
    record("raises_groups", raises(kernel_size=3, mask_type="A", in_channels=4, out_channels=3, color_channels=3))


def _mask_cases(indices, what):
    def fn(ctx):
        for i in indices:
            k, t, ci, co, g = MASK_CASES[i]
            ref = ctx.ref(f"case{i}")
            got = ctx.get(f"case{i}", kinds=TENSOR, shape=ref.shape)
            if got.dtype.kind != "f":
                return False, "return a float tensor of 0/1"
            if not np.array_equal(got, ref):
                return False, f"{what}: wrong mask for kernel {k}, type {t}, {ci} -> {co} channels, {g} colour group(s)"
        return True, f"{what}: correct"
    return fn


def _mask_shapes(ctx):
    for i, (k, t, ci, co, g) in enumerate(MASK_CASES):
        got = ctx.get(f"case{i}", kinds=TENSOR)
        if got.shape != (co, ci, k, k):
            return False, f"shape {got.shape}; expected (out_channels, in_channels, k, k) = {(co, ci, k, k)}"
    return True, "shapes (out_channels, in_channels, k, k)"


def _mask_raises(ctx):
    for key, what in [("raises_even", "an even kernel_size"), ("raises_type", "a mask_type other than A/B"),
                      ("raises_groups", "channels not divisible by color_channels")]:
        if not bool(ctx.get(key)):
            return False, f"{what} must raise ValueError"
    return True, "bad arguments raise ValueError"


# ---------------------------------------------------------------- MaskedConv2d

CONV_CASES = [(1, 3, 3, "A", 1, 5, 4), (2, 2, 5, "B", 1, 5, 5), (3, 3, 3, "A", 3, 3, 4), (6, 3, 3, "B", 3, 3, 3)]
CONV_POINTS = 3


def conv_inputs(rng):
    out = {}
    for i, (ci, co, k, t, g, H, W) in enumerate(CONV_CASES):
        out[f"c{i}_x"] = rng.normal(size=(CONV_POINTS, ci, H, W)).astype(np.float32)
        out[f"c{i}_delta"] = (rng.random(ci * H * W) + 0.5).astype(np.float32)
        out[f"c{i}_train"] = rng.normal(size=(4, ci, H, W)).astype(np.float32)
    out["cases"] = np.array([[ci, co, k, int(t == "A"), g, H, W] for ci, co, k, t, g, H, W in CONV_CASES])
    return out


def conv_probe(MaskedConv2d, inputs, record):
    def perturbed(model, x, delta):
        outs = [model(x)]
        flat = x.reshape(x.shape[0], -1)
        for i in range(flat.shape[1]):
            xi = flat.clone()
            xi[:, i] = xi[:, i] + delta[i]
            outs.append(model(xi.reshape(x.shape)))
        return torch.cat(outs)

    for i, (ci, co, k, is_a, g, H, W) in enumerate(inputs["cases"].tolist()):
        t = "A" if is_a else "B"
        x, delta = torch.from_numpy(inputs[f"c{i}_x"]), torch.from_numpy(inputs[f"c{i}_delta"])
        torch.manual_seed(10 + i)
        conv = MaskedConv2d(ci, co, k, t, color_channels=g)
        record(f"c{i}_is_conv", lambda: isinstance(conv, torch.nn.Conv2d))
        record(f"c{i}_nparams", lambda: sum(int(p.numel()) for p in conv.parameters()))
        with torch.no_grad():
            record(f"c{i}_init", lambda: perturbed(conv, x, delta))

        def train():
            opt = torch.optim.Adam(conv.parameters(), lr=0.5, weight_decay=0.5)
            for _ in range(3):
                loss = conv(torch.from_numpy(inputs[f"c{i}_train"])).pow(2).mean()
                opt.zero_grad()
                loss.backward()
                for p in conv.parameters():
                    p.grad = (torch.zeros_like(p) if p.grad is None else p.grad) + 1.0
                opt.step()
            with torch.no_grad():
                return perturbed(conv, x, delta)
        record(f"c{i}_trained", train)

        def reload():
            params = dict(conv.named_parameters())
            state = {n: (torch.ones_like(v) if n in params else v) for n, v in conv.state_dict().items()}
            torch.manual_seed(20 + i)
            fresh = MaskedConv2d(ci, co, k, t, color_channels=g)
            fresh.load_state_dict(state)
            with torch.no_grad():
                return perturbed(fresh, x, delta)
        record(f"c{i}_reloaded", reload)


def _expected_conv(ci, co, H, W, k, t, g):
    r = k // 2
    go, gi = np.arange(co) // (co // g), np.arange(ci) // (ci // g)
    oc, oi, oj = (a.reshape(-1, 1) for a in np.meshgrid(np.arange(co), np.arange(H), np.arange(W), indexing="ij"))
    ic, ii, ij = (a.reshape(1, -1) for a in np.meshgrid(np.arange(ci), np.arange(H), np.arange(W), indexing="ij"))
    du, dv = ii - oi, ij - oj
    near = (np.abs(du) <= r) & (np.abs(dv) <= r)
    before = (du < 0) | ((du == 0) & (dv < 0))
    centre = (du == 0) & (dv == 0) & ((gi[ic] < go[oc]) if t == "A" else (gi[ic] <= go[oc]))
    return near & (before | centre)


def _dep(out, num_in, num_points, out_shape):
    """Dependency map (outputs x inputs) from the base outputs and one block per moved input."""
    expected = ((num_in + 1) * num_points,) + tuple(out_shape)
    if out.shape != expected:
        raise Fail(f"forward returned shape {out.shape[1:]} per example; expected {tuple(out_shape)} "
                   "(same-size padding, out_channels channels)")
    if not np.isfinite(out).all():
        raise Fail("forward returned NaN or inf")
    flat = out.reshape((num_in + 1) * num_points, -1).astype(np.float64)
    base = flat[:num_points]
    dep = np.zeros((flat.shape[1], num_in), dtype=bool)
    for i in range(num_in):
        moved = np.abs(flat[(i + 1) * num_points:(i + 2) * num_points] - base) > 1e-5 * (1 + np.abs(base))
        dep[:, i] = moved.any(axis=0)
    return dep


def _conv_stage(stage, when):
    def fn(ctx):
        for i, (ci, co, k, t, g, H, W) in enumerate(CONV_CASES):
            dep = _dep(ctx.get(f"c{i}_{stage}", kinds=TENSOR), ci * H * W, CONV_POINTS, (co, H, W))
            if not np.array_equal(dep, _expected_conv(ci, co, H, W, k, t, g)):
                return False, (f"{when}: the connectivity is wrong for {ci} -> {co} channels, kernel {k}, type {t}, "
                               f"{g} colour group(s)" + ("" if stage == "init" else "; apply the mask in forward"))
        return True, f"exact masked connectivity {when}"
    return fn


def _conv_module(ctx):
    for i, (ci, co, k, t, g, H, W) in enumerate(CONV_CASES):
        if not bool(ctx.get(f"c{i}_is_conv")):
            return False, "MaskedConv2d must subclass nn.Conv2d"
        _dep(ctx.get(f"c{i}_init", kinds=TENSOR), ci * H * W, CONV_POINTS, (co, H, W))
    return True, "an nn.Conv2d with same-size output"


def _conv_params(ctx):
    for i, (ci, co, k, t, g, H, W) in enumerate(CONV_CASES):
        if int(ctx.get(f"c{i}_nparams")) != co * ci * k * k + co:
            return False, "parameters() must hold only the weight and the bias (the mask is a buffer)"
    return True, "parameters() holds the weight and the bias"


# ---------------------------------------------------------------- pixelcnn_receptive_field, blind_spot

def rf_inputs(rng):
    cases = [(1, 3, 6, 6, 3, 3), (2, 3, 5, 5, 2, 2), (3, 3, 8, 8, 5, 4), (4, 3, 9, 9, 8, 4)]
    for _ in range(8):
        L, k = int(rng.integers(1, 7)), int(rng.choice([3, 5]))
        H, W = int(rng.integers(4, 11)), int(rng.integers(4, 11))
        cases.append((L, k, H, W, int(rng.integers(0, H)), int(rng.integers(0, W))))
    cases += [(5, 3, 8, 8, 0, 7), (5, 3, 8, 8, 7, 0), (3, 3, 6, 6, 0, 0), (6, 3, 7, 5, 6, 4)]
    return {"cases": np.array(cases, dtype=np.int64)}


def rf_probe(fn, inputs, record):
    for i, (L, k, H, W, r, c) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda L=L, k=k, H=H, W=W, r=r, c=c: fn(L, k, H, W, r, c))


def _bool_maps(indices, what):
    def check(ctx):
        n = len(ctx.inputs["cases"])
        for i in (range(n) if indices is None else indices):
            ref = ctx.ref(f"case{i}")
            got = ctx.get(f"case{i}", kinds=ARRAY, shape=ref.shape)
            if got.dtype.kind != "b":
                return False, "return a boolean numpy array (height, width)"
            if not np.array_equal(got, ref):
                L, k, H, W, r, c = ctx.inputs["cases"][i].tolist()
                if i < 4:
                    return False, f"{what}: wrong for {L} layer(s) of {k}x{k}, {H}x{W} canvas, output ({r}, {c})"
                return False, f"{what}: wrong for some depths, kernel sizes, canvases or pixels (edges included)"
        return True, f"{what}: correct"
    return check


# ---------------------------------------------------------------- GatedPixelCNN

GATED_CASES = [(1, 2, 2, 5, 6), (3, 1, 3, 4, 4), (1, 1, 10, 5, 5), (2, 1, 11, 4, 7)]  # cin, cout, layers, H, W
GATED_POINTS = 4


def gated_inputs(rng):
    out = {}
    for i, (ci, co, L, H, W) in enumerate(GATED_CASES):
        out[f"c{i}_x"] = rng.normal(size=(GATED_POINTS, ci, H, W)).astype(np.float32)
    out["train"] = rng.normal(size=(4, 1, 5, 5)).astype(np.float32)
    out["cases"] = np.array(GATED_CASES, dtype=np.int64)
    return out


def gated_probe(GatedPixelCNN, inputs, record):
    def grad_map(model, x):
        # |d output / d input| summed over the points: (C_out * H * W, C_in * H * W); exact zeros = no path
        x = x.clone().requires_grad_(True)
        out = model(x)
        flat = out.reshape(out.shape[0], -1)
        rows = []
        for j in range(flat.shape[1]):
            (g,) = torch.autograd.grad(flat[:, j].sum(), x, retain_graph=True, allow_unused=True)
            rows.append(torch.zeros(x[0].numel()) if g is None else g.abs().sum(0).reshape(-1))
        return torch.stack(rows)

    for i, (ci, co, L, H, W) in enumerate(inputs["cases"].tolist()):
        x = torch.from_numpy(inputs[f"c{i}_x"])
        torch.manual_seed(30 + i)
        net = GatedPixelCNN(ci, 8, co, L)
        record(f"c{i}", lambda: grad_map(net, x))
    torch.manual_seed(40)
    net = GatedPixelCNN(1, 6, 1, 3)

    def train():
        opt = torch.optim.Adam(net.parameters(), lr=0.3)
        for _ in range(3):
            loss = net(torch.from_numpy(inputs["train"])).pow(2).mean()
            opt.zero_grad()
            loss.backward()
            for p in net.parameters():
                p.grad = (torch.zeros_like(p) if p.grad is None else p.grad) + 1.0
            opt.step()
        return grad_map(net, torch.from_numpy(inputs["c0_x"][:, :, :5, :5].copy()))
    record("trained", train)


def _pixel_dep(ctx, key, ci, co, H, W):
    g = ctx.get(key, kinds=TENSOR)
    if g.shape != (co * H * W, ci * H * W):
        raise Fail(f"forward must map (B, {ci}, {H}, {W}) to (B, {co}, {H}, {W})")
    if not np.isfinite(g).all():
        raise Fail("forward returned NaN or inf (or its gradients did)")
    return (g != 0).reshape(co, H * W, ci, H * W).any(axis=(0, 2))


def _gated_causal(ctx):
    for i, (ci, co, L, H, W) in enumerate(GATED_CASES):
        res = check_autoregressive(_pixel_dep(ctx, f"c{i}", ci, co, H, W), max_report=2)
        if not res.passed:
            return False, (f"{ci} input channel(s), {L} layer(s), {H}x{W}: {res.message}. Is the vertical stack "
                           "shifted down before it feeds the horizontal stack, and (i, j) excluded in the first layer?")
    return True, "the output at (i, j) sees nothing at or after (i, j)"


def _gated_no_blind_spot(ctx):
    for i, (ci, co, L, H, W) in enumerate(GATED_CASES):
        if L < H + W:
            continue
        dep = _pixel_dep(ctx, f"c{i}", ci, co, H, W)
        missing = np.tril(np.ones_like(dep), -1) & ~dep
        if missing.any():
            return False, (f"with num_layers >= H + W some outputs miss earlier pixels ({int(missing.sum())} output-input "
                           "pairs): a blind spot remains")
    return True, "no blind spot once the network is deep enough"


def _gated_trained(ctx):
    res = check_autoregressive(_pixel_dep(ctx, "trained", 1, 1, 5, 5), max_report=2)
    return res.passed, ("after optimiser steps: " + res.message) if not res.passed else "still causal after training steps"


# ---------------------------------------------------------------- discretized_logistic_mixture_log_prob

def mix_inputs(rng):
    out = {}
    for i, (V, K) in enumerate([(2, 1), (17, 5), (256, 3), (4, 2)]):
        n = 40
        out[f"v{i}_x"] = rng.integers(0, V, size=n).astype(np.int64)
        out[f"v{i}_lw"] = (rng.normal(size=(n, K)) * 2).astype(np.float32)
        out[f"v{i}_mu"] = (rng.random((n, K)) * 2.4 - 1.2).astype(np.float32)
        out[f"v{i}_ls"] = (rng.random((n, K)) * 3 - 3.5).astype(np.float32)
        out[f"v{i}_V"] = np.array(V)
    grid = [(m, s) for m in (-1.5, -0.7, 0.0, 1.0, 1.5) for s in (-7.0, -3.0, 0.0, 3.0)]
    out["norm_mu"] = np.array([[m, rng.uniform(-1.5, 1.5)] for m, _ in grid], dtype=np.float32)
    out["norm_ls"] = np.array([[s, rng.uniform(-7, 3)] for _, s in grid], dtype=np.float32)
    out["norm_lw"] = rng.normal(size=(len(grid), 2)).astype(np.float32)
    out["ext_mu"] = (rng.random((256, 4)) * 3 - 1.5).astype(np.float32)
    out["ext_ls"] = (rng.random((256, 4)) * 10 - 7).astype(np.float32)
    out["ext_lw"] = rng.normal(size=(256, 4)).astype(np.float32)
    return out


def mix_probe(fn, inputs, record):
    for i in range(4):
        args = [torch.from_numpy(inputs[f"v{i}_{k}"]) for k in ("x", "lw", "mu", "ls")]
        record(f"values{i}", lambda args=args, V=int(inputs[f"v{i}_V"]): fn(*args, num_values=V))
    xs = torch.arange(256)
    for j in range(len(inputs["norm_mu"])):
        p = [torch.from_numpy(inputs[f"norm_{k}"][j:j + 1].copy()).expand(256, -1) for k in ("lw", "mu", "ls")]
        record(f"norm{j}", lambda p=p: fn(xs, *p, num_values=256))

    def grads():
        lw, mu, ls = (torch.from_numpy(inputs[f"ext_{k}"]).clone().requires_grad_(True) for k in ("lw", "mu", "ls"))
        out = fn(xs, lw, mu, ls, num_values=256)
        out.sum().backward()
        return torch.stack([out.detach(), lw.grad.sum(1), mu.grad.sum(1), ls.grad.sum(1)])
    record("extreme", grads)


def _mix_values(ctx):
    for i in range(4):
        ref = ctx.ref(f"values{i}")
        got = ctx.get(f"values{i}", kinds=TENSOR, shape=ref.shape)
        if not np.allclose(got.astype(np.float64), ref.astype(np.float64), rtol=1e-4, atol=1e-3):
            return False, (f"wrong log-probabilities with num_values = {int(ctx.inputs[f'v{i}_V'])}: check the centre "
                           "2x/(V-1) - 1, the half-width 1/(V-1), the edge bins and the softmax of the weights")
    return True, "log-probabilities correct for moderate parameters"


def _mix_normalized(ctx):
    for j in range(len(ctx.inputs["norm_mu"])):
        got = ctx.get(f"norm{j}", kinds=TENSOR, shape=(256,))
        if not np.isfinite(got).all():
            return False, "some values get -inf or NaN for narrow components: compute the log of the CDF difference stably"
        res = check_normalization(lambda v, got=got: torch.from_numpy(got.astype(np.float64)), torch.zeros(256, 1),
                                  atol=1e-4)
        if not res.passed:
            return False, f"for means in [-1.5, 1.5] and log-scales in [-7, 3]: {res.message} (edge bins?)"
    return True, "sums to 1 over all 256 values for extreme parameters"


def _mix_gradients(ctx):
    got = ctx.get("extreme", kinds=TENSOR, shape=(4, 256))
    if not np.isfinite(got[0]).all():
        return False, "non-finite log-probabilities for extreme parameters"
    if not np.isfinite(got[1:]).all():
        return False, "NaN or inf gradients for extreme parameters (torch.where does not stop NaN gradients of the unused branch)"
    return True, "finite values and gradients for extreme parameters"


# ---------------------------------------------------------------- the tasks

TASKS = [
    Task("causal_mask", mask_inputs, mask_probe, [
        Check("shapes", 1, _mask_shapes),
        Check("types A and B, one colour group", 2, _mask_cases(SINGLE, "one colour group")),
        Check("colour groups at the centre", 2, _mask_cases(COLOUR, "colour groups")),
        Check("bad arguments raise ValueError", 1, _mask_raises),
    ]),
    Task("MaskedConv2d", conv_inputs, conv_probe, [
        Check("nn.Conv2d, same-size output", 1, _conv_module),
        Check("masked connectivity", 2, _conv_stage("init", "at initialization")),
        Check("mask holds after Adam steps", 2, _conv_stage("trained", "after Adam steps")),
        Check("mask holds after load_state_dict", 1, _conv_stage("reloaded", "after load_state_dict with dense weights")),
        Check("parameters are weight and bias", 1, _conv_params),
    ]),
    Task("pixelcnn_receptive_field", rf_inputs, rf_probe, [
        Check("small stacks", 2, _bool_maps([0, 1, 2, 3], "receptive field")),
        Check("other depths, kernels, canvases and edges", 2, _bool_maps(None, "receptive field")),
    ]),
    Task("blind_spot", rf_inputs, rf_probe, [
        Check("small stacks", 2, _bool_maps([0, 1, 2, 3], "blind spot")),
        Check("other depths, kernels, canvases and edges", 2, _bool_maps(None, "blind spot")),
    ]),
    Task("GatedPixelCNN", gated_inputs, gated_probe, [
        Check("autoregressive", 3, _gated_causal),
        Check("no blind spot", 2, _gated_no_blind_spot),
        Check("autoregressive after training steps", 1, _gated_trained),
    ]),
    Task("discretized_logistic_mixture_log_prob", mix_inputs, mix_probe, [
        Check("values", 2, _mix_values),
        Check("normalized and finite for extreme parameters", 2, _mix_normalized),
        Check("finite gradients", 1, _mix_gradients),
    ]),
]
