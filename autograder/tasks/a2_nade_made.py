"""Assignment 2 (NADE and MADE): hidden probes and checks for the autograder.

Each task: `*_inputs(rng)` draws the hidden inputs (judge side), `*_probe(target, inputs, record)`
runs in the sandbox and records what the student's code returns, and `Check`s with weights judge
the records against the solution's results and the course's property checks. A task's score is
its nbgrader points times the weighted share of checks passed. In every task the property checks
(formats, normalization, autoregressive structure, call counts) count only after a first check
shows that the code does the work (values against the solution, outputs that depend on earlier
inputs, samples that follow the model): `requires` in the `Check`s. Case tables and the probes'
helpers are shipped to the sandbox through each `Task`'s `constants` and `helpers`. Check messages
say what is wrong without giving hidden inputs or reference values away.
"""
import numpy as np
import torch

from autograder import figures
from autograder.taskapi import Check, Display, Fail, Task, close_to_reference
from course_lib.checks import binary_rows_to_index, check_autoregressive, check_normalization, check_sampler

SEED = 20260202
TENSOR = ("tensor",)


def _all_binary(d):
    return ((np.arange(2 ** d)[:, None] >> np.arange(d - 1, -1, -1)) & 1).astype(np.float64)


# ---------------------------------------------------------------- bernoulli_log_prob


def bernoulli_inputs(rng):
    return {"logits": rng.normal(size=(3, 4, 6)) * 25, "x": (rng.random((3, 4, 6)) < 0.5).astype(np.float64),
            "moderate": rng.normal(size=(3, 4, 6)) * 2,
            "extreme": np.linspace(-100, 100, 33, dtype=np.float32)[None, :] + rng.normal(size=(1, 33)).astype(np.float32)}


def bernoulli_probe(bernoulli_log_prob, inputs, record):
    logits, x = torch.from_numpy(inputs["logits"]), torch.from_numpy(inputs["x"])
    record("moderate", lambda: bernoulli_log_prob(torch.from_numpy(inputs["moderate"]), x))
    record("random", lambda: bernoulli_log_prob(logits, x))
    extreme = torch.from_numpy(inputs["extreme"])
    record("extreme_x0", lambda: bernoulli_log_prob(extreme, torch.zeros_like(extreme)))
    record("extreme_x1", lambda: bernoulli_log_prob(extreme, torch.ones_like(extreme)))
    record("half", lambda: bernoulli_log_prob(torch.zeros(2, 5), torch.ones(2, 5)))


def _bernoulli_reference(l, x):
    return (x * -np.logaddexp(0, -l) + (1 - x) * -np.logaddexp(0, l)).sum(-1)


def _bernoulli_large(ctx):
    got = ctx.get("random", kinds=TENSOR, shape=(3, 4)).astype(np.float64)
    ref = _bernoulli_reference(ctx.inputs["logits"], ctx.inputs["x"])
    if not np.isfinite(got).all():
        return False, ("-inf or NaN for large |logits| (float64): log(1 - sigmoid(l)) underflows when sigmoid(l) "
                       "rounds to 1; use a numerically stable log-sigmoid")
    if not np.allclose(got, ref, rtol=1e-6, atol=1e-6):
        return False, ("right for moderate logits, wrong for large |logits| (float64): do not clamp probabilities "
                       "with an epsilon; use a numerically stable log-sigmoid")
    return True, "log-likelihoods correct for large |logits| (float64)"


def _bernoulli_values(ctx):
    """Values for moderate logits; a wrong answer is told the likeliest cause (a mean, a sign, swapped terms)."""
    got = ctx.get("moderate", kinds=TENSOR)
    if got.shape == (3, 4, 6):
        raise Fail("returned one value per element: sum the log-likelihoods over the last dimension")
    if got.shape != (3, 4):
        raise Fail(f"inputs of shape (3, 4, 6) gave shape {got.shape}; sum over the last dimension only, keeping (3, 4)")
    got = got.astype(np.float64)
    l, x = ctx.inputs["moderate"], ctx.inputs["x"]
    logsig, logsig_neg = -np.logaddexp(0, -l), -np.logaddexp(0, l)
    ref = _bernoulli_reference(l, x)
    close = lambda a, b: np.allclose(a, b, rtol=1e-6, atol=1e-6)
    if close(got, ref):
        return True, "log-likelihoods correct for moderate logits, summed over the last dimension"
    causes = [(close(got, ref / 6), "the values are averages over the last dimension: the log-likelihood of a "
                                    "vector is the sum over its elements"),
              (close(got, -ref), "the sign is flipped: return log-probabilities (at most 0), not their negatives"),
              (close(got, ((1 - x) * logsig + x * logsig_neg).sum(-1)),
               "x and 1 - x are swapped: x = 1 goes with log sigmoid(logit), x = 0 with log sigmoid(-logit)")]
    for found, why in causes:
        if found:
            return False, why
    return False, ("wrong log-likelihoods for moderate logits (float64): x log sigmoid(l) + (1 - x) log sigmoid(-l), "
                   "summed over the last dimension")


