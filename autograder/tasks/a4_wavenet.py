"""Assignment 4 (WaveNet): hidden probes and checks for the autograder.

Each task: `*_inputs(rng)` draws the hidden inputs (judge side), `*_probe(target, inputs, record)`
runs in the sandbox and records what the student's code returns, and `Check`s with weights judge
the records against the solution's results and the course's property checks (dependency maps,
sampler agreement, counted work). In every task the first check shows that the code does the work
(values against the solution's on hidden inputs, outputs that depend on the input and on the
weights, samples that follow the model); the property checks are judged only after it passed
(`requires`), so that a do-nothing answer earns nothing. Case tables travel to the probe as
`constants`, shared helpers as `helpers`. Check messages say what is wrong without giving hidden
inputs or reference values away.
"""
import numpy as np
import torch

from autograder import figures
from autograder.taskapi import Check, Display, Fail, Task, close_to_reference, equal_to_reference
from course_lib.checks import check_sampler

SEED = 20260409
TENSOR = ("tensor",)

# ---------------------------------------------------------------- mu_law_encode

ENCODE_MUS = [255, 15, 9, 5]
ENCODE_VALUES = "codes for mu = 255"


def encode_inputs(rng):
    out = {}
    for mu in ENCODE_MUS:
        x = rng.uniform(-1, 1, size=(3, 40))
        x[0, :5] = [-1.0, 0.0, 1.0, 1e-7, -1e-7]          # ends, zero (a half-way value for mu = 5, 9)
        out[f"x{mu}"] = x
    out["x32"] = rng.uniform(-1, 1, size=(64,)).astype(np.float32)
    return out


def encode_probe(mu_law_encode, inputs, record):
    for mu in ENCODE_MUS:
        x = torch.from_numpy(inputs[f"x{mu}"])
        if mu == 255:
            record("mu255", lambda: mu_law_encode(x))      # the default mu
        else:
            record(f"mu{mu}", lambda x=x, mu=mu: mu_law_encode(x, mu=mu))
    record("float32", lambda: mu_law_encode(torch.from_numpy(inputs["x32"])))


def _encode_format(ctx):
    got = ctx.get("mu255", kinds=TENSOR, dtype="int64", shape=(3, 40))
    if got.min() < 0 or got.max() > 255:
        return False, "codes must lie in 0..mu"
    f32 = ctx.get("float32", kinds=TENSOR, dtype="int64", shape=(64,))
    if f32.min() < 0 or f32.max() > 255:
        return False, "float32 input gave codes outside 0..255"
    return True, "int64 codes of the input's shape, in 0..mu, for float64 and float32 input"


def _encode_ends(ctx):
    for mu in ENCODE_MUS:
        got = ctx.get(f"mu{mu}", kinds=TENSOR, shape=(3, 40))
        if int(got[0, 0]) != 0 or int(got[0, 2]) != mu:
            return False, "x = -1 must give code 0 and x = 1 code mu"
        if int(got[0, 1]) != int(np.floor(mu / 2 + 0.5)):
            return False, "x = 0 must give code floor(mu / 2 + 0.5)"
    return True, "-1, 0 and 1 give 0, floor(mu / 2 + 0.5) and mu"


def _encode_other_mu(ctx):
    for mu in ENCODE_MUS[1:]:
        ref = ctx.ref(f"mu{mu}")
        got = ctx.get(f"mu{mu}", kinds=TENSOR, shape=ref.shape)
        if not np.array_equal(got, ref):
            return False, f"the codes are wrong at {int((got != ref).sum())} of {ref.size} entries for some mu other than 255"
    return True, "the codes are correct for other values of mu"


def _encode_halves(ctx):
    for mu in (5, 9):
        got = ctx.get(f"mu{mu}", kinds=TENSOR, shape=(3, 40))
        if int(got[0, 1]) != (mu + 1) // 2:
            return False, "half-way values must round up: use floor(v + 0.5), not round() (which rounds halves to even)"
    return True, "half-way values round up"


# ---------------------------------------------------------------- mu_law_decode

