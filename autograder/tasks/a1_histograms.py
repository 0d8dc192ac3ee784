"""Assignment 1 (histograms): hidden probes and checks for the autograder.

Same shape as every task module (see autograder/README.md): `*_inputs(rng)` draws hidden inputs on
the judge's side, `*_probe(target, inputs, record)` runs in the sandbox, `Check`s with weights judge
the records. Arrays are numpy in this assignment. In every task the first check compares values
with the solution's on hidden inputs; the property checks (format, normalization, edge cases) are
judged only after it passes (`requires`), so a constant answer earns nothing.
"""
import numpy as np

from autograder import figures
from autograder.taskapi import KIND_NAMES, Check, Display, Fail, Task, close_to_reference, equal_to_reference

SEED = 20260101

# Mutants in tests/mutants/a1_histograms.py that this grader deliberately does not penalize
# (`check` lists them as waived, with the reason).
NOT_PENALIZED = {
    "average_nll": {"warning_not_silenced": "warnings and stderr never cost points in this grader; "
                                            "the notebook's visible test still asks for no warning"},
}
ARRAY = ("ndarray",)
FLOATISH = ("python_float", "numpy_scalar", "ndarray")


# ---------------------------------------------------------------- fit_histogram


def fit_inputs(rng):
    probs = rng.dirichlet(np.ones(12))
    probs[[3, 8]] = 0.0            # two values never appear
    probs /= probs.sum()
    return {"samples": rng.choice(12, size=400, p=probs).astype(np.int64),
            "few": rng.integers(0, 5, size=7).astype(np.int64)}


def fit_probe(fit_histogram, inputs, record):
    s = inputs["samples"]
    record("plain", lambda: fit_histogram(s.copy(), 12))
    record("alpha_half", lambda: fit_histogram(s.copy(), 12, alpha=0.5))
    record("alpha_two", lambda: fit_histogram(s.copy(), 12, 2.0))
    record("few_wide", lambda: fit_histogram(inputs["few"].copy(), 9, alpha=1.0))
    record("as_list", lambda: fit_histogram([int(v) for v in s], 12))


def _fit_format(ctx):
    for key, n in (("plain", 12), ("alpha_half", 12), ("few_wide", 9)):
        ctx.get(key, kinds=ARRAY, dtype="float64", shape=(n,))
    return True, "float64 arrays of length num_values"


def _fit_sums(ctx):
    for key in ("plain", "alpha_half", "alpha_two", "few_wide"):
        p = ctx.get(key, kinds=ARRAY)
        if not np.isclose(p.sum(), 1.0, atol=1e-9):
            return False, "the probabilities do not sum to one: divide by N + alpha * num_values"
    return True, "probabilities sum to one"


# ---------------------------------------------------------------- average_nll


def nll_inputs(rng):
    probs = rng.dirichlet(np.ones(10))
    zero = probs.copy()
    zero[4] = 0.0
    zero /= zero.sum()
    samples = rng.integers(0, 10, size=300).astype(np.int64)
    samples[17] = 4
    return {"probs": probs, "samples": samples, "zero_probs": zero}


def nll_probe(average_nll, inputs, record):
    record("value", lambda: average_nll(inputs["probs"].copy(), inputs["samples"].copy()))
    record("single", lambda: average_nll(inputs["probs"].copy(), inputs["samples"][:1].copy()))
    record("zero", lambda: average_nll(inputs["zero_probs"].copy(), inputs["samples"].copy()))


def _nll_zero(ctx):
    got = ctx.get("zero", kinds=FLOATISH)
    if got.size != 1:
        raise Fail(f"returned {got.size} numbers; expected one float")
    if not np.isposinf(got.reshape(-1)[0]):
        return False, "a sample of probability 0 must give an average NLL of +inf (without raising)"
    return True, "+inf when a sample has probability 0"


def _is_float(key):
    def fn(ctx):
        entry = ctx.meta(key)
        if entry.get("kind") not in ("python_float", "numpy_scalar") or entry.get("dtype") not in ("float64", "float32"):
            what = KIND_NAMES.get(entry.get("kind"), "another type")
            return False, f"returned {what} of dtype {entry.get('dtype')}; expected a float (float(...) of the result)"
        return True, "returns a float"
    return fn


# ---------------------------------------------------------------- bits_per_dim