def _extremes(ctx):
    for key in ("extreme_x0", "extreme_x1"):
        got = ctx.get(key, kinds=TENSOR, shape=(1,))
        if not np.isfinite(got).all():
            return False, "not finite for |logits| near 100: use a numerically stable log-sigmoid"
        if not np.allclose(got.astype(np.float64), ctx.ref(key).astype(np.float64), rtol=1e-4, atol=1e-3):
            return False, "inaccurate for large |logits| (float32): use a numerically stable log-sigmoid"
    return True, "finite and accurate for |logits| up to 100"


# ---------------------------------------------------------------- nade_log_prob

NADE_CASES = [(1, 3), (7, 7), (12, 3), (25, 16)]
COST_SIZES = (16, 128)   # two values of D at the same H: the running sum's work grows 8 times, not 64
COST_H, COST_B = 64, 2


def nade_inputs(rng):
    out = {}
    for i, (d, h) in enumerate(NADE_CASES):
        out[f"c{i}_W"], out[f"c{i}_V"] = rng.normal(size=(h, d)) * 0.7, rng.normal(size=(d, h)) * 0.7
        out[f"c{i}_b"], out[f"c{i}_c"] = rng.normal(size=d) * 0.7, rng.normal(size=h) * 0.7
        out[f"c{i}_x"] = (rng.random((9, d)) < 0.4).astype(np.float64)
    out["norm_W"], out["norm_V"] = rng.normal(size=(5, 10)), rng.normal(size=(10, 5))
    out["norm_b"], out["norm_c"] = rng.normal(size=10), rng.normal(size=5)
    out["norm_x"] = _all_binary(10)
    big = rng.normal(size=4).astype(np.float32)
    out["big_W"], out["big_V"] = rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=(4, 3)).astype(np.float32)
    out["big_b"], out["big_c"] = np.array([80.0, -80.0, 80.0, -80.0], dtype=np.float32) + big, big[:3]
    out["big_x"] = np.array([[0.0, 1.0, 1.0, 0.0], [1.0, 0.0, 0.0, 1.0]], dtype=np.float32)
    for d in COST_SIZES:
        out[f"cost{d}_W"], out[f"cost{d}_V"] = rng.normal(size=(COST_H, d)) * 0.3, rng.normal(size=(d, COST_H)) * 0.3
        out[f"cost{d}_b"], out[f"cost{d}_c"] = rng.normal(size=d) * 0.3, rng.normal(size=COST_H) * 0.3
        out[f"cost{d}_x"] = (rng.random((COST_B, d)) < 0.5).astype(np.float64)
    return out


def count_work(fn):
    """Run fn() and count the arithmetic of the torch operations it does: multiply-adds for matrix
    products, and for every other operation that computes something (views excluded) the number of
    elements it reads or writes, whichever is larger. A measure of work that does not depend on the
    machine or its load, unlike a time."""
    from torch.utils._python_dispatch import TorchDispatchMode

    products = {"mm": (0, 1), "bmm": (0, 1), "addmm": (1, 2), "baddbmm": (1, 2), "mv": (0, 1), "addmv": (1, 2),
                "dot": (0, 1), "vdot": (0, 1)}
    total = [0]

    def tensors(obj):
        if isinstance(obj, torch.Tensor):
            yield obj
        elif isinstance(obj, (list, tuple)):
            for item in obj:
                yield from tensors(item)

    class Counter(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls):
            # torch wraps a mode's __torch_dispatch__ in torch._disable_dynamo unless the mode says
            # False here, and that wrapper imports torch._dynamo on its first call (about 2.5 CPU s in
            # every sandboxed submission). Nothing is compiled here, so there is nothing to disable.
            return False

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            out = func(*args, **(kwargs or {}))
            if not func.is_view:
                name = func.overloadpacket.__name__
                if name in products:
                    a, b = (args[i] for i in products[name])
                    total[0] += int(a.numel()) * (int(b.shape[-1]) if b.dim() > 1 else 1)
                else:
                    total[0] += max([int(t.numel()) for t in (*tensors(args), *tensors(out))] or [0])
            return out

    with Counter():
        fn()
    return total[0]


def nade_probe(nade_log_prob, inputs, record):
    def call(prefix):
        args = [torch.from_numpy(inputs[f"{prefix}_{k}"]) for k in ("x", "W", "V", "b", "c")]
        return lambda: nade_log_prob(*args)

    for i in range(len(NADE_CASES)):
        record(f"case{i}", call(f"c{i}"))
    record("norm", call("norm"))
    record("big", call("big"))
    for d in COST_SIZES:
        record(f"work{d}", lambda d=d: count_work(call(f"cost{d}")))


