"""Assignment 6 (compression, latent variables, faster sampling): hidden probes and checks.

Same shape as every task module (see autograder/README.md): `*_inputs(rng)` draws hidden inputs on
the judge's side, `*_probe(target, inputs, record)` runs in the sandbox, `Check`s with weights judge
the records. Arrays are torch tensors.

Every task's points come mostly from value checks against the reference on hidden inputs. The
property checks (an interval's width, a batch mean, a permutation, a bool dtype...) are gated behind
the value checks they refine: a property alone is easy to satisfy with an answer that does nothing
(a constant, an input ignored), so it earns points only when the values are right too. A do-nothing
answer can at most pass a format check (at most a quarter of the task's weight).
"""
import math

import numpy as np

from autograder.taskapi import Check, Fail, Task, close_to_reference, equal_to_reference

SEED = 20260606
TENSOR = ("tensor",)
FLOATISH = ("python_float", "numpy_scalar")
FLOATS = ("float32", "float64")


def _gated(value_checks, prop, hint="get the values right first (the check above)"):
    """A property check that passes only when every check in `value_checks` passes as well."""
    def fn(ctx):
        for check in value_checks:
            ok, _ = _result(check(ctx))
            if not ok:
                return False, f"not judged: {hint}"
        return prop(ctx)
    return fn


def _result(out):
    if hasattr(out, "passed"):
        return bool(out.passed), str(out.message)
    return out


def _safe(check):
    def fn(ctx):
        try:
            return check(ctx)
        except Fail as err:
            return False, str(err)
    return fn


# ---------------------------------------------------------------- code_length_bits


def clb_inputs(rng):
    return {"flat": np.log(rng.uniform(0.01, 1.0, size=37)),
            "cube": np.log(rng.uniform(0.05, 1.0, size=(3, 4, 5))),
            "f32": np.log(rng.uniform(0.1, 1.0, size=(6, 2))).astype(np.float32),
            "single": np.log(rng.uniform(0.1, 1.0, size=1))}


def clb_probe(code_length_bits, inputs, record):
    for key in ("flat", "cube", "f32", "single"):
        record(key, lambda key=key: code_length_bits(torch.from_numpy(inputs[key].copy())))


def _clb_values(keys, rtol):
    def fn(ctx):
        for key in keys:
            got = ctx.get(key, kinds=FLOATISH + ("tensor", "ndarray"))
            if got.size != 1:
                raise Fail(f"returned {got.size} numbers; expected one float (the sum over every entry)")
            if not np.isclose(float(got.reshape(-1)[0]), float(ctx.ref(key)), rtol=rtol, atol=1e-9):
                return False, "wrong code length: bits = -sum(log_probs) / ln 2, summed over every entry"
        return True, "correct code lengths"
    return fn


def _clb_float(ctx):
    entry = ctx.meta("flat")
    if entry.get("kind") != "python_float":
        return False, f"returned {entry.get('kind')}; expected a Python float (float(...) of the result)"
    return True, "returns a Python float"


# ---------------------------------------------------------------- arithmetic_interval

AI_CASES = 5


def ai_inputs(rng):
    out = {}
    for i in range(AI_CASES):
        k = int(rng.integers(2, 7))
        p = rng.dirichlet(np.ones(k) * 2) + 0.05
        out[f"probs{i}"] = p / p.sum()
        out[f"symbols{i}"] = rng.integers(0, k, size=int(rng.integers(1, 9))).astype(np.int64)
    out["symbols0"][-1] = len(out["probs0"]) - 1     # the top symbol appears
    out["symbols1"][0] = 0                           # and the bottom one
    return out


def ai_probe(arithmetic_interval, inputs, record):
    for i in range(5):
        p = torch.from_numpy(inputs[f"probs{i}"].copy())
        s = inputs[f"symbols{i}"]
        record(f"case{i}", lambda p=p, s=s: arithmetic_interval(p, [int(v) for v in s]))
        record(f"tensor{i}", lambda p=p, s=s: arithmetic_interval(p, torch.from_numpy(s.copy())))
    record("empty", lambda: arithmetic_interval(torch.tensor([0.3, 0.7], dtype=torch.float64), []))