BPD_CASES = 4


def bpd_inputs(rng):
    return {"nll": rng.uniform(10, 200, size=BPD_CASES), "dims": rng.integers(1, 800, size=BPD_CASES).astype(np.int64)}


def bpd_probe(bits_per_dim, inputs, record):
    for i in range(BPD_CASES):
        record(f"case{i}", lambda i=i: bits_per_dim(float(inputs["nll"][i]), int(inputs["dims"][i])))


def _bpd_values(ctx):
    for i in range(BPD_CASES):
        got = ctx.get(f"case{i}", kinds=FLOATISH)
        if got.size != 1 or not np.isclose(float(got.reshape(-1)[0]), float(ctx.ref(f"case{i}")), rtol=1e-9):
            return False, "wrong value: bits per dimension = nll_nats / (num_dims * ln 2)"
    return True, "correct values"


# ---------------------------------------------------------------- sample_inverse_cdf


def inv_inputs(rng):
    probs = rng.dirichlet(np.ones(8))
    probs[5] = 0.0
    probs /= probs.sum()
    short = probs * (1 - 1e-9)          # a cumulative sum that ends just below 1
    cum = np.cumsum(probs)
    # the last values have probability 0 and the cumulative sum ends below 1 by rounding: for u
    # close to 1 the answer is the last value with positive probability, not the last index
    trailing = np.concatenate([rng.dirichlet(np.ones(5)) * (1 - 1e-9), [0.0, 0.0]])
    return {"probs": probs, "u": rng.random(5000), "short": short,
            "u_high": np.array([1 - 1e-12, 1 - 1e-10, 0.999999999]),
            "u_edges": np.concatenate([[0.0], cum[:-2]]), "trailing": trailing}


def inv_probe(sample_inverse_cdf, inputs, record):
    record("random", lambda: sample_inverse_cdf(inputs["probs"].copy(), inputs["u"].copy()))
    record("short", lambda: sample_inverse_cdf(inputs["short"].copy(), inputs["u_high"].copy()))
    record("edges", lambda: sample_inverse_cdf(inputs["probs"].copy(), inputs["u_edges"].copy()))
    record("trailing", lambda: sample_inverse_cdf(inputs["trailing"].copy(), inputs["u_high"].copy()))
    record("grid", lambda: sample_inverse_cdf(inputs["probs"].copy(), inputs["u"][:12].reshape(3, 4).copy()))


def _inv_format(ctx):
    ctx.get("random", kinds=ARRAY, dtype="int64", shape=(5000,))
    got = ctx.get("grid", kinds=ARRAY, dtype="int64")
    if got.shape != (3, 4):
        return False, f"u of shape (3, 4) gave indices of shape {got.shape}: return an array shaped like u"
    if not np.array_equal(got, ctx.ref("grid")):
        return False, "wrong indices for a 2-D array u: treat every entry of u alike"
    return True, "int64 arrays shaped like u"


def _inv_short(ctx):
    got = ctx.get("short", kinds=ARRAY, shape=(3,))
    if (got < 0).any() or (got >= 8).any():
        return False, "returned an index past the end when the cumulative sum ends below 1 by rounding"
    if not np.array_equal(got, ctx.ref("short")):
        return False, "for u close to 1 the answer is the last category with positive probability"
    return True, "never an index past the end"


def _inv_zero(ctx):
    got = ctx.get("random", kinds=ARRAY, shape=(5000,))
    if (got == 5).any():
        return False, "a category of probability 0 was returned"
    got = ctx.get("trailing", kinds=ARRAY, shape=(3,))
    if (ctx.inputs["trailing"][np.clip(got, 0, 6)] == 0).any() or (got < 0).any() or (got > 6).any():
        return False, ("for u close to 1, past the last cumulative sum, a value of probability 0 was returned: "
                       "the answer there is the last value with positive probability (not simply the last index)")
    return True, "values of probability 0 are never returned, also for u past the last cumulative sum"


# ---------------------------------------------------------------- figures on public display inputs
# (seeded by the task's name in grade.display_inputs: the same for everyone, nothing hidden)


def fit_display_inputs(rng):
    probs = np.array([0.3, 0.2, 0.0, 0.15, 0.1, 0.25])
    return {"samples": rng.choice(6, size=60, p=probs).astype(np.int64)}