def _nade_cost(ctx):
    small, big = (float(ctx.get(f"work{d}", kinds=("python_int",)).reshape(-1)[0]) for d in COST_SIZES)
    if small <= 0 or big <= 0:
        return False, "no torch operations were seen, so the cost could not be measured: compute with torch"
    d1, d2 = COST_SIZES
    growth = np.log(big / small) / np.log(d2 / d1)
    if growth > 1.5:
        return False, (f"the work grows like D^{growth:.1f} (from D = {d1} to D = {d2} at H = {COST_H}), so it is "
                       "O(D^2 H): do not recompute every hidden pre-activation from x_<d; update a running sum "
                       "a_(d+1) = a_d + W[:, d] x_d (a loop or a cumulative sum), which makes it O(DH)")
    return True, f"O(DH): the work grows like D^{growth:.1f} from D = {d1} to D = {d2}"


def _nade_values(ctx):
    wrong = []
    for i, (d, h) in enumerate(NADE_CASES):
        got = ctx.get(f"case{i}", kinds=TENSOR, shape=(9,))
        if not np.allclose(got.astype(np.float64), ctx.ref(f"case{i}"), atol=1e-6, rtol=1e-6):
            wrong.append(f"D={d}, H={h}")
    if wrong and wrong[0] == f"D={NADE_CASES[0][0]}, H={NADE_CASES[0][1]}":
        return False, ("log-likelihoods are wrong already for D = 1: there h_0 = sigmoid(c) must see no input "
                       "(not x_0 itself: compute step d's conditional before adding W[:, d] x_d), and "
                       "p(x_0 = 1) = sigmoid(b_0 + V_0 . h_0)")
    if wrong:
        return False, (f"log-likelihoods differ from the definition for {', '.join(wrong)}; check that h_d "
                       "uses x_<d only (compute step d's conditional before adding W[:, d] x_d)")
    return True, f"log-likelihoods correct for {len(NADE_CASES)} (D, H) cases"


def _nade_normalized(ctx):
    got = ctx.get("norm", kinds=TENSOR, shape=(1024,))
    return check_normalization(lambda v: torch.from_numpy(got.astype(np.float64)), torch.zeros(1024, 1), atol=1e-6)


def _nade_stable(ctx):
    got = ctx.get("big", kinds=TENSOR, shape=(2,))
    if not np.isfinite(got).all():
        return False, "not finite for output biases near +-80: use a stable log-sigmoid"
    if not np.allclose(got.astype(np.float64), ctx.ref("big"), rtol=1e-4, atol=1e-3):
        return False, "inaccurate for output biases near +-80: use a stable log-sigmoid"
    return True, "finite and accurate for large biases"


# ---------------------------------------------------------------- made_masks

MASK_CASES = 5


def masks_inputs(rng):
    out = {}
    for i in range(MASK_CASES):
        d = int(rng.integers(2, 9))
        out[f"c{i}_din"] = (rng.permutation(d) + 1).astype(np.int64)
        sizes = [int(s) for s in rng.integers(1, 10, size=int(rng.integers(1, 4)))]
        out[f"c{i}_nh"] = np.array(len(sizes))
        for l, s in enumerate(sizes):
            out[f"c{i}_h{l}"] = rng.integers(1, max(d, 2), size=s).astype(np.int64)
    return out


def masks_probe(made_masks, inputs, record):
    for i in range(MASK_CASES):
        din = inputs[f"c{i}_din"]
        hid = [inputs[f"c{i}_h{l}"] for l in range(int(inputs[f"c{i}_nh"]))]
        record(f"case{i}", lambda din=din, hid=hid: made_masks(din, hid))
    din, hid = inputs["c0_din"], [inputs[f"c0_h{l}"] for l in range(int(inputs["c0_nh"]))]
    record("as_lists", lambda: made_masks([int(v) for v in din], [[int(v) for v in h] for h in hid]))
    record("as_tensors", lambda: made_masks(torch.from_numpy(din), [torch.from_numpy(h) for h in hid]))


def _mask_list(ctx, key):
    items = ctx.items(key)
    ref_n = len([k for k in ctx._ref_arrays if k.startswith(key + "/")])
    if len(items) != ref_n:
        raise Fail(f"returned {len(items)} masks for {ref_n - 1} hidden layer(s); expected one per hidden layer plus the output mask")
    masks = []
    for i, k in enumerate(items):
        ref = ctx.ref(k)
        got = ctx.get(k, kinds=TENSOR)
        if got.shape != ref.shape:
            raise Fail(f"mask {i} has shape {got.shape}; it must be shaped like the nn.Linear weight "
                       "(out_features, in_features)")
        if not np.isin(got, (0, 1)).all():
            raise Fail(f"mask {i} has entries other than 0 and 1")
        masks.append((got.astype(np.float64), ref.astype(np.float64)))
    return masks


def _masks_shapes(ctx):
    for i in range(MASK_CASES):
        for k in ctx.items(f"case{i}"):
            if ctx.meta(k).get("dtype") not in ("float32", "float64", "float16"):
                return False, f"masks of dtype {ctx.meta(k).get('dtype')}; return float tensors of 0/1"
        _mask_list(ctx, f"case{i}")
    return True, "one float mask per layer, each shaped like its nn.Linear weight"