def _pair(ctx, key):
    items = ctx.items(key, kinds=("tuple", "list"))
    if len(items) != 2:
        raise Fail(f"returned {len(items)} values; expected the pair (low, high)")
    low, high = (ctx.get(k, kinds=FLOATISH + ("tensor", "ndarray")) for k in items)
    if low.size != 1 or high.size != 1:
        raise Fail("low and high must be single numbers")
    return float(low.reshape(-1)[0]), float(high.reshape(-1)[0])


def _ref_pair(ctx, key):
    return float(ctx.ref(f"{key}/0")), float(ctx.ref(f"{key}/1"))


def _ai_values(prefix, what):
    def fn(ctx):
        wrong = 0
        for i in range(AI_CASES):
            got, ref = _pair(ctx, f"{prefix}{i}"), _ref_pair(ctx, f"{prefix}{i}")
            wrong += not np.allclose(got, ref, rtol=0, atol=1e-12)
        if wrong:
            return False, (f"the interval is wrong for {wrong} of {AI_CASES} messages{what}: symbol s keeps "
                           "[low + w * c_s, low + w * (c_s + p_s)), symbols 0..K-1 from the bottom")
        return True, f"correct intervals{what}"
    return fn


def _ai_width(ctx):
    for i in range(AI_CASES):
        low, high = _pair(ctx, f"case{i}")
        p, s = ctx.inputs[f"probs{i}"], ctx.inputs[f"symbols{i}"]
        if not math.isclose(high - low, float(np.prod(p[s])), rel_tol=1e-9, abs_tol=0):
            return False, "high - low must equal the product of the symbols' probabilities"
    return True, "high - low is the product of the symbols' probabilities"


def _ai_empty(ctx):
    if not np.allclose(_pair(ctx, "empty"), (0.0, 1.0), rtol=0, atol=0):
        return False, "an empty message must give (0.0, 1.0)"
    return True, "an empty message gives [0, 1)"


def _ai_floats(ctx):
    for i in range(AI_CASES):
        for k in ctx.items(f"case{i}", kinds=("tuple", "list")):
            if ctx.meta(k).get("kind") != "python_float":
                return False, "low and high must be Python floats (float(...))"
    return True, "Python floats"


# ---------------------------------------------------------------- elbo


def elbo_inputs(rng):
    B, D, Z = 6, 10, 4
    big = rng.choice([-100.0, -60.0, -30.0, 30.0, 60.0, 100.0], size=(3, D))
    return {"logits": rng.normal(size=(B, D)) * 3, "x": (rng.random((B, D)) < 0.5).astype(np.float32),
            "mu": rng.normal(size=(B, Z)), "logvar": rng.normal(size=(B, Z)),
            "big_logits": big.astype(np.float32), "big_x": (rng.random((3, D)) < 0.5).astype(np.float32),
            "big_mu": rng.normal(size=(3, Z)).astype(np.float32), "big_logvar": rng.normal(size=(3, Z)).astype(np.float32),
            "wide_logits": rng.normal(size=(2, 50)) * 2, "wide_x": (rng.random((2, 50)) < 0.3).astype(np.float64),
            "wide_mu": np.zeros((2, 9)), "wide_logvar": np.zeros((2, 9))}


def elbo_probe(elbo, inputs, record):
    def call(prefix, dtype):
        names = ("logits", "x", "mu", "logvar")
        args = [torch.from_numpy(inputs[(prefix + n) if prefix else n].copy()).to(dtype) for n in names]
        return elbo(*args)
    record("values", lambda: call("", torch.float64))
    record("values32", lambda: call("", torch.float32))
    record("big", lambda: call("big_", torch.float32))
    record("prior", lambda: call("wide_", torch.float64))