def fit_display_probe(fit_histogram, inputs, record):
    record("plain", lambda: fit_histogram(inputs["samples"].copy(), 6))
    record("alpha", lambda: fit_histogram(inputs["samples"].copy(), 6, alpha=1.0))


def _fit_figure(key, what):
    def fn(ctx):
        got = ctx.get(key, kinds=ARRAY, shape=ctx.ref(key).shape)
        return figures.values(f"{what}: 60 samples of 6 values", got, ctx.ref(key), [str(k) for k in range(6)],
                              "value k", "probability p_k")
    return fn


def inv_display_inputs(rng):
    return {"probs": np.array([0.1, 0.25, 0.0, 0.3, 0.05, 0.3]), "u": rng.random(3000)}


def inv_display_probe(sample_inverse_cdf, inputs, record):
    record("samples", lambda: sample_inverse_cdf(inputs["probs"].copy(), inputs["u"].copy()))


def _inv_figure(ctx):
    got = ctx.get("samples", kinds=ARRAY, shape=(3000,))
    return figures.sampler("3000 inverse-CDF samples against the probabilities", got, ctx.inputs["probs"])


VALUES = "counts / N without smoothing"
NLL_VALUES = "mean of -ln p in nats"
BPD_VALUES = "nats to bits per dimension"
INV_VALUES = "smallest k with cumsum > u"

TASKS = [
    Task("fit_histogram", fit_inputs, fit_probe, [
        Check(VALUES, 2, close_to_reference("plain", kinds=ARRAY, rtol=1e-9, atol=1e-12, what="the probabilities")),
        Check("additive smoothing alpha", 2, close_to_reference("alpha_half", kinds=ARRAY, rtol=1e-9, atol=1e-12,
                                                                what="the smoothed probabilities")),
        Check("alpha as a positional argument, unseen values", 1,
              close_to_reference("few_wide", kinds=ARRAY, rtol=1e-9, atol=1e-12, what="the probabilities")),
        Check("float64, length num_values", 1, _fit_format, requires=(VALUES,)),
        Check("probabilities sum to one", 1, _fit_sums, requires=(VALUES,)),
        Check("samples given as a list", 1, close_to_reference("as_list", kinds=ARRAY, rtol=1e-9, atol=1e-12,
                                                               what="the probabilities for a list of samples"),
              requires=(VALUES,)),
    ], display=Display(fit_display_inputs, fit_display_probe,
                       [("your histogram against the reference's", _fit_figure("plain", "no smoothing")),
                        ("with alpha = 1", _fit_figure("alpha", "additive smoothing alpha = 1"))])),
    Task("average_nll", nll_inputs, nll_probe, [
        Check(NLL_VALUES, 3, close_to_reference("value", kinds=FLOATISH, rtol=1e-9, atol=1e-12,
                                                what="the average NLL")),
        Check("a single sample", 1, close_to_reference("single", kinds=FLOATISH, rtol=1e-9, atol=1e-12,
                                                       what="the NLL of one sample"), requires=(NLL_VALUES,)),
        Check("+inf for probability 0", 1, _nll_zero, requires=(NLL_VALUES,)),
        Check("returns a float", 1, _is_float("value"), requires=(NLL_VALUES,)),
    ]),
    Task("bits_per_dim", bpd_inputs, bpd_probe, [
        Check(BPD_VALUES, 3, _bpd_values),
        Check("returns a float", 1, _is_float("case0"), requires=(BPD_VALUES,)),
    ], constants={"BPD_CASES": BPD_CASES}),
    Task("sample_inverse_cdf", inv_inputs, inv_probe, [
        Check(INV_VALUES, 3, equal_to_reference("random", kinds=ARRAY, what="the sampled indices")),
        Check("int64 array shaped like u", 1, _inv_format, requires=(INV_VALUES,)),
        Check("u exactly on a cumulative sum (strict >)", 1,
              equal_to_reference("edges", kinds=ARRAY, what="the indices for u on the cumulative sums"),
              requires=(INV_VALUES,)),
        Check("never past the end", 1, _inv_short, requires=(INV_VALUES,)),
        Check("never a zero-probability category", 1, _inv_zero, requires=(INV_VALUES,)),
    ], display=Display(inv_display_inputs, inv_display_probe,
                       [("your samples against the probabilities", _inv_figure)])),
]