def _masks_hidden(ctx):
    for i in range(MASK_CASES):
        for got, ref in _mask_list(ctx, f"case{i}")[:-1]:
            if not np.array_equal(got, ref):
                return False, "a hidden-layer mask is wrong: M[k, j] = 1 iff m_l(k) >= m_(l-1)(j)"
    return True, "hidden-layer masks correct"


def _masks_output(ctx):
    for i in range(MASK_CASES):
        got, ref = _mask_list(ctx, f"case{i}")[-1]
        if not np.array_equal(got, ref):
            return False, "the output mask is wrong: M[d, k] = 1 iff input_degrees[d] > m_L(k) (strict)"
    return True, "output masks correct (strict inequality)"


def _masks_types(ctx):
    base = _mask_list(ctx, "case0")
    for key in ("as_lists", "as_tensors"):
        other = _mask_list(ctx, key)
        if any(not np.array_equal(a[0], b[0]) for a, b in zip(base, other)):
            return False, f"different masks when the degrees are given as {key[3:]}"
    return True, "accepts numpy arrays, lists and tensors alike"


# ---------------------------------------------------------------- MADE

# (D, hidden sizes, ordering): every hidden layer at least D - 1 wide, so every output must see every
# earlier input
MADE_CASES = [(5, [10], "natural"), (7, [14, 14], "perm"), (9, [9], "perm"), (6, [5, 5], "perm")]
N_POINTS = 6


def made_inputs(rng):
    out = {}
    for i, (d, _, kind) in enumerate(MADE_CASES):
        out[f"c{i}_order"] = np.arange(d) if kind == "natural" else rng.permutation(d)
        out[f"c{i}_x"] = rng.normal(size=(N_POINTS, d)).astype(np.float32)
        out[f"c{i}_xpos"] = (rng.random((N_POINTS, d)) + 0.1).astype(np.float32)
        out[f"c{i}_delta"] = (rng.random(d) + 0.5).astype(np.float32)
        out[f"c{i}_train"] = rng.normal(size=(16, d)).astype(np.float32)
    return out


def perturbed(model, x, delta):
    """The outputs at the base points, then at the points with input i moved, one batch of the same shape each."""
    outs = [model(x)]
    for i in range(x.shape[1]):
        xi = x.clone()
        xi[:, i] = xi[:, i] + delta[i]
        outs.append(model(xi))
    return torch.cat(outs)


def adam_step(params, state, lr, weight_decay, betas=(0.9, 0.999), eps=1e-8):
    """One step of Adam with L2 weight decay, as torch's Adam computes it on the CPU (its single-tensor
    update: the same operations in the same order, so the same numbers). Written out because building
    one of torch's optimizers imports torch._dynamo, about 2.5 CPU s in every sandboxed submission.
    `state` (a dict, empty at first) holds each parameter's step count and moments."""
    beta1, beta2 = betas
    with torch.no_grad():
        for i, p in enumerate(params):
            if p.grad is None:
                continue
            if i not in state:
                state[i] = [0.0, torch.zeros_like(p, memory_format=torch.preserve_format),
                            torch.zeros_like(p, memory_format=torch.preserve_format)]
            st = state[i]
            st[0] += 1.0
            grad = p.grad.add(p, alpha=weight_decay) if weight_decay != 0 else p.grad
            st[1].lerp_(grad, 1 - beta1)
            st[2].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
            step_size = lr / (1 - beta1 ** st[0])
            denom = (st[2].sqrt() / (1 - beta2 ** st[0]) ** 0.5).add_(eps)
            p.addcdiv_(st[1], denom, value=-step_size)


def made_probe(MADE, inputs, record):
    torch.manual_seed(0)
    for i, (d, hidden, kind) in enumerate(MADE_CASES):
        natural = kind == "natural"
        order = [int(v) for v in inputs[f"c{i}_order"]]
        delta = torch.from_numpy(inputs[f"c{i}_delta"])
        x, xpos = torch.from_numpy(inputs[f"c{i}_x"]), torch.from_numpy(inputs[f"c{i}_xpos"])
        torch.manual_seed(100 + i)
        model = MADE(d, hidden) if natural else MADE(d, hidden, ordering=order)
        record(f"c{i}_is_module", lambda: isinstance(model, torch.nn.Module))
        record(f"c{i}_nparams", lambda: sum(int(p.numel()) for p in model.parameters()))
        with torch.no_grad():
            record(f"c{i}_init", lambda: perturbed(model, x, delta))
        # training steps whose gradients touch every weight (as momentum or weight decay would)
        def train():
            params, state = list(model.parameters()), {}
            for _ in range(3):
                loss = model(torch.from_numpy(inputs[f"c{i}_train"])).pow(2).mean()
                for p in params:
                    p.grad = None
                loss.backward()
                for p in model.parameters():
                    p.grad = p.grad + 0.1
                adam_step(params, state, lr=0.1, weight_decay=0.1)
            with torch.no_grad():
                return perturbed(model, x, delta)
        record(f"c{i}_trained", train)

        def live():
            # positive weights and inputs keep every ReLU active: every allowed connection shows
            with torch.no_grad():
                for p in model.parameters():
                    p.copy_(p.abs() + 0.1)
                return perturbed(model, xpos, delta)
        record(f"c{i}_live", live)

        def reload():
            params = dict(model.named_parameters())
            state = {k: (torch.ones_like(v) if k in params else v) for k, v in model.state_dict().items()}
            torch.manual_seed(200 + i)
            fresh = MADE(d, hidden) if natural else MADE(d, hidden, ordering=order)
            fresh.load_state_dict(state)
            with torch.no_grad():
                return perturbed(fresh, xpos, delta)
        record(f"c{i}_reloaded", reload)