def _elbo_format(ctx):
    ctx.get("values", kinds=TENSOR, dtype=FLOATS, shape=(6,))
    ctx.get("big", kinds=TENSOR, dtype=FLOATS, shape=(3,))
    return True, "float tensors of shape (B,)"


_elbo_values = close_to_reference("values", kinds=TENSOR, rtol=1e-6, atol=1e-6, what="the ELBOs on random inputs")
_elbo_values32 = close_to_reference("values32", kinds=TENSOR, rtol=1e-4, atol=1e-3, what="the ELBOs in float32")


def _elbo_big(ctx):
    got = ctx.get("big", kinds=TENSOR, shape=(3,))
    if not np.isfinite(got).all():
        return False, "not finite for logits of size 100: use F.logsigmoid or binary_cross_entropy_with_logits"
    if not np.allclose(got, ctx.ref("big"), rtol=1e-4, atol=1e-2):
        return False, ("wrong for large logits (|logit| up to 100): log(sigmoid(l)) and log(1 - sigmoid(l)) lose "
                       "everything in float32; use F.logsigmoid or binary_cross_entropy_with_logits")
    return True, "accurate for logits up to +-100"


_elbo_prior = close_to_reference("prior", kinds=TENSOR, rtol=1e-6, atol=1e-6,
                                 what="the ELBOs when q is the prior (KL 0), another D and Z")


# ---------------------------------------------------------------- free_bits_kl


def fb_inputs(rng):
    B, Z = 8, 6
    scale = np.array([2.0, 0.05, 1.0, 0.02, 0.6, 0.3])
    return {"mu": rng.normal(size=(B, Z)) * scale, "logvar": rng.normal(size=(B, Z)) * 0.2,
            "lam": np.array([0.25]), "mu1": rng.normal(size=(1, 3)), "logvar1": rng.normal(size=(1, 3)) * 0.3}


def fb_probe(free_bits_kl, inputs, record):
    mu = torch.from_numpy(inputs["mu"].copy())
    lv = torch.from_numpy(inputs["logvar"].copy())
    lam = float(inputs["lam"][0])
    record("values", lambda: free_bits_kl(mu.clone(), lv.clone(), lam))
    record("zero", lambda: free_bits_kl(mu.clone(), lv.clone(), 0.0))
    record("huge", lambda: free_bits_kl(mu.clone(), lv.clone(), 100.0))
    record("single", lambda: free_bits_kl(torch.from_numpy(inputs["mu1"].copy()),
                                          torch.from_numpy(inputs["logvar1"].copy()), 0.1))

    def grad():
        m = mu.clone().requires_grad_(True)
        free_bits_kl(m, lv.clone(), lam).sum().backward()
        return m.grad
    record("grad", grad)


def _fb_format(ctx):
    ctx.get("values", kinds=TENSOR, dtype=FLOATS, shape=(8,))
    return True, "a float tensor of shape (B,)"


_fb_values = close_to_reference("values", kinds=TENSOR, rtol=1e-6, atol=1e-8,
                                what="the charged KLs (dimensions with batch-mean KL below free_bits cost free_bits)")
_fb_zero = close_to_reference("zero", kinds=TENSOR, rtol=1e-6, atol=1e-8, what="the KLs with free_bits = 0")


def _fb_edge(ctx):
    ok1, _ = _result(close_to_reference("huge", kinds=TENSOR, rtol=1e-9, atol=1e-9)(ctx))
    ok2, _ = _result(close_to_reference("single", kinds=TENSOR, rtol=1e-6, atol=1e-8)(ctx))
    if not (ok1 and ok2):
        return False, "wrong when every dimension is below free_bits, or for a batch of one example"
    return True, "every dimension below free_bits, and a batch of one"


def _fb_batch_mean(ctx):
    got = ctx.get("values", kinds=TENSOR, shape=(8,))
    mu, lv, lam = ctx.inputs["mu"], ctx.inputs["logvar"], float(ctx.inputs["lam"][0])
    kl = 0.5 * (mu ** 2 + np.exp(lv) - 1 - lv)
    if not np.isclose(got.mean(), np.maximum(kl.mean(0), lam).sum(), rtol=1e-6):
        return False, "the batch mean must be sum_j max(free_bits, mean_b kl[b, j])"
    return True, "batch mean = sum_j max(free_bits, mean_b kl)"