DECODE_MUS = [255, 15, 1023]
DECODE_VALUES = "values for mu = 255"


def decode_inputs(rng):
    return {f"q{mu}": rng.permutation(np.arange(mu + 1)).astype(np.int64) for mu in DECODE_MUS}


def decode_probe(mu_law_decode, inputs, record):
    record("mu255", lambda: mu_law_decode(torch.from_numpy(inputs["q255"])))
    for mu in DECODE_MUS[1:]:
        record(f"mu{mu}", lambda mu=mu: mu_law_decode(torch.from_numpy(inputs[f"q{mu}"]), mu=mu))
    record("grid", lambda: mu_law_decode(torch.from_numpy(inputs["q255"]).reshape(4, 64)))


def _decode_other_mu(ctx):
    for mu in DECODE_MUS[1:]:
        ref = ctx.ref(f"mu{mu}")
        got = ctx.get(f"mu{mu}", kinds=TENSOR, shape=ref.shape).astype(np.float64)
        if not np.allclose(got, ref.astype(np.float64), rtol=1e-5, atol=1e-6):
            return False, "the decoded values are wrong for some mu other than 255 (use the mu argument)"
    return True, "the decoded values are correct for other values of mu"


def _decode_round_trip(ctx):
    for mu in DECODE_MUS:
        q = ctx.inputs[f"q{mu}"]
        x = ctx.get(f"mu{mu}", kinds=TENSOR, shape=q.shape).astype(np.float64)
        f = np.sign(x) * np.log1p(mu * np.abs(np.clip(x, -1, 1))) / np.log1p(mu)
        back = np.floor((f + 1) / 2 * mu + 0.5)
        if not np.array_equal(back, q):
            return False, (f"encoding the decoded values does not give the codes back (for {int((back != q).sum())} "
                           "codes): decoding must invert the companding, x = sign(f) ((1 + mu)^|f| - 1) / mu")
    return True, "encoding the decoded values gives every code back"


def _decode_float(ctx):
    got = ctx.get("mu255", kinds=TENSOR, shape=(256,))
    if got.dtype.kind != "f":
        return False, "return a floating-point tensor"
    ctx.get("grid", kinds=TENSOR, shape=(4, 64))
    return True, "a float tensor of the input's shape"


# ---------------------------------------------------------------- receptive_field_size

RF_CASES = [(2, [1]), (2, [1, 1, 1]), (2, [1, 2, 4, 8] * 3), (3, [1, 2]), (5, [3, 1]), (4, [1, 2, 4, 8, 16])]
RF_VALUES = "kernel size 2"


def rf_inputs(rng):
    return {"perm": rng.permutation(len(RF_CASES)).astype(np.int64)}


def rf_probe(receptive_field_size, inputs, record):
    for i in inputs["perm"]:
        k, d = RF_CASES[int(i)]
        record(f"case{int(i)}", lambda k=k, d=d: receptive_field_size(k, list(d)))
    record("tuple", lambda: receptive_field_size(2, (1, 2, 4)))


def _rf_values(which, what):
    def fn(ctx):
        for i in which:
            got = ctx.get(f"case{i}", kinds=("python_int", "numpy_scalar", "tensor"))
            if got.size != 1 or int(np.asarray(got).reshape(-1)[0]) != int(ctx.ref(f"case{i}").reshape(-1)[0]):
                return False, f"wrong receptive field for {what}: it is (k - 1) * sum(dilations) + 1"
        return True, f"correct for {what}"
    return fn


def _rf_int(ctx):
    got = ctx.get("tuple", kinds=("python_int",))
    if int(got) != 8:
        return False, "wrong value when the dilations come as a tuple"
    return True, "a Python int, for dilations in a list or a tuple"


# ---------------------------------------------------------------- CausalConv1d

CONV_CASES = [(2, 1, 10), (2, 4, 16), (3, 2, 14), (4, 3, 20), (1, 1, 8), (1, 3, 8)]  # (kernel, dilation, T)
CONV_POINTS = 3
CONV_GATE = "computes from its input and its weights"