def _dep_from(out: np.ndarray, d: int) -> np.ndarray:
    """Dependency map (outputs x inputs) from outputs at base points and at points with one input moved."""
    if out.shape != ((d + 1) * N_POINTS, d):
        raise Fail(f"forward of a batch of shape (B, {d}) returned shape {out.shape}; expected (B, {d}) logits")
    if not np.isfinite(out).all():
        raise Fail("forward returned NaN or inf")
    base = out[:N_POINTS].astype(np.float64)
    dep = np.zeros((d, d), dtype=bool)
    for i in range(d):
        moved = np.abs(out[(i + 1) * N_POINTS:(i + 2) * N_POINTS].astype(np.float64) - base) > 1e-6 * (1 + np.abs(base))
        dep[:, i] = moved.any(axis=0)
    return dep


def _made_ar(stage, when):
    def fn(ctx):
        for i, (d, hidden, _) in enumerate(MADE_CASES):
            dep = _dep_from(ctx.get(f"c{i}_{stage}", kinds=TENSOR), d)
            res = check_autoregressive(dep, ctx.inputs[f"c{i}_order"], max_report=2)
            if not res.passed:   # count only: which pairs would give the hidden ordering away
                return False, (f"D={d}, hidden {hidden}, {when}: {len(res.violations)} output(s) depend on inputs "
                               "that are not earlier in the ordering")
        return True, f"autoregressive for every ordering tried, {when}"
    return fn


def _live_maps(ctx):
    """Per case: (dependency map with every weight positive, the allowed map of its ordering)."""
    out = []
    for i, (d, hidden, _) in enumerate(MADE_CASES):
        dep = _dep_from(ctx.get(f"c{i}_live", kinds=TENSOR), d)
        pos = np.empty(d, dtype=np.int64)
        pos[ctx.inputs[f"c{i}_order"]] = np.arange(d)
        out.append((d, hidden, dep, pos[None, :] < pos[:, None]))
    return out


def _made_depends(ctx):
    for d, hidden, dep, allowed in _live_maps(ctx):
        if (dep & allowed).sum() < 0.5 * allowed.sum():
            return False, (f"D={d}, hidden {hidden}: with every weight positive, the outputs depend on fewer than half "
                           "of the earlier inputs they may see (does forward use its input?)")
    return True, "the outputs depend on earlier inputs"


def _made_fully_connected(ctx):
    for d, hidden, dep, allowed in _live_maps(ctx):
        missing = int((allowed & ~dep).sum())
        if missing:
            return False, (f"D={d}, hidden {hidden}: {missing} (output, earlier input) pair(s) without a connection "
                           "although every hidden layer is at least D - 1 wide: every value 1..D-1 must appear among "
                           "the degrees of every hidden layer (degrees 0..D-2 leave the last output without the input "
                           "just before it)")
    return True, "every output sees every earlier input (hidden layers at least D - 1 wide)"


def _made_module(ctx):
    for i, (d, hidden, _) in enumerate(MADE_CASES):
        if not bool(ctx.get(f"c{i}_is_module")):
            return False, "MADE must be a torch.nn.Module"
        _dep_from(ctx.get(f"c{i}_init", kinds=TENSOR), d)
    return True, "an nn.Module mapping (B, D) to logits (B, D)"


def _made_params(ctx):
    for i, (d, hidden, _) in enumerate(MADE_CASES):
        sizes = [d] + hidden + [d]
        expected = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
        got = int(ctx.get(f"c{i}_nparams"))
        if got != expected:
            return False, (f"parameters() holds {got} numbers for D={d}, hidden {hidden}; expected {expected} "
                           "(weights and biases only: register masks as buffers)")
    return True, "parameters() holds exactly the weights and biases"


# ---------------------------------------------------------------- autoregressive_sample

SAMPLER_CASES = 3
SAMPLER_D = 5


def sampler_inputs(rng):
    out = {}
    orders = [rng.permutation(SAMPLER_D), rng.permutation(SAMPLER_D), np.arange(SAMPLER_D)]
    for i, order in enumerate(orders):
        pos = np.empty(SAMPLER_D, dtype=np.int64)
        pos[order] = np.arange(SAMPLER_D)
        out[f"c{i}_order"] = order.astype(np.int64)
        out[f"c{i}_W"] = (rng.normal(size=(SAMPLER_D, SAMPLER_D)) * 2.5 * (pos[None, :] < pos[:, None])).astype(np.float32)
        out[f"c{i}_b"] = rng.normal(size=SAMPLER_D).astype(np.float32)
        out[f"c{i}_seed"] = np.array(int(rng.integers(0, 2**31)))
    return out