def _fb_grad(ctx):
    got = ctx.get("grad", kinds=TENSOR, shape=ctx.ref("grad").shape)
    if not np.allclose(got, ctx.ref("grad"), rtol=1e-5, atol=1e-7):
        return False, ("wrong gradient with respect to mu: dimensions below free_bits must get none, the others "
                       "the gradient of their KL (build the result from differentiable torch operations)")
    return True, "no gradient for the dimensions below free_bits"


# ---------------------------------------------------------------- strided_attention_mask

SA_CASES = [(1, 1), (7, 1), (12, 3), (17, 4), (9, 12), (30, 5), (64, 8)]


def sa_inputs(rng):
    return {"cases": np.array(SA_CASES, dtype=np.int64)}


def sa_probe(strided_attention_mask, inputs, record):
    for i, (n, s) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda n=n, s=s: strided_attention_mask(n, s))


def _sa_format(ctx):
    for i, (n, _) in enumerate(SA_CASES):
        ctx.get(f"case{i}", kinds=TENSOR + ("ndarray",), dtype="bool", shape=(n, n))
    return True, "bool tensors of shape (seq_len, seq_len)"


def _sa_values(indices, what):
    def fn(ctx):
        wrong = 0
        for i in indices:
            got = ctx.get(f"case{i}", kinds=TENSOR + ("ndarray",), shape=ctx.ref(f"case{i}").shape)
            wrong += not np.array_equal(got.astype(bool), ctx.ref(f"case{i}"))
        if wrong:
            return False, (f"wrong pattern for {wrong} of {len(indices)} {what}: (i, j) is allowed iff j <= i and "
                           "(i - j < stride or (i - j) % stride == 0), row i = query")
        return True, f"correct for every {what}"
    return fn


_SA_MAIN = [2, 3, 5, 6]
_SA_EDGE = [0, 1, 4]


# ---------------------------------------------------------------- subscale_order

SO_CASES = [(8, 8, 2), (6, 9, 3), (12, 8, 4), (4, 6, 2), (3, 5, 1), (2, 2, 2)]
SO_BAD = [(6, 8, 4), (8, 6, 4), (5, 5, 2)]


def so_inputs(rng):
    return {"cases": np.array(SO_CASES, dtype=np.int64), "bad": np.array(SO_BAD, dtype=np.int64)}


def so_probe(subscale_order, inputs, record):
    for i, (h, w, f) in enumerate(inputs["cases"].tolist()):
        record(f"case{i}", lambda h=h, w=w, f=f: subscale_order(h, w, f))

    def raises_value_error(h, w, f):
        try:
            subscale_order(h, w, f)
        except ValueError:
            return True
        except Exception:
            return False
        return False
    for i, (h, w, f) in enumerate(inputs["bad"].tolist()):
        record(f"bad{i}", lambda h=h, w=w, f=f: raises_value_error(h, w, f))


def _so_format(ctx):
    for i, (h, w, _) in enumerate(SO_CASES):
        ctx.get(f"case{i}", kinds=TENSOR + ("ndarray",), dtype="int64", shape=(h * w,))
    return True, "int64 tensors of shape (height * width,)"


def _so_values(indices, what):
    def fn(ctx):
        wrong = 0
        for i in indices:
            got = ctx.get(f"case{i}", kinds=TENSOR + ("ndarray",), shape=ctx.ref(f"case{i}").shape)
            wrong += not np.array_equal(got, ctx.ref(f"case{i}"))
        if wrong:
            return False, (f"wrong order for {wrong} of {len(indices)} {what}: sub-images (a, b) in raster order, "
                           "sub-image (a, b) = pixels (a + factor * i, b + factor * j) in raster order of (i, j), "
                           "flat index r * width + c")
        return True, f"correct for every {what}"
    return fn