def conv_inputs(rng):
    return {f"c{i}_x": rng.normal(size=(CONV_POINTS, 3, t)) for i, (_, _, t) in enumerate(CONV_CASES)}


def conv_perturbed(module, x):
    """module(x), then module(x with every channel of step t moved by 1) for each t, stacked."""
    with torch.no_grad():
        outs = [module(x)]
        for t in range(x.shape[-1]):
            xt = x.clone()
            xt[:, :, t] += 1.0
            outs.append(module(xt))
        return torch.stack(outs)


def conv_probe(CausalConv1d, inputs, record):
    for i, (k, d, T) in enumerate(CONV_CASES):
        torch.manual_seed(10 + i)
        convs = []
        record(f"c{i}_init", lambda k=k, d=d: convs.append(CausalConv1d(3, 2, k, dilation=d).double()) or True)
        if not convs:
            continue
        conv, x = convs[0], torch.from_numpy(inputs[f"c{i}_x"])
        record(f"c{i}_module", lambda conv=conv: isinstance(conv, torch.nn.Module)
               and sum(int(p.numel()) for p in conv.parameters()) > 0)
        record(f"c{i}_out", lambda conv=conv, x=x: conv_perturbed(conv, x))

        def reweighted(conv=conv, x=x, i=i):   # every learnable weight moved: the output must change
            g = torch.Generator().manual_seed(100 + i)
            with torch.no_grad():
                for p in conv.parameters():
                    p.add_(torch.randn(p.shape, generator=g, dtype=p.dtype))
                return conv(x)
        record(f"c{i}_reweighted", reweighted)


def _conv_dep(ctx, i):
    k, d, T = CONV_CASES[i]
    ctx.meta(f"c{i}_init")
    out = ctx.get(f"c{i}_out", kinds=TENSOR)
    if out.shape != (T + 1, CONV_POINTS, 2, T):
        raise Fail(f"(B, 3, {T}) with kernel {k}, dilation {d} gave outputs of shape {out.shape[1:]}; expected "
                   f"(B, 2, {T}): pad (k - 1) * d zeros on the left so the length stays T")
    if not np.isfinite(out).all():
        raise Fail(f"kernel {k}, dilation {d}: the output has NaN or inf values")
    base = out[0].astype(np.float64)
    dep = np.zeros((T, T), dtype=bool)
    for t in range(T):
        moved = np.abs(out[t + 1].astype(np.float64) - base) > 1e-9 * (1 + np.abs(base))
        dep[:, t] = moved.any(axis=(0, 1))
    expected = np.zeros((T, T), dtype=bool)
    for t in range(T):
        for j in range(k):
            if t - j * d >= 0:
                expected[t, t - j * d] = True
    return dep, expected


def _wide(k):
    return [i for i, (kk, _, _) in enumerate(CONV_CASES) if (kk > 1) == (k > 1)]


def _conv_gate(ctx):
    for i in _wide(2):
        k, d, T = CONV_CASES[i]
        dep, _ = _conv_dep(ctx, i)
        if not bool(ctx.get(f"c{i}_module")):
            return False, "CausalConv1d must be an nn.Module with learnable parameters (nn.Conv1d or nn.Parameter)"
        if not dep.diagonal().all():
            return False, f"kernel {k}, dilation {d}: output t does not change with the input x_t (it must read tap t)"
        base = ctx.get(f"c{i}_out", kinds=TENSOR)[0].astype(np.float64)
        moved = ctx.get(f"c{i}_reweighted", kinds=TENSOR, shape=base.shape).astype(np.float64)
        if np.allclose(moved, base, rtol=1e-9, atol=1e-12):
            return False, ("the output does not change when the module's parameters change: compute it with the "
                           "learnable weights (nn.Conv1d, or F.conv1d with nn.Parameter weights)")
    return True, "an nn.Module whose output of the input's length comes from the input and the learnable weights"