def sampler_probe(autoregressive_sample, inputs, record):
    for i in range(SAMPLER_CASES):
        W, b = torch.from_numpy(inputs[f"c{i}_W"]), torch.from_numpy(inputs[f"c{i}_b"])
        calls = [0]

        def logits_fn(x, W=W, b=b, calls=calls):
            calls[0] += 1
            return x.float() @ W.T + b

        order = None if i == SAMPLER_CASES - 1 else [int(v) for v in inputs[f"c{i}_order"]]
        gen = torch.Generator().manual_seed(int(inputs[f"c{i}_seed"]))
        record(f"c{i}_samples", lambda: autoregressive_sample(logits_fn, 20000, SAMPLER_D, order, gen))
        record(f"c{i}_calls", calls[0])
    W, b = torch.from_numpy(inputs["c0_W"]), torch.from_numpy(inputs["c0_b"])
    order = [int(v) for v in inputs["c0_order"]]
    fn = lambda x: x.float() @ W.T + b
    torch.manual_seed(1)
    record("same_a", lambda: autoregressive_sample(fn, 300, SAMPLER_D, order, torch.Generator().manual_seed(7)))
    torch.manual_seed(2)
    record("same_b", lambda: autoregressive_sample(fn, 300, SAMPLER_D, order, torch.Generator().manual_seed(7)))
    record("other", lambda: autoregressive_sample(fn, 300, SAMPLER_D, order, torch.Generator().manual_seed(8)))


def _exact_probs(W, b):
    support = _all_binary(SAMPLER_D)
    logits = support @ W.astype(np.float64).T + b.astype(np.float64)
    logp = -(support * np.logaddexp(0, -logits) + (1 - support) * np.logaddexp(0, logits)).sum(1)
    return np.exp(logp)


def _samples(ctx, key, n):
    s = ctx.get(key, kinds=TENSOR, shape=(n, SAMPLER_D))
    if s.dtype.kind != "f":
        raise Fail(f"samples have dtype {ctx.meta(key).get('dtype')}; expected a float tensor of 0/1")
    if not np.isin(s, (0.0, 1.0)).all():
        raise Fail("samples must be 0 or 1")
    return s


def _sampler_format(ctx):
    for i in range(SAMPLER_CASES):
        _samples(ctx, f"c{i}_samples", 20000)
    return True, "float tensors of 0/1 of shape (num_samples, num_inputs)"


def _sampler_calls(ctx):
    for i in range(SAMPLER_CASES):
        calls = int(ctx.get(f"c{i}_calls"))
        if calls != SAMPLER_D:
            return False, f"logits_fn was called {calls} times for num_inputs = {SAMPLER_D}; call it exactly once per input"
    return True, "logits_fn called exactly num_inputs times"


def _sampler_matches(cases, what):
    def fn(ctx):
        for i in cases:
            s = _samples(ctx, f"c{i}_samples", 20000)
            probs = _exact_probs(ctx.inputs[f"c{i}_W"], ctx.inputs[f"c{i}_b"])
            res = check_sampler(binary_rows_to_index(s), probs)
            if not res.passed:
                return False, f"{what}: {res.message}; draw x[:, d] for d in the ordering, each from the logits of the current x"
        return True, f"{what}: samples follow the model's distribution"
    return fn


def _sampler_generator(ctx):
    a, b, c = (_samples(ctx, k, 300) for k in ("same_a", "same_b", "other"))
    if not np.array_equal(a, b):
        return False, "the same generator seed gave different samples: draw randomness only from `generator`"
    if np.array_equal(a, c):
        return False, "different generator seeds gave identical samples: use `generator` for the random draws"
    return True, "randomness comes from the generator only"


# ---------------------------------------------------------------- figures on public display inputs
# Display inputs are drawn from a generator seeded by the task's name (grade.display_inputs): public,
# the same for everyone. Each probe records little; the figures compare with the reference's results.


def _bits(d):
    return ["".join(str(int(v)) for v in row) for row in _all_binary(d)]


def bernoulli_display_inputs(rng):
    return {"logits": np.linspace(-30.0, 30.0, 13)}


def bernoulli_display_probe(bernoulli_log_prob, inputs, record):
    l = torch.from_numpy(inputs["logits"])[:, None]
    record("ones", lambda: bernoulli_log_prob(l, torch.ones_like(l)))    # plain words: a key may reach a message
    record("zeros", lambda: bernoulli_log_prob(l, torch.zeros_like(l)))


def _bernoulli_figure(ctx):
    got = [ctx.get(k, kinds=TENSOR, shape=ctx.ref(k).shape) for k in ("ones", "zeros")]
    labels = [f"x={x}, l={v:g}" for x in (1, 0) for v in ctx.inputs["logits"]]
    return figures.values("log p(x | logit) for one dimension", np.concatenate(got),
                          np.concatenate([ctx.ref("ones"), ctx.ref("zeros")]), labels, "x and logit l", "log-likelihood (nats)")