_SO_SQUARE = [0, 3, 5]
_SO_RECT = [1, 2, 4]


def _so_permutation(ctx):
    for i, (h, w, _) in enumerate(SO_CASES):
        got = ctx.get(f"case{i}", kinds=TENSOR + ("ndarray",))
        if sorted(got.tolist()) != list(range(h * w)):
            return False, "every pixel index must appear exactly once"
    return True, "a permutation of the pixels"


def _so_rejects(ctx):
    for i in range(len(SO_BAD)):
        if not bool(ctx.get(f"bad{i}", kinds=("python_bool",))):
            return False, "height or width not divisible by factor must raise ValueError"
    return True, "raises ValueError when the image does not split into factor x factor sub-images"


TASKS = [
    Task("code_length_bits", clb_inputs, clb_probe, [
        Check("-sum(log p) / ln 2", 4, _clb_values(("flat", "cube", "single"), 1e-9)),
        Check("float32 input", 1, _clb_values(("f32",), 1e-5)),
        Check("returns a Python float", 1, _gated([_safe(_clb_values(("flat",), 1e-9))], _clb_float)),
    ]),
    Task("arithmetic_interval", ai_inputs, ai_probe, [
        Check("final intervals (symbols as a list)", 4, _ai_values("case", "")),
        Check("symbols as a tensor", 1, _ai_values("tensor", " (symbols as a tensor)")),
        Check("width = product of probabilities", 1, _gated([_safe(_ai_values("case", ""))], _ai_width)),
        Check("empty message", 1, _gated([_safe(_ai_values("case", ""))], _ai_empty)),
        Check("Python floats", 1, _gated([_safe(_ai_values("case", ""))], _ai_floats)),
    ]),
    Task("elbo", elbo_inputs, elbo_probe, [
        Check("tensor (B,)", 1, _elbo_format),
        Check("values (float64)", 3, _elbo_values),
        Check("values (float32)", 1, _elbo_values32),
        Check("stable for |logits| up to 100", 2, _gated([_safe(_elbo_values)], _elbo_big)),
        Check("KL 0 when q is the prior, other sizes", 1, _gated([_safe(_elbo_values)], _elbo_prior)),
    ]),
    Task("free_bits_kl", fb_inputs, fb_probe, [
        Check("tensor (B,)", 1, _fb_format),
        Check("charged KL per example", 3, _fb_values),
        Check("free_bits = 0 is the plain KL", 1, _gated([_safe(_fb_values)], _fb_zero)),
        Check("all below, batch of one", 1, _gated([_safe(_fb_values)], _fb_edge)),
        Check("batch mean", 1, _gated([_safe(_fb_values)], _fb_batch_mean)),
        Check("gradient", 1, _gated([_safe(_fb_values)], _fb_grad)),
    ]),
    Task("strided_attention_mask", sa_inputs, sa_probe, [
        Check("bool (seq_len, seq_len)", 1, _sa_format),
        Check("strided pattern", 4, _sa_values(_SA_MAIN, "pattern tried")),
        Check("stride 1, stride > seq_len, seq_len 1", 1,
              _gated([_safe(_sa_values(_SA_MAIN, "pattern tried"))], _sa_values(_SA_EDGE, "edge case tried"))),
    ]),
    Task("subscale_order", so_inputs, so_probe, [
        Check("int64 (height * width,)", 1, _so_format),
        Check("square images", 2, _so_values(_SO_SQUARE, "square image tried")),
        Check("height != width, factor 1 and 4", 2, _so_values(_SO_RECT, "rectangular image tried")),
        Check("a permutation", 1, _gated([_safe(_so_values(_SO_SQUARE, "square image tried")),
                                          _safe(_so_values(_SO_RECT, "rectangular image tried"))], _so_permutation)),
        Check("ValueError when not divisible", 1, _gated([_safe(_so_values(_SO_SQUARE, "square image tried"))],
                                                         _so_rejects)),
    ]),
]