def _conv_causal(ctx):
    for i in _wide(2):
        k, d, _ = CONV_CASES[i]
        dep, _ = _conv_dep(ctx, i)
        if np.triu(dep, 1).any():
            return False, f"kernel {k}, dilation {d}: an output depends on a later input; pad on the left only"
        start = (k - 1) * d
        if not np.tril(dep, -1)[start:].any(axis=1).all():
            return False, f"kernel {k}, dilation {d}: some output depends on no earlier input (a kernel of size k >= 2 reads the past)"
    return True, "every output reads earlier inputs and no later one"


def _conv_exact(ctx):
    for i in _wide(2):
        k, d, _ = CONV_CASES[i]
        dep, expected = _conv_dep(ctx, i)
        if not np.array_equal(dep, expected):
            return False, f"kernel {k}, dilation {d}: output t must depend on exactly t-(k-1)d, ..., t-d, t"
    return True, "every output depends on exactly its k dilated taps"


def _conv_kernel_one(ctx):
    for i in _wide(1):
        k, d, T = CONV_CASES[i]
        dep, expected = _conv_dep(ctx, i)   # raises on a wrong shape (an empty output from x[..., :-0], say)
        if not np.array_equal(dep, expected):
            return False, "kernel_size = 1 (no padding): output t must depend on x_t only"
    return True, "kernel_size = 1 gives a 1x1 convolution of the input's length"


CONV_DISPLAY = (3, 2, 12)    # kernel, dilation, T: public, shown in the feedback


def conv_display_inputs(rng):
    return {"x": rng.normal(size=(CONV_POINTS, 3, CONV_DISPLAY[2]))}


def conv_display_probe(CausalConv1d, inputs, record):
    k, d, T = CONV_DISPLAY
    torch.manual_seed(0)
    conv = CausalConv1d(3, 2, k, dilation=d).double()
    record("out", lambda: conv_perturbed(conv, torch.from_numpy(inputs["x"])))


def _time_dep(out, T):
    base = out[0].astype(np.float64)
    dep = np.zeros((T, T), dtype=bool)
    for t in range(T):
        dep[:, t] = (np.abs(out[t + 1].astype(np.float64) - base) > 1e-9 * (1 + np.abs(base))).any(axis=(0, 1))
    return dep


def _conv_figure(ctx):
    k, d, T = CONV_DISPLAY
    out = ctx.get("out", kinds=TENSOR, shape=ctx.ref("out").shape)
    if not np.isfinite(out).all():
        raise Fail("the output has NaN or inf values")
    return figures.dependency(f"CausalConv1d(kernel {k}, dilation {d}): which output step moves with which input step",
                              _time_dep(out, T), _time_dep(ctx.ref("out"), T), xlabel="input time step",
                              ylabel="output time step")


# ---------------------------------------------------------------- WaveNet

DEP_CASES = [(3, [1, 2, 4], 2, 14), (2, [1, 3], 3, 16)]     # (classes, dilations, kernel, T)
DEP_POINTS = 32
SAME_CASES = [(5, [1, 2, 4, 8, 1, 2, 4, 8], 2), (4, [1, 3, 9], 3)]  # (classes, dilations, kernel)
# the work of cached generation: (dilations, number of samples); equally deep, receptive fields 22 and 4
WORK_CASES = [([1, 4, 16], 48), ([1, 4, 16], 24), ([1, 1, 1], 48)]
WORK_CHANNELS = 4
WN_GATE = "logits of shape (B, V, T) that depend on the input"
WN_SAMPLER = "cached samples follow the model"
WN_SAME = "cached == naive"


def wavenet_inputs(rng):
    out = {}
    for i, (v, _, _, t) in enumerate(DEP_CASES):
        out[f"dep{i}_x"] = rng.integers(0, v, size=(DEP_POINTS, t)).astype(np.int64)
    out["seeds"] = rng.integers(0, 2**31, size=6).astype(np.int64)
    return out