NADE_DISPLAY_D, NADE_DISPLAY_H = 4, 3


def nade_display_inputs(rng):
    d, h = NADE_DISPLAY_D, NADE_DISPLAY_H
    return {"x": _all_binary(d), "W": rng.normal(size=(h, d)), "V": rng.normal(size=(d, h)),
            "b": rng.normal(size=d), "c": rng.normal(size=h)}


def nade_display_probe(nade_log_prob, inputs, record):
    record("logp", lambda: nade_log_prob(*[torch.from_numpy(inputs[k]) for k in ("x", "W", "V", "b", "c")]))


def _nade_figure(ctx):
    got = ctx.get("logp", kinds=TENSOR, shape=ctx.ref("logp").shape)
    return figures.values(f"log p(x) for every x in {{0,1}}^{NADE_DISPLAY_D}", got, ctx.ref("logp"),
                          _bits(NADE_DISPLAY_D), "x", "log-likelihood (nats)")


MASK_DISPLAY = {"din": [3, 1, 5, 2, 4], "hidden": [[1, 2, 3, 4, 2, 3], [1, 1, 2, 3, 4, 4]]}


def masks_display_inputs(rng):
    return {"din": np.array(MASK_DISPLAY["din"], dtype=np.int64),
            **{f"h{l}": np.array(h, dtype=np.int64) for l, h in enumerate(MASK_DISPLAY["hidden"])}}


def masks_display_probe(made_masks, inputs, record):
    record("masks", lambda: made_masks(inputs["din"], [inputs["h0"], inputs["h1"]]))


def _connectivity(masks):
    """Which output sees which input through the masked layers: the product of the masks."""
    reach = masks[0]
    for m in masks[1:]:
        reach = m @ reach
    return reach > 0


def _by_degree(dep, degrees):
    """Rows and columns in the order of the degrees, so the allowed map is strictly lower triangular."""
    order = np.argsort(degrees, kind="stable")
    return dep[np.ix_(order, order)], order


def _masks_figure(ctx):
    masks = _mask_list(ctx, "masks")
    got, ref = _connectivity([m for m, _ in masks]), _connectivity([r for _, r in masks])
    din = ctx.inputs["din"]
    got, order = _by_degree(got, din)
    ref, _ = _by_degree(ref, din)
    fig = figures.dependency("which output sees which input through your masks (sorted by input degree)",
                             got, ref, xlabel="input x_j (sorted by degree)", ylabel="output d (sorted by degree)")
    fig["order"] = [int(v) for v in order]
    return fig


MADE_DISPLAY = (6, [12])


def made_display_inputs(rng):
    d = MADE_DISPLAY[0]
    return {"order": rng.permutation(d), "x": (rng.random((N_POINTS, d)) + 0.1).astype(np.float32),
            "delta": (rng.random(d) + 0.5).astype(np.float32)}


def made_display_probe(MADE, inputs, record):
    d, hidden = MADE_DISPLAY
    torch.manual_seed(0)
    model = MADE(d, hidden, ordering=[int(v) for v in inputs["order"]])
    with torch.no_grad():
        for p in model.parameters():    # positive weights keep every ReLU active: every allowed connection shows
            p.copy_(p.abs() + 0.1)
        record("live", lambda: perturbed(model, torch.from_numpy(inputs["x"]), torch.from_numpy(inputs["delta"])))


def _made_figure(ctx):
    d = MADE_DISPLAY[0]
    got = _dep_from(ctx.get("live", kinds=TENSOR), d)
    ref = _dep_from(ctx.ref("live"), d)
    pos = np.empty(d, dtype=np.int64)
    pos[ctx.inputs["order"]] = np.arange(d)
    got, order = _by_degree(got, pos)
    ref, _ = _by_degree(ref, pos)
    fig = figures.dependency(f"MADE(D={d}, hidden {MADE_DISPLAY[1]}), every weight positive: which logit moves "
                             "with which input", got, ref, xlabel="input x_j (in the ordering's order)",
                             ylabel="logit d (in the ordering's order)")
    fig["order"] = [int(v) for v in order]
    return fig


def sampler_display_inputs(rng):
    pos = np.arange(SAMPLER_D)
    order = rng.permutation(SAMPLER_D)
    pos[order] = np.arange(SAMPLER_D)
    return {"order": order.astype(np.int64),
            "W": (rng.normal(size=(SAMPLER_D, SAMPLER_D)) * 2.0 * (pos[None, :] < pos[:, None])).astype(np.float32),
            "b": rng.normal(size=SAMPLER_D).astype(np.float32)}


def sampler_display_probe(autoregressive_sample, inputs, record):
    W, b = torch.from_numpy(inputs["W"]), torch.from_numpy(inputs["b"])
    gen = torch.Generator().manual_seed(0)
    record("samples", lambda: autoregressive_sample(lambda x: x.float() @ W.T + b, 4000, SAMPLER_D,
                                                    [int(v) for v in inputs["order"]], gen))


def _sampler_figure(ctx):
    s = _samples(ctx, "samples", 4000)
    return figures.sampler(f"4000 samples of a {SAMPLER_D}-dimensional model against its exact probabilities",
                           binary_rows_to_index(s), _exact_probs(ctx.inputs["W"], ctx.inputs["b"]), _bits(SAMPLER_D))


# ---------------------------------------------------------------- the tasks

BERN_VALUES = "values for moderate logits (float64)"
NADE_VALUES = "values against the definition"
MASK_HIDDEN, MASK_OUTPUT = "hidden masks (>=)", "output mask (strict >)"
MADE_DEPENDS, MADE_AR = "outputs depend on earlier inputs", "autoregressive at initialization"
SAMPLER_FOLLOWS = "agrees with the model for random orderings"

TASKS = [
    Task("bernoulli_log_prob", bernoulli_inputs, bernoulli_probe, [
        Check(BERN_VALUES, 2, _bernoulli_values),
        Check("values for large |logits| (float64)", 1, _bernoulli_large, requires=(BERN_VALUES,)),
        Check("stable for |logits| up to 100", 2, _extremes, requires=(BERN_VALUES,)),
        Check("logit 0 means probability 1/2", 1,
              close_to_reference("half", kinds=TENSOR, rtol=1e-5, atol=1e-5, what="log-likelihoods at logit 0"),
              requires=(BERN_VALUES,)),
    ], display=Display(bernoulli_display_inputs, bernoulli_display_probe,
                       [("your log-likelihoods against the reference's", _bernoulli_figure)])),
    Task("nade_log_prob", nade_inputs, nade_probe, [
        Check(NADE_VALUES, 3, _nade_values),
        Check("normalized over {0,1}^10", 2, _nade_normalized, requires=(NADE_VALUES,)),
        Check("stable for large biases", 1, _nade_stable, requires=(NADE_VALUES,)),
        Check("O(DH) work (running sum)", 2, _nade_cost, requires=(NADE_VALUES,)),
    ], helpers=(count_work,), constants={"NADE_CASES": NADE_CASES, "COST_SIZES": COST_SIZES},
       display=Display(nade_display_inputs, nade_display_probe,
                       [("your log-likelihoods against the reference's", _nade_figure)])),
    Task("made_masks", masks_inputs, masks_probe, [
        Check(MASK_HIDDEN, 2, _masks_hidden),
        Check(MASK_OUTPUT, 2, _masks_output),
        Check("number, shapes and dtype of masks", 1, _masks_shapes, requires=(MASK_HIDDEN,)),
        Check("degrees as lists or tensors", 1, _masks_types, requires=(MASK_HIDDEN, MASK_OUTPUT)),
    ], constants={"MASK_CASES": MASK_CASES},
       display=Display(masks_display_inputs, masks_display_probe,
                       [("dependency map of your masks", _masks_figure)])),
    Task("MADE", made_inputs, made_probe, [
        Check(MADE_DEPENDS, 1, _made_depends),
        Check(MADE_AR, 2, _made_ar("init", "at initialization"), requires=(MADE_DEPENDS,)),
        Check("every output sees every earlier input", 1, _made_fully_connected, requires=(MADE_DEPENDS, MADE_AR)),
        Check("autoregressive after Adam steps", 2, _made_ar("trained", "after Adam steps"), requires=(MADE_AR,)),
        Check("autoregressive after load_state_dict", 1,
              _made_ar("reloaded", "after load_state_dict with dense weights"), requires=(MADE_AR,)),
        Check("nn.Module with logits (B, D)", 1, _made_module, requires=(MADE_AR,)),
        Check("parameters are weights and biases", 1, _made_params, requires=(MADE_AR,)),
    ], helpers=(perturbed, adam_step), constants={"MADE_CASES": MADE_CASES},
       display=Display(made_display_inputs, made_display_probe, [("dependency map of your MADE", _made_figure)],
                       constants={"MADE_DISPLAY": MADE_DISPLAY, "N_POINTS": N_POINTS})),
    Task("autoregressive_sample", sampler_inputs, sampler_probe, [
        Check(SAMPLER_FOLLOWS, 3, _sampler_matches([0, 1], "random orderings")),
        Check("format", 1, _sampler_format, requires=(SAMPLER_FOLLOWS,)),
        Check("calls logits_fn num_inputs times", 1, _sampler_calls, requires=(SAMPLER_FOLLOWS,)),
        Check("ordering None is the natural order", 1, _sampler_matches([2], "ordering None"),
              requires=(SAMPLER_FOLLOWS,)),
        Check("uses only the generator", 1, _sampler_generator, requires=(SAMPLER_FOLLOWS,)),
    ], constants={"SAMPLER_CASES": SAMPLER_CASES, "SAMPLER_D": SAMPLER_D},
       display=Display(sampler_display_inputs, sampler_display_probe,
                       [("your samples against the exact probabilities", _sampler_figure)])),
]