def sharpen(model, seed):
    """Larger random weights than the default initialization, so every dependency and probability shows."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.7)
    return model.eval()


def count_work(fn):
    """(fn(), work): the arithmetic torch did while fn ran, counted below the Python level. Matrix
    products and convolutions count their multiply-adds; any other operation that computes counts
    the elements of its largest tensor; moving data (views, copies, concatenation, indexing,
    padding, new tensors) is free, so queues cost nothing to keep."""
    from torch.utils._python_dispatch import TorchDispatchMode
    aten = torch.ops.aten
    free = {aten.cat, aten.stack, aten.slice, aten.select, aten.view, aten._unsafe_view, aten.reshape,
            aten.clone, aten.copy_, aten.t, aten.transpose, aten.permute, aten.expand, aten.unsqueeze,
            aten.squeeze, aten.split, aten.split_with_sizes, aten.unbind, aten.detach, aten.alias,
            aten.empty, aten.empty_like, aten.zeros, aten.zeros_like, aten.full, aten.full_like,
            aten.new_zeros, aten.new_empty, aten.new_full, aten.fill_, aten.index, aten.index_select,
            aten.gather, aten.embedding, aten.lift_fresh, aten._to_copy, aten.constant_pad_nd,
            aten.narrow, aten.as_strided, aten.roll, aten.flip, aten.index_put_, aten.index_put,
            aten.index_copy_, aten.index_copy, aten.select_scatter, aten.slice_scatter,
            aten.scalar_tensor, aten._local_scalar_dense}
    products = {aten.mm: 1, aten.bmm: 1, aten.addmm: 2, aten.baddbmm: 2, aten.mv: 1, aten.addmv: 2,
                aten.dot: 1, aten.vdot: 1}

    def tensors(x):
        if isinstance(x, torch.Tensor):
            yield x
        elif isinstance(x, (list, tuple)):
            for y in x:
                yield from tensors(y)

    class Work(TorchDispatchMode):
        @classmethod
        def _should_skip_dynamo(cls):
            # torch wraps a mode's __torch_dispatch__ in torch._disable_dynamo unless the mode says
            # False here, and that wrapper imports torch._dynamo on its first call (about 2.5 CPU s in
            # the task's child). Nothing is compiled here, so there is nothing to disable.
            return False

        def __init__(self):
            super().__init__()
            self.total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            op = func.overloadpacket
            if op in products:
                a = args[products[op] - 1]
                b = args[products[op]]
                self.total += a.numel() * (b.shape[-1] if b.dim() >= 2 else 1)
            elif op in (aten.convolution, aten._convolution):
                self.total += out.numel() * args[1][0].numel()
            elif op not in free:
                self.total += max([t.numel() for t in tensors((list(args), list(kwargs.values()), out))] or [0])
            return out

    counter = Work()
    with counter:
        result = fn()
    return result, int(counter.total)


def wavenet_probe(WaveNet, inputs, record):
    F = torch.nn.functional
    seeds = [int(s) for s in inputs["seeds"]]

    # 1. dependency maps: logits at base points and with x[:, t] moved to the next class
    for i, (v, dil, k, T) in enumerate(DEP_CASES):
        torch.manual_seed(i)
        model = sharpen(WaveNet(v, 6, 5, list(dil), kernel_size=k), seeds[0] + i).double()
        x = torch.from_numpy(inputs[f"dep{i}_x"])

        def perturbed(model=model, x=x, v=v, T=T):
            with torch.no_grad():
                outs = [model(x)]
                for t in range(T):
                    xt = x.clone()
                    xt[:, t] = (xt[:, t] + 1) % v
                    outs.append(model(xt))
                return torch.stack(outs)
        record(f"dep{i}", perturbed)

    # 2. cached == naive (float64, queues that wrap around, kernel 2 and 3)
    for i, (v, dil, k) in enumerate(SAME_CASES):
        torch.manual_seed(10 + i)
        model = sharpen(WaveNet(v, 6, 5, list(dil), kernel_size=k), seeds[1] + i).double()
        record(f"same{i}_cached", lambda model=model, i=i: model.generate(
            100, batch_size=2, generator=torch.Generator().manual_seed(seeds[2] + i), cached=True))
        record(f"same{i}_naive", lambda model=model, i=i: model.generate(
            100, batch_size=2, generator=torch.Generator().manual_seed(seeds[2] + i), cached=False))

    # 3. samples against the model's own distribution, both paths (3 classes, 3 steps)
    torch.manual_seed(20)
    model = sharpen(WaveNet(3, 6, 5, [1, 2], kernel_size=2), seeds[3])
    support = torch.tensor([[a, b, c] for a in range(3) for b in range(3) for c in range(3)], dtype=torch.long)

    def log_probs():
        with torch.no_grad():
            hist = torch.cat([torch.full((27, 1), 1, dtype=torch.long), support[:, :-1]], dim=1)
            return F.log_softmax(model(hist).double(), dim=1).gather(1, support[:, None]).squeeze(1).sum(1)
    record("sampler_logp", log_probs)
    for name, cached in (("cached", True), ("naive", False)):
        record(f"sampler_{name}", lambda cached=cached: model.generate(
            3, batch_size=20000, generator=torch.Generator().manual_seed(seeds[4]), cached=cached))

    # 4. randomness from the generator only (the global seed changed in between); the defaults
    model = sharpen(WaveNet(4, 5, 5, [1, 2], kernel_size=2), seeds[5])
    for key, global_seed, seed in (("gen_a", 1, seeds[5]), ("gen_b", 2, seeds[5]), ("gen_c", 1, seeds[5] + 1)):
        torch.manual_seed(global_seed)
        record(key, lambda seed=seed: model.generate(40, batch_size=3, generator=torch.Generator().manual_seed(seed)))
    record("defaults", lambda: model.generate(7))

    # 5. the work of cached generation at two receptive fields and two lengths, and the samples of
    # the measured run (they must be the ones an unmeasured run gives)
    first = {}

    def measure():
        works = []
        for dil, steps in WORK_CASES:
            torch.manual_seed(30)
            m = WaveNet(4, WORK_CHANNELS, WORK_CHANNELS, list(dil)).eval()
            gen = torch.Generator().manual_seed(seeds[5])
            samples, work = count_work(lambda m=m, steps=steps, gen=gen: m.generate(steps, 1, gen, cached=True))
            works.append(work)
            first.setdefault("run", (m, steps, samples))
        return works
    record("work", measure)
    record("work_measured", lambda: first["run"][2])
    for key, cached in (("work_cached", True), ("work_naive", False)):
        record(key, lambda cached=cached: first["run"][0].generate(
            first["run"][1], 1, torch.Generator().manual_seed(seeds[5]), cached=cached))


def _wavenet_dep(ctx, i):
    v, dil, k, T = DEP_CASES[i]
    out = ctx.get(f"dep{i}", kinds=TENSOR)
    if out.shape != (T + 1, DEP_POINTS, v, T):
        raise Fail(f"forward of int64 (B, {T}) must return logits (B, {v}, {T}); got shape {out.shape[1:]}")
    if not np.isfinite(out).all():
        raise Fail("forward returned NaN or inf")
    base = out[0].astype(np.float64)
    dep = np.zeros((T, T), dtype=bool)
    for t in range(T):
        moved = np.abs(out[t + 1].astype(np.float64) - base) > 1e-9 * (1 + np.abs(base))
        dep[:, t] = moved.any(axis=(0, 1))
    R = (k - 1) * sum(dil) + 1
    idx = np.arange(T)
    band = (idx[None, :] <= idx[:, None]) & (idx[None, :] > idx[:, None] - R)
    return dep, band, R


def _wavenet_gate(ctx):
    for i in range(len(DEP_CASES)):
        dep, _, _ = _wavenet_dep(ctx, i)
        if not dep[1:].any(axis=1).all():
            return False, "forward's logits do not change with the input x: they must be computed from it"
    return True, "forward gives logits (B, num_classes, T) computed from the input"


def _wavenet_causal(ctx):
    for i in range(len(DEP_CASES)):
        dep, band, _ = _wavenet_dep(ctx, i)
        if np.triu(dep, 1).any():
            return False, "logits[:, :, t] depends on a later input: every convolution must be causal (left padding)"
        if not dep.diagonal().all():
            return False, ("logits[:, :, t] does not depend on x[t]: they are the distribution of x[t+1] given x up "
                           "to and including x[t]")
    return True, "logits[:, :, t] depend on x[t] and nothing later"


def _wavenet_receptive_field(ctx):
    for i, (_, dil, k, _) in enumerate(DEP_CASES):
        dep, band, R = _wavenet_dep(ctx, i)
        if (dep & ~band).any() or not np.array_equal(dep[R - 1:], band[R - 1:]):
            return False, f"dilations {dil}, kernel {k}: logits[:, :, t] must depend on exactly the last R inputs"
    return True, "logits depend on exactly the receptive field"


def _samples(ctx, key, shape, num_classes):
    s = ctx.get(key, kinds=TENSOR, dtype="int64", shape=shape)
    if s.min() < 0 or s.max() >= num_classes:
        raise Fail("samples must lie in 0..num_classes-1")
    return s


def _wavenet_same(ctx):
    for i, (v, _, _) in enumerate(SAME_CASES):
        a = _samples(ctx, f"same{i}_cached", (2, 100), v)
        b = _samples(ctx, f"same{i}_naive", (2, 100), v)
        if not np.array_equal(a, b):
            return False, ("cached and naive generation give different samples for the same seed (float64): check "
                           "which time steps each queue holds and the naive window of the last R inputs")
    return True, "cached and naive generation give the same samples"


def _wavenet_sampler(name):
    def fn(ctx):
        s = _samples(ctx, f"sampler_{name}", (20000, 3), 3)
        logp = ctx.get("sampler_logp", kinds=TENSOR, shape=(27,)).astype(np.float64)
        probs = np.exp(logp)
        if not np.isfinite(probs).all() or abs(probs.sum() - 1) > 1e-4:
            return False, "the model's conditionals do not multiply to a distribution (forward must give logits over classes in dim 1)"
        res = check_sampler(s @ np.array([9, 3, 1]), probs)
        if not res.passed:
            return False, (f"{name} samples do not follow the model ({res.message}); start from the implicit input "
                           "num_classes // 2 and feed every new sample back in")
        return True, f"{name} samples follow the model's distribution"
    return fn


def _wavenet_generator(ctx):
    a, b, c = (_samples(ctx, key, (3, 40), 4) for key in ("gen_a", "gen_b", "gen_c"))
    if not np.array_equal(a, b):
        return False, "the same generator seed gave different samples: draw every random number from `generator`"
    if np.array_equal(a, c):
        return False, "different generator seeds gave the same samples: use `generator` for the random draws"
    _samples(ctx, "defaults", (1, 7), 4)
    return True, "the samples depend on the generator only; batch_size=1 and generator=None are the defaults"


def _wavenet_cache(ctx):
    items = ctx.items("work")
    if len(items) != len(WORK_CASES):
        raise Fail("the work of cached generation could not be measured")
    wide48, wide24, narrow48 = (float(ctx.get(k, kinds=("python_int",))) for k in items)
    measured = _samples(ctx, "work_measured", (1, 48), 4)
    if not (np.array_equal(measured, _samples(ctx, "work_cached", (1, 48), 4))
            and np.array_equal(measured, _samples(ctx, "work_naive", (1, 48), 4))):
        return False, ("while its work was counted, cached generation gave other samples than the same call gives "
                       "otherwise (or than the naive path): it must compute the same thing whenever it runs")
    layers, C = len(WORK_CASES[0][0]), WORK_CHANNELS
    floor = 48 * layers * 2 * C * 2 * C       # the k = 2 taps of every layer's convolution, C -> 2C channels
    if wide48 < floor:
        return False, ("cached generation did less arithmetic in torch than the convolution taps of its layers "
                       "need: compute every layer's taps with torch operations on the layer's weights")
    if wide48 > 1.5 * narrow48:
        return False, (f"cached generation with receptive field 22 does {wide48 / max(narrow48, 1):.1f} times the "
                       "work of an equally deep model with receptive field 4: the work per sample must not grow with "
                       "the receptive field (one queue per layer, k taps per layer and step, no rerun of forward)")
    if wide48 > 2.2 * wide24:
        return False, (f"48 cached samples cost {wide48 / max(wide24, 1):.1f} times the work of 24: the work per "
                       "sample must stay constant (do not rerun the network over the history)")
    return True, "cached generation does the same work per sample whatever the receptive field and the length"


# ---------------------------------------------------------------- the tasks

TASKS = [
    Task("mu_law_encode", encode_inputs, encode_probe, [
        Check(ENCODE_VALUES, 2, equal_to_reference("mu255", kinds=TENSOR, what="the codes for mu = 255")),
        Check("codes for other mu", 1, _encode_other_mu),
        Check("int64 codes in 0..mu", 1, _encode_format, requires=(ENCODE_VALUES,)),
        Check("-1, 0 and 1", 1, _encode_ends, requires=(ENCODE_VALUES,)),
        Check("half-way values round up", 1, _encode_halves, requires=(ENCODE_VALUES,)),
    ], constants={"ENCODE_MUS": ENCODE_MUS}),
    Task("mu_law_decode", decode_inputs, decode_probe, [
        Check(DECODE_VALUES, 2, close_to_reference("mu255", kinds=TENSOR, rtol=1e-5, atol=1e-6,
                                                   what="the decoded values for mu = 255")),
        Check("values for other mu", 1, _decode_other_mu),
        Check("float tensor", 1, _decode_float, requires=(DECODE_VALUES,)),
        Check("decoding inverts encoding", 1, _decode_round_trip, requires=(DECODE_VALUES,)),
    ], constants={"DECODE_MUS": DECODE_MUS}),
    Task("receptive_field_size", rf_inputs, rf_probe, [
        Check(RF_VALUES, 2, _rf_values([0, 1, 2], "kernel size 2")),
        Check("larger kernels", 2, _rf_values([3, 4, 5], "kernel sizes 3 to 5")),
        Check("a Python int", 1, _rf_int, requires=(RF_VALUES,)),
    ], constants={"RF_CASES": RF_CASES}),
    Task("CausalConv1d", conv_inputs, conv_probe, [
        Check(CONV_GATE, 1, _conv_gate),
        Check("causal", 2, _conv_causal, requires=(CONV_GATE,)),
        Check("exactly the dilated taps", 2, _conv_exact, requires=(CONV_GATE,)),
        Check("kernel_size = 1", 1, _conv_kernel_one, requires=(CONV_GATE,)),
    ], constants={"CONV_CASES": CONV_CASES}, helpers=(conv_perturbed,),
       display=Display(conv_display_inputs, conv_display_probe, [("dependency map over time", _conv_figure)],
                       constants={"CONV_DISPLAY": CONV_DISPLAY})),
    Task("WaveNet", wavenet_inputs, wavenet_probe, [
        Check(WN_GATE, 1, _wavenet_gate),
        Check("causal, logits aligned to x[t+1]", 2, _wavenet_causal, requires=(WN_GATE,)),
        Check("receptive field", 2, _wavenet_receptive_field, requires=(WN_GATE,)),
        Check(WN_SAMPLER, 1, _wavenet_sampler("cached"), requires=(WN_GATE,)),
        Check("naive samples follow the model", 1, _wavenet_sampler("naive"), requires=(WN_GATE,)),
        Check(WN_SAME, 2, _wavenet_same, requires=(WN_SAMPLER,)),
        Check("uses only the generator", 1, _wavenet_generator, requires=(WN_SAMPLER,)),
        Check("cached work per sample independent of the receptive field and the length", 2, _wavenet_cache,
              requires=(WN_SAME,)),
    ], constants={"DEP_CASES": DEP_CASES, "SAME_CASES": SAME_CASES, "WORK_CASES": WORK_CASES,
                  "WORK_CHANNELS": WORK_CHANNELS},
        helpers=(sharpen, count_work), timeout=120),
]
