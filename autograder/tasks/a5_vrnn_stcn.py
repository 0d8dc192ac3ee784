"""Assignment 5 (VRNN and STCN): hidden probes and checks for the autograder.

Same shape as every task module (see autograder/README.md): `*_inputs(rng)` draws the hidden inputs
(judge side), `*_probe(target, inputs, record)` runs in the sandbox and records what the student's
code returns, and `Check`s with weights judge the records. A task's score is its nbgrader points
times the weighted share of checks passed. Check messages say what is wrong without giving hidden
inputs or reference values away.

The two models (VRNN, STCN) cannot be compared with the solution's numbers (every student's network
is different), so they are judged on properties of the contract:
- dependency structure from perturbation probes: each model is built under a fixed
  `torch.manual_seed`; the probe runs `forward` on the base sequence, then once per time step with
  that step moved, re-seeding torch (and numpy) before every call so that every run draws the same
  posterior noise; the judge turns the differences into a (step out, step in) dependency map and
  applies `course_lib.checks.check_autoregressive` (prior: strictly earlier steps only) or the
  posterior's rule (steps up to t, and step t itself);
- closed forms on the returned data (VRNN: `kl` is KL(posterior || prior) of the returned
  parameters), shapes, finiteness, non-negative KL;
- the sampler: shape, finite, the same seeded generator gives the same sequence whatever the global
  seed, another seed gives another sequence.
"""
import numpy as np

from autograder.taskapi import Check, Fail, Task, close_to_reference
from course_lib.checks import check_autoregressive

SEED = 20260505
TENSOR = ("tensor",)


def _f64(a):
    return np.asarray(a, dtype=np.float64)


def _close(got, ref, rtol, atol):
    return np.allclose(_f64(got), _f64(ref), rtol=rtol, atol=atol, equal_nan=False)


def _kl_np(mq, lq, mp, lp):
    mq, lq, mp, lp = (_f64(a) for a in (mq, lq, mp, lp))
    return 0.5 * (lp - lq + (np.exp(lq) + (mq - mp) ** 2) / np.exp(lp) - 1.0).sum(-1)


# ---------------------------------------------------------------- gaussian_kl


def kl_inputs(rng):
    out = {}
    for name, scale in (("mq", 2.0), ("lq", 1.5), ("mp", 2.0), ("lp", 1.5)):
        out[name] = rng.normal(size=(3, 4, 6)) * scale
    for name, scale in (("wide_mq", 2.0), ("wide_lq", 3.0), ("wide_mp", 2.0), ("wide_lp", 3.0)):
        out[name] = rng.normal(size=(200, 3)) * scale
    for name in ("vec_mq", "vec_lq", "vec_mp", "vec_lp"):
        out[name] = rng.normal(size=5).astype(np.float32)
    return out


def kl_probe(gaussian_kl, inputs, record):
    def t(*names):
        return [torch.from_numpy(inputs[n]) for n in names]

    mq, lq, mp, lp = t("mq", "lq", "mp", "lp")
    record("values", lambda: gaussian_kl(mq, lq, mp, lp))
    record("reversed", lambda: gaussian_kl(mp, lp, mq, lq))
    record("same", lambda: gaussian_kl(mq, lq, mq.clone(), lq.clone()))
    record("f32", lambda: gaussian_kl(mq.float(), lq.float(), mp.float(), lp.float()))
    record("wide", lambda: gaussian_kl(*t("wide_mq", "wide_lq", "wide_mp", "wide_lp")))
    record("vec", lambda: gaussian_kl(*t("vec_mq", "vec_lq", "vec_mp", "vec_lp")))


def _kl_shapes(ctx):
    got = ctx.get("values", kinds=TENSOR)
    if got.shape != (3, 4):
        raise Fail(f"inputs of shape (3, 4, 6) gave shape {got.shape}; sum over the last dimension only, keeping (3, 4)")
    got = ctx.get("vec", kinds=TENSOR)
    if got.shape != ():
        raise Fail(f"inputs of shape (5,) gave shape {got.shape}; expected a 0-dimensional tensor (the sum over the last dimension)")
    return True, "sums over the last dimension only"


def _kl_values(ctx):
    got = ctx.get("values", kinds=TENSOR, shape=(3, 4))
    if not _close(got, ctx.ref("values"), 1e-6, 1e-8):
        return False, ("wrong values on random float64 inputs: 1/2 * sum(logvar_p - logvar_q + (exp(logvar_q) + "
                       "(mu_q - mu_p)^2) / exp(logvar_p) - 1); check the 1/2, that exp(logvar) is a variance, and the sum")
    got = ctx.get("f32", kinds=TENSOR, shape=(3, 4))
    if not _close(got, ctx.ref("f32"), 1e-4, 1e-4):
        return False, "wrong values on float32 inputs"
    return True, "values match the closed form (float64 and float32)"


def _kl_self(ctx):
    got = ctx.get("same", kinds=TENSOR, shape=(3, 4))
    if not np.allclose(_f64(got), 0.0, atol=1e-9):
        return False, "KL(q || q) must be 0 for every q"
    return True, "KL(q || q) = 0"


def _kl_nonneg(ctx):
    got = ctx.get("wide", kinds=TENSOR, shape=(200,))
    if not np.isfinite(got).all():
        return False, "not finite for log-variances of moderate size"
    if (got < -1e-9).any():
        return False, f"negative at {int((got < -1e-9).sum())} of 200 random pairs; a KL divergence is never negative"
    return True, "non-negative on random pairs"


def _kl_order(ctx):
    rev = ctx.get("reversed", kinds=TENSOR, shape=(3, 4))
    fwd = ctx.get("values", kinds=TENSOR, shape=(3, 4))
    if _close(fwd, rev, 1e-6, 1e-8):
        return False, "gaussian_kl(q, p) equals gaussian_kl(p, q) on random pairs, but KL divergence is not symmetric"
    if _close(fwd, ctx.ref("reversed"), 1e-6, 1e-8):
        return False, ("the arguments are swapped: gaussian_kl(mu_q, logvar_q, mu_p, logvar_p) is KL(q || p), "
                       "with the first pair's variance in the numerator and the second pair's in the denominator")
    return True, "not symmetric, and the order of the arguments is KL(q || p)"


# ---------------------------------------------------------------- reparameterize


def rep_inputs(rng):
    return {"mu": rng.normal(size=(4, 5)) * 2, "logvar": rng.normal(size=(4, 5)) * 1.5,
            "eps": rng.normal(size=(4, 5)), "w": rng.normal(size=(4, 5))}


def rep_probe(reparameterize, inputs, record):
    mu, lv, eps, w = (torch.from_numpy(inputs[k]) for k in ("mu", "logvar", "eps", "w"))
    record("values", lambda: reparameterize(mu, lv, eps))
    record("f32", lambda: reparameterize(mu.float(), lv.float(), eps.float()))
    record("eps_zero", lambda: reparameterize(mu, lv, torch.zeros_like(eps)))
    torch.manual_seed(1)
    record("again_a", lambda: reparameterize(mu, lv, eps))
    torch.manual_seed(2)
    record("again_b", lambda: reparameterize(mu, lv, eps))

    def grads():
        m, l = mu.clone().requires_grad_(True), lv.clone().requires_grad_(True)
        z = reparameterize(m, l, eps)
        (z * w).sum().backward()
        return [m.grad, l.grad]
    record("grads", grads)


def _rep_values(ctx):
    got = ctx.get("values", kinds=TENSOR, shape=(4, 5))
    if not _close(got, ctx.ref("values"), 1e-6, 1e-8):
        return False, "wrong values: mu + exp(logvar / 2) * eps (the standard deviation is exp(logvar / 2))"
    got = ctx.get("f32", kinds=TENSOR, shape=(4, 5))
    if not _close(got, ctx.ref("f32"), 1e-5, 1e-5):
        return False, "wrong values on float32 inputs"
    return True, "values correct"


def _rep_eps(ctx):
    got = ctx.get("eps_zero", kinds=TENSOR, shape=(4, 5))
    if not _close(got, ctx.inputs["mu"], 1e-9, 1e-9):
        return False, "with eps = 0 the result must be mu: use the given eps, draw no noise yourself"
    a, b = ctx.get("again_a", kinds=TENSOR, shape=(4, 5)), ctx.get("again_b", kinds=TENSOR, shape=(4, 5))
    if not np.array_equal(a, b):
        return False, "the same inputs gave different results: the noise is the argument eps, draw none yourself"
    return True, "deterministic: uses the given eps"


def _rep_grads(ctx):
    try:
        ctx.meta("grads")
    except Fail as err:
        return False, (f"backpropagating from the sample to mu and logvar failed ({err}): compute the sample with "
                       "torch operations, without detach or torch.no_grad")
    items = ctx.items("grads")
    for name, key, ref_key in (("mu", items[0], "grads/0"), ("logvar", items[1], "grads/1")):
        if ctx.meta(key).get("kind") == "none":
            return False, f"no gradient reaches {name}: compute the sample with torch operations on mu and logvar"
        got = ctx.get(key, kinds=TENSOR, shape=(4, 5))
        if not _close(got, ctx.ref(ref_key), 1e-6, 1e-8):
            return False, f"the gradient with respect to {name} is wrong: the sample must be mu + exp(logvar / 2) * eps"
    return True, "gradients flow to mu and logvar and are correct"


# ---------------------------------------------------------------- precision_weighted_merge


def pwm_inputs(rng):
    out = {"mu_a": rng.normal(size=(3, 4)) * 2, "mu_b": rng.normal(size=(3, 4)) * 2,
           "var_a": rng.uniform(0.05, 3.0, size=(3, 4)), "var_b": rng.uniform(0.05, 3.0, size=(3, 4))}
    out["tiny"] = np.full((3, 4), 1e-8)
    return out


def pwm_probe(precision_weighted_merge, inputs, record):
    ma, va, mb, vb, tiny = (torch.from_numpy(inputs[k]) for k in ("mu_a", "var_a", "mu_b", "var_b", "tiny"))
    record("random", lambda: precision_weighted_merge(ma, va, mb, vb))
    record("f32", lambda: precision_weighted_merge(ma.float(), va.float(), mb.float(), vb.float()))
    record("confident_b", lambda: precision_weighted_merge(ma, va, mb, tiny))
    record("confident_a", lambda: precision_weighted_merge(ma, tiny, mb, vb))


def _pwm_pair(ctx, key):
    items = ctx.items(key)
    if len(items) != 2:
        raise Fail(f"returned {len(items)} items; expected the pair (mu, var)")
    mu, var = (ctx.get(k, kinds=TENSOR) for k in items)
    if mu.shape != (3, 4) or var.shape != (3, 4):
        raise Fail(f"inputs of shape (3, 4) gave mu {mu.shape} and var {var.shape}; both must keep the inputs' shape")
    return mu, var


def _pwm_format(ctx):
    for key in ("random", "f32"):
        _pwm_pair(ctx, key)
    return True, "returns (mu, var) of the inputs' shape"


def _pwm_var(ctx):
    _, var = _pwm_pair(ctx, "random")
    if not _close(var, ctx.ref("random/1"), 1e-6, 1e-10):
        return False, "wrong variance: var = 1 / (1/var_a + 1/var_b) (the precisions add)"
    _, var = _pwm_pair(ctx, "f32")
    if not _close(var, ctx.ref("f32/1"), 1e-5, 1e-6):
        return False, "wrong variance on float32 inputs"
    return True, "variance correct"


def _pwm_mu(ctx):
    mu, _ = _pwm_pair(ctx, "random")
    if not _close(mu, ctx.ref("random/0"), 1e-6, 1e-9):
        return False, "wrong mean: mu = (mu_a / var_a + mu_b / var_b) * var (weight each mean by its precision)"
    mu, _ = _pwm_pair(ctx, "f32")
    if not _close(mu, ctx.ref("f32/0"), 1e-5, 1e-5):
        return False, "wrong mean on float32 inputs"
    return True, "mean correct"


def _pwm_smaller(ctx):
    _, var = _pwm_pair(ctx, "random")
    bound = np.minimum(ctx.inputs["var_a"], ctx.inputs["var_b"])
    if not (_f64(var) < bound).all() or not (_f64(var) > 0).all():
        return False, "the merged variance must be positive and smaller than both input variances (precisions add)"
    return True, "merged variance smaller than both"


def _pwm_confident(ctx):
    for key, follow in (("confident_b", "mu_b"), ("confident_a", "mu_a")):
        mu, var = _pwm_pair(ctx, key)
        if not np.allclose(_f64(mu), ctx.inputs[follow], rtol=0, atol=1e-5):
            return False, "when one Gaussian is very confident (tiny variance) the merged mean must follow it"
        if not ((_f64(var) <= 1e-8 * (1 + 1e-9)) & (_f64(var) >= 0.99e-8)).all():
            return False, "when one Gaussian is very confident (tiny variance) the merged variance must be about that tiny variance"
    return True, "a very confident Gaussian dominates the merge"


# ---------------------------------------------------------------- diag_gmm_log_prob

GRID = np.linspace(-20.0, 20.0, 40001)


def gmm_inputs(rng):
    out = {"x": rng.normal(size=(2, 4, 3)) * 2, "lw": rng.normal(size=(2, 4, 5)) * 2,
           "mu": rng.normal(size=(2, 4, 5, 3)) * 2, "ls": rng.uniform(-2.0, 1.0, size=(2, 4, 5, 3))}
    out["wide_x"] = rng.normal(size=(2, 4, 3)) * 3
    out["wide_ls"] = rng.uniform(-7.0, 3.0, size=(2, 4, 5, 3))
    out["s_x"] = rng.normal(size=(6, 2)).astype(np.float32)
    out["s_lw"] = rng.normal(size=(6, 3)).astype(np.float32)
    out["s_mu"] = rng.normal(size=(6, 3, 2)).astype(np.float32)
    out["s_ls"] = (rng.random((6, 3, 2)) - 0.5).astype(np.float32)
    # two 1-D mixtures to integrate on the grid; the second has a narrow component
    out["g0_lw"], out["g0_mu"] = rng.normal(size=3) + 1.0, rng.uniform(-3, 3, size=(3, 1))
    out["g0_ls"] = rng.uniform(-1.0, 0.7, size=(3, 1))
    out["g1_lw"], out["g1_mu"] = rng.normal(size=2) - 1.0, rng.uniform(-2, 2, size=(2, 1))
    out["g1_ls"] = np.array([[-3.5], [rng.uniform(0.0, 0.5)]])
    out["grid"] = GRID
    # narrow (log std -7) and broad (log std 3) components, points near and far, float32
    out["n_x"] = (rng.uniform(0.5, 1.5, size=(4, 2)) * rng.choice([-1, 1], size=(4, 2))).astype(np.float32)
    out["f_x"] = (rng.uniform(40, 60, size=(4, 2)) * rng.choice([-1, 1], size=(4, 2))).astype(np.float32)
    out["b_x"] = (rng.uniform(150, 250, size=(4, 2)) * rng.choice([-1, 1], size=(4, 2))).astype(np.float32)
    out["e_lw"] = rng.normal(size=(4, 3)).astype(np.float32)
    out["e_mu"] = rng.normal(size=(4, 3, 2)).astype(np.float32) * 0.1
    return out


def gmm_probe(diag_gmm_log_prob, inputs, record):
    def t(k):
        return torch.from_numpy(inputs[k])

    record("values", lambda: diag_gmm_log_prob(t("x"), t("lw"), t("mu"), t("ls")))
    record("wide", lambda: diag_gmm_log_prob(t("wide_x"), t("lw"), t("mu"), t("wide_ls")))
    record("simple", lambda: diag_gmm_log_prob(t("s_x"), t("s_lw"), t("s_mu"), t("s_ls")))
    grid = t("grid")[:, None]
    n = grid.shape[0]
    for g in ("g0", "g1"):
        lw, mu, ls = t(f"{g}_lw"), t(f"{g}_mu"), t(f"{g}_ls")
        k = lw.shape[0]
        record(g, lambda lw=lw, mu=mu, ls=ls, k=k: diag_gmm_log_prob(
            grid, lw.expand(n, k), mu.expand(n, k, 1), ls.expand(n, k, 1)))
    lw, mu = t("e_lw"), t("e_mu")
    for key, xk, val in (("narrow", "n_x", -7.0), ("far", "f_x", -7.0), ("broad", "b_x", 3.0)):
        record(key, lambda xk=xk, val=val: diag_gmm_log_prob(t(xk), lw, mu, torch.full(mu.shape, val)))


def _gmm_shapes(ctx):
    got = ctx.get("values", kinds=TENSOR)
    if got.shape != (2, 4):
        raise Fail(f"x (2, 4, 3) with K = 5 components gave shape {got.shape}; expected (2, 4)")
    got = ctx.get("simple", kinds=TENSOR)
    if got.shape != (6,):
        raise Fail(f"x (6, 2) with K = 3 components gave shape {got.shape}; expected (6,)")
    return True, "shape (...) for x of shape (..., D)"


def _gmm_values(ctx):
    if not _close(ctx.get("values", kinds=TENSOR, shape=(2, 4)), ctx.ref("values"), 1e-6, 1e-6):
        return False, ("wrong log densities (float64, extra batch dimensions): normalise the weights with log_softmax, "
                       "std = exp(log_stds), and include -log std and -log(2 pi) / 2 per dimension")
    if not _close(ctx.get("simple", kinds=TENSOR, shape=(6,)), ctx.ref("simple"), 1e-5, 1e-4):
        return False, "wrong log densities on float32 inputs"
    return True, "log densities correct"


def _gmm_normalized(ctx):
    for i, g in enumerate(("g0", "g1")):
        lp = ctx.get(g, kinds=TENSOR, shape=GRID.shape)
        if not np.isfinite(lp).all():
            return False, f"mixture {i + 1}: not finite on a grid of points"
        total = float(np.trapezoid(np.exp(_f64(lp)), GRID))
        if not abs(total - 1.0) < 1e-4:
            return False, (f"a 1-D mixture integrates to {total:.4f} over a fine grid, not 1: normalise the weights "
                           "(log_softmax) and include -log std")
    return True, "integrates to 1 on a fine 1-D grid (two mixtures, one with a narrow component)"


def _gmm_stable(ctx):
    # finite everywhere; accurate too, unless the formula itself is wrong (the values check costs that)
    judge_accuracy = _close(ctx.get("values", kinds=TENSOR, shape=(2, 4)), ctx.ref("values"), 1e-6, 1e-6)
    got = ctx.get("wide", kinds=TENSOR, shape=(2, 4))
    if not np.isfinite(got).all():
        return False, "not finite for log_stds in [-7, 3]: stay in log space (torch.logsumexp), never exp the component log densities"
    if judge_accuracy and not _close(got, ctx.ref("wide"), 1e-6, 1e-6):
        return False, "inaccurate for log_stds in [-7, 3] (do not clamp log_stds)"
    for key, what in (("narrow", "one unit away from components with log std -7"),
                      ("far", "far from components with log std -7"), ("broad", "far from components with log std 3")):
        got = ctx.get(key, kinds=TENSOR, shape=(4,))
        if not np.isfinite(got).all():
            return False, f"not finite at points {what}: use torch.logsumexp over the components"
        if judge_accuracy and not _close(got, ctx.ref(key), 1e-5, 1e-3):
            return False, f"inaccurate at points {what} (float32; do not clamp log_stds)"
    return True, "finite and accurate for log_stds in [-7, 3], near and far"


# ---------------------------------------------------------------- shared: dependency maps from perturbation runs


def _runs(ctx, key, shape_tail, T, what):
    """The stacked runs (T + 2, B, T, ...): base, one per moved step, base again."""
    arr = ctx.get(key, kinds=TENSOR)
    if arr.shape[0] != T + 2 or tuple(arr.shape[1:]) != tuple(shape_tail):
        raise Fail(f"{what} has shape {arr.shape[1:]}; expected {tuple(shape_tail)}")
    if arr.dtype.kind != "f":
        raise Fail(f"{what} must be a float tensor")
    if not np.isfinite(arr).all():
        raise Fail(f"{what} has NaN or inf values")
    if not np.array_equal(arr[0], arr[-1]):
        raise Fail(f"{what} differs between two calls on the same x under the same torch.manual_seed: draw the "
                   "posterior noise with torch (torch.randn_like) and keep no state between calls")
    return _f64(arr)


def _step_dep(arr, T):
    """dep[t, s]: output step t changed when input step s was moved."""
    base = arr[0]
    dep = np.zeros((T, T), dtype=bool)
    for s in range(T):
        moved = np.abs(arr[s + 1] - base) > 1e-6 * (1.0 + np.abs(base))
        dep[:, s] = moved.reshape(moved.shape[0], T, -1).any(axis=(0, 2))
    return dep


def _model_ran(ctx, key):
    ctx.meta(key)  # raises Fail with the forward's error


def _check_prior_causal(dep, what):
    res = check_autoregressive(dep, max_report=2)
    if not res.passed:
        bad = np.argwhere(np.triu(dep))
        t, s = int(bad[0][0]), int(bad[0][1])
        where = "itself" if s == t else f"the later step {s}"
        raise Fail(f"{what} at step {t} changes when x at {where} changes ({len(bad)} such pair(s)); "
                   "the prior at t may depend only on x[:, :t]")


def _sample_check(ctx, prefix, n, x_dim):
    a = ctx.get(f"{prefix}_sample_a", kinds=TENSOR)
    if a.shape != (n, x_dim):
        raise Fail(f"sample({n}) returned shape {a.shape}; expected (num_steps, x_dim) = {(n, x_dim)}")
    if not np.isfinite(a).all():
        raise Fail("samples have NaN or inf values")
    d = ctx.get(f"{prefix}_sample_default", kinds=TENSOR)
    if d.shape != (3, x_dim):
        raise Fail(f"sample(3) without a generator returned shape {d.shape}; expected {(3, x_dim)}")
    b = ctx.get(f"{prefix}_sample_b", kinds=TENSOR, shape=(n, x_dim))
    c = ctx.get(f"{prefix}_sample_c", kinds=TENSOR, shape=(n, x_dim))
    if not np.array_equal(a, b):
        raise Fail("the same seeded generator gave different samples (under different global seeds): draw all "
                   "noise with torch.randn(..., generator=generator)")
    if np.array_equal(a, c):
        raise Fail("different generator seeds gave identical samples: draw the noise from the generator")
    other = ctx.get(f"{prefix}_sample_other", kinds=TENSOR, shape=(n, x_dim))
    if np.allclose(a, other, rtol=1e-6, atol=1e-7):
        raise Fail("two models with different weights gave the same sample for the same generator seed: the "
                   "sample must come from the model (its priors and its decoder)")


def _as_layers(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def grad_flags(model, x, seed):
    """(2, number of parameter tensors): row 0, does the posterior (out['post_mu'], out['post_logvar'])
    depend on the parameter; row 1, does out['nll'] send it a gradient."""
    params = [p for p in model.parameters() if p.requires_grad]
    torch.manual_seed(seed)
    out = model(x)
    post = sum(t.sum() for key in ("post_mu", "post_logvar") for t in _as_layers(out[key]))
    rows = []
    for target in (post, out["nll"].sum()):
        grads = torch.autograd.grad(target, params, retain_graph=True, allow_unused=True)
        rows.append(torch.tensor([g is not None and bool((g != 0).any()) for g in grads]))
    return torch.stack(rows)


def noise_runs(model, x, seed):
    """out['nll'] for two torch seeds in training mode, then two in eval mode (the model is left in
    training mode)."""
    outs = []
    for mode in ("train", "eval"):
        getattr(model, mode)()
        for s in (seed + 1, seed + 2):
            torch.manual_seed(s)
            with torch.no_grad():
                outs.append(model(x)["nll"])
    model.train()
    return torch.stack(outs)


def _reparameterised(ctx, prefix, B, T):
    noise = ctx.get(f"{prefix}_noise", kinds=TENSOR, shape=(4, B, T))
    if np.array_equal(noise[0], noise[1]):
        return False, ("two calls of forward under different torch seeds gave the same out['nll']: draw z_t = "
                       "mu + exp(logvar / 2) * torch.randn_like(mu) (one sample), not the posterior mean")
    if np.array_equal(noise[2], noise[3]):
        return False, ("in eval mode, two calls under different torch seeds gave the same out['nll']: forward must "
                       "draw z_t by reparameterisation in eval mode too (model.eval() must not switch to the mean)")
    try:
        ctx.meta(f"{prefix}_grad")
    except Fail as err:
        return False, (f"gradients of out['nll'] and of the posterior parameters could not be taken ({err}): keep "
                       "them differentiable (no torch.no_grad or detach inside forward)")
    flags = ctx.get(f"{prefix}_grad", kinds=TENSOR)
    if flags.ndim != 2 or flags.shape[0] != 2:
        raise Fail("the gradient flags could not be read")
    post, nll = flags.astype(bool)
    if not post.any():
        return False, "the returned posterior parameters do not depend on any of the model's parameters"
    if (post & ~nll).any():
        return False, ("out['nll'] sends no gradient to some parameters that shape the posterior: z_t must be the "
                       "differentiable mu + exp(logvar / 2) * eps of the posterior's parameters (not "
                       "Normal(...).sample(), no detach)")
    return True, "z is a fresh reparameterised sample in training and in eval mode, and the nll's gradient reaches the posterior"


def _moved_inputs(ctx, i, T):
    """The inputs of the T + 2 forward runs: base, step s moved (s = 0..T-1), base again."""
    x, delta = _f64(ctx.inputs[f"c{i}_x"]), _f64(ctx.inputs[f"c{i}_delta"])
    xs = [x]
    for s in range(T):
        xm = x.copy()
        xm[:, s] = xm[:, s] + delta
        xs.append(xm)
    xs.append(x)
    return np.stack(xs)


def _gaussian_nll_check(ctx, xs, nll, mu, logvar):
    ref = 0.5 * (logvar + (xs - mu) ** 2 / np.exp(logvar) + np.log(2 * np.pi)).sum(-1)
    if np.allclose(nll, ref, rtol=1e-4, atol=1e-4):
        return True, "nll is -log N(x_t; dec_mu, exp(dec_logvar)), summed over x_dim"
    if np.allclose(nll, ref / xs.shape[-1], rtol=1e-4, atol=1e-4):
        return False, "out['nll'] is the mean over x_dim of the per-dimension terms: sum them (nats per step)"
    return False, ("out['nll'] is not -log N(x_t; dec_mu, exp(dec_logvar)) of the returned decoder parameters, "
                   "summed over x_dim: check the 1/2, the log 2 pi and that exp(dec_logvar) is a variance")


# ---------------------------------------------------------------- VRNN

VRNN_CASES = [(2, 12, 3, 3, 7), (3, 8, 2, 2, 6)]   # x_dim, h_dim, z_dim, B, T
VRNN_KEYS = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
VRNN_SAMPLE = 9
V_POST = "posterior reads x_t"
V_PRIOR = "prior reads the past"
V_NLL = "nll reads x_t, not the future"


def vrnn_inputs(rng):
    out = {}
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        out[f"c{i}_x"] = rng.normal(size=(B, T, xd)).astype(np.float32)
        out[f"c{i}_delta"] = rng.uniform(0.5, 1.5, size=xd).astype(np.float32)
        out[f"c{i}_seeds"] = rng.integers(0, 2**31, size=3).astype(np.int64)
    return out


def vrnn_probe(VRNN, inputs, record):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        x, delta = torch.from_numpy(inputs[f"c{i}_x"]), torch.from_numpy(inputs[f"c{i}_delta"])
        s_model, s_noise, s_gen = (int(v) for v in inputs[f"c{i}_seeds"])
        torch.manual_seed(s_model)
        models = []
        record(f"c{i}_init", lambda xd=xd, hd=hd, zd=zd: models.append(VRNN(xd, hd, zd)) or True)
        if not models:
            continue
        model = models[0]
        runs = []

        def forward_all(x=x, delta=delta, T=T, model=model, runs=runs, s_noise=s_noise):
            # the base x, x with step s moved (s = 0..T-1), the base x again; same noise every time
            for s in list(range(-1, T)) + [-1]:
                xs = x.clone()
                if s >= 0:
                    xs[:, s] = xs[:, s] + delta
                torch.manual_seed(s_noise)
                np.random.seed(s_noise % 2**32)
                with torch.no_grad():
                    runs.append(model(xs))
            return True
        record(f"c{i}_forward", forward_all)
        for k in VRNN_KEYS:
            record(f"c{i}_{k}", lambda k=k, runs=runs: torch.stack([r[k] for r in runs]))
        with torch.no_grad():
            torch.manual_seed(s_noise)
            record(f"c{i}_tiny_nll", lambda model=model, x=x: model(x[:1, :1])["nll"])
        record(f"c{i}_noise", lambda model=model, x=x, s=s_noise: noise_runs(model, x, s))
        record(f"c{i}_grad", lambda model=model, x=x, s=s_noise: grad_flags(model, x, s))
        gen = lambda s: torch.Generator().manual_seed(s)
        torch.manual_seed(1)
        record(f"c{i}_sample_a", lambda model=model, s=s_gen: model.sample(VRNN_SAMPLE, generator=gen(s)))
        torch.manual_seed(2)
        record(f"c{i}_sample_b", lambda model=model, s=s_gen: model.sample(VRNN_SAMPLE, generator=gen(s)))
        record(f"c{i}_sample_c", lambda model=model, s=s_gen: model.sample(VRNN_SAMPLE, generator=gen(s + 1)))
        record(f"c{i}_sample_default", lambda model=model: model.sample(3))

        def other_model(xd=xd, hd=hd, zd=zd, s=s_gen):
            torch.manual_seed(s_model + 1)
            return VRNN(xd, hd, zd).sample(VRNN_SAMPLE, generator=gen(s))
        record(f"c{i}_sample_other", other_model)


def _vrnn_get(ctx, i, key):
    xd, hd, zd, B, T = VRNN_CASES[i]
    _model_ran(ctx, f"c{i}_init")
    _model_ran(ctx, f"c{i}_forward")
    tail = (B, T) if key in ("nll", "kl") else (B, T, xd) if key.startswith("dec_") else (B, T, zd)
    what = f"out[{key!r}] (x of shape {(B, T, xd)}, z_dim {zd})"
    return _runs(ctx, f"c{i}_{key}", tail, T, what)


def _vrnn_post_reads_x(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        dep = _step_dep(_vrnn_get(ctx, i, "post_mu"), T)
        if not np.diag(dep).all():
            return False, "out['post_mu'] at step t does not change with x_t: the posterior must read x_t"
    return True, "the posterior at t reads x_t"


def _vrnn_prior_past(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        for key in ("prior_mu", "prior_logvar"):
            dep = _step_dep(_vrnn_get(ctx, i, key), T)
            if not dep[T - 1, :T - 1].any():
                return False, f"out[{key!r}] at the last step ignores every earlier step: the prior must read h_(t-1)"
    return True, "the prior reads the past through h_(t-1)"


def _vrnn_nll(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        dep = _step_dep(_vrnn_get(ctx, i, "nll"), T)
        if not np.diag(dep).all():
            return False, "out['nll'] at step t does not change with x_t: it must be -log p(x_t | z_t, h_(t-1))"
        if np.triu(dep, k=1).any():
            return False, "out['nll'] at some step t depends on later steps"
    return True, "nll reads x_t and nothing later"


def _vrnn_outputs(ctx):
    for i in range(len(VRNN_CASES)):
        for key in VRNN_KEYS:
            _vrnn_get(ctx, i, key)
        tiny = ctx.get(f"c{i}_tiny_nll", kinds=TENSOR)
        if tiny.shape != (1, 1):
            return False, f"B = 1, T = 1 gave out['nll'] of shape {tiny.shape}; expected (1, 1)"
    return True, "a dict of nll, kl (B, T), prior/posterior parameters (B, T, z_dim), decoder parameters (B, T, x_dim)"


def _vrnn_prior_causal(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        for key in ("prior_mu", "prior_logvar"):
            _check_prior_causal(_step_dep(_vrnn_get(ctx, i, key), T), f"out[{key!r}]")
    return True, "the prior at t depends only on x[:, :t]"


def _vrnn_posterior_past(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        for key in ("post_mu", "post_logvar"):
            dep = _step_dep(_vrnn_get(ctx, i, key), T)
            if np.triu(dep, k=1).any():
                return False, f"out[{key!r}] at some step t depends on later steps; the posterior may read only x[:, :t+1]"
    return True, "the posterior at t reads nothing after x_t"


def _vrnn_kl(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        kl = _vrnn_get(ctx, i, "kl")
        ref = _kl_np(*(_vrnn_get(ctx, i, k) for k in ("post_mu", "post_logvar", "prior_mu", "prior_logvar")))
        if not np.allclose(kl, ref, rtol=1e-4, atol=1e-4):
            if np.allclose(kl, ref / zd, rtol=1e-4, atol=1e-4):
                return False, "out['kl'] is the mean over z_dim: sum the KL over the latent dimensions"
            return False, ("out['kl'] is not KL(posterior || prior) of the returned parameters: check the order, "
                           "the 1/2 and the sum over z")
    return True, "kl is the closed-form KL(q || p) of the returned parameters"


def _vrnn_nll_value(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        res = _gaussian_nll_check(ctx, _moved_inputs(ctx, i, T), _vrnn_get(ctx, i, "nll"),
                                  _vrnn_get(ctx, i, "dec_mu"), _vrnn_get(ctx, i, "dec_logvar"))
        if not res[0]:
            return res
    return True, "nll is -log N(x_t; dec_mu, exp(dec_logvar)), summed over x_dim"


def _vrnn_reparam(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        _model_ran(ctx, f"c{i}_init")
        res = _reparameterised(ctx, f"c{i}", B, T)
        if not res[0]:
            return res
    return res


def _vrnn_sample(ctx):
    for i, (xd, hd, zd, B, T) in enumerate(VRNN_CASES):
        _model_ran(ctx, f"c{i}_init")
        _sample_check(ctx, f"c{i}", VRNN_SAMPLE, xd)
    return True, "sample(num_steps) is (num_steps, x_dim), finite, repeatable with a seeded generator and the model's own"


# ---------------------------------------------------------------- STCN

# x_dim, channels, latent_dims, dilations, B, T (T > sum(dilations) + 1 so the receptive field shows)
STCN_CASES = [(3, 6, [2, 2, 3], [1, 2, 1, 2, 1, 4], 3, 14), (2, 8, [3], [1, 2, 4], 3, 10)]
STCN_SAMPLE = 8
STCN_LAYER_KEYS = ("prior_mu", "prior_logvar", "post_mu", "post_logvar")
S_TOP = "top prior reads d_(t-1)"
S_POST = "posterior reads x_t"
S_NLL = "nll reads x_t, not the future"


def stcn_inputs(rng):
    out = {}
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        out[f"c{i}_x"] = rng.normal(size=(B, T, xd)).astype(np.float32)
        out[f"c{i}_delta"] = rng.uniform(0.5, 1.5, size=xd).astype(np.float32)
        out[f"c{i}_seeds"] = rng.integers(0, 2**31, size=3).astype(np.int64)
    return out


def stcn_probe(STCN, inputs, record):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        L = len(lat)
        x, delta = torch.from_numpy(inputs[f"c{i}_x"]), torch.from_numpy(inputs[f"c{i}_delta"])
        s_model, s_noise, s_gen = (int(v) for v in inputs[f"c{i}_seeds"])
        torch.manual_seed(s_model)
        models = []
        record(f"c{i}_init", lambda xd=xd, ch=ch, lat=lat, dil=dil: models.append(STCN(xd, ch, list(lat), list(dil))) or True)
        if not models:
            continue
        model = models[0]
        runs = []

        def forward_all(x=x, delta=delta, T=T, model=model, runs=runs, s_noise=s_noise):
            for s in list(range(-1, T)) + [-1]:
                xs = x.clone()
                if s >= 0:
                    xs[:, s] = xs[:, s] + delta
                torch.manual_seed(s_noise)
                np.random.seed(s_noise % 2**32)
                with torch.no_grad():
                    runs.append(model(xs))
            return True
        record(f"c{i}_forward", forward_all)
        for k in ("nll", "kl", "dec_mu", "dec_logvar"):
            record(f"c{i}_{k}", lambda k=k, runs=runs: torch.stack([r[k] for r in runs]))
        for k in STCN_LAYER_KEYS:
            record(f"c{i}_{k}_len", lambda k=k, runs=runs: len(runs[0][k]) if isinstance(runs[0][k], (list, tuple)) else -1)
            for l in range(L):
                record(f"c{i}_{k}_{l}", lambda k=k, l=l, runs=runs: torch.stack([r[k][l] for r in runs]))
        with torch.no_grad():
            torch.manual_seed(s_noise)
            record(f"c{i}_tiny_nll", lambda model=model, x=x: model(x[:1, :1])["nll"])
        record(f"c{i}_noise", lambda model=model, x=x, s=s_noise: noise_runs(model, x, s))
        record(f"c{i}_grad", lambda model=model, x=x, s=s_noise: grad_flags(model, x, s))
        gen = lambda s: torch.Generator().manual_seed(s)
        torch.manual_seed(1)
        record(f"c{i}_sample_a", lambda model=model, s=s_gen: model.sample(STCN_SAMPLE, generator=gen(s)))
        torch.manual_seed(2)
        record(f"c{i}_sample_b", lambda model=model, s=s_gen: model.sample(STCN_SAMPLE, generator=gen(s)))
        record(f"c{i}_sample_c", lambda model=model, s=s_gen: model.sample(STCN_SAMPLE, generator=gen(s + 1)))
        record(f"c{i}_sample_default", lambda model=model: model.sample(3))

        def other_model(xd=xd, ch=ch, lat=lat, dil=dil, s=s_gen):
            torch.manual_seed(s_model + 1)
            return STCN(xd, ch, list(lat), list(dil)).sample(STCN_SAMPLE, generator=gen(s))
        record(f"c{i}_sample_other", other_model)


def _stcn_get(ctx, i, key, layer=None):
    xd, ch, lat, dil, B, T = STCN_CASES[i]
    _model_ran(ctx, f"c{i}_init")
    _model_ran(ctx, f"c{i}_forward")
    if layer is None:
        tail = (B, T, xd) if key.startswith("dec_") else (B, T)
        return _runs(ctx, f"c{i}_{key}", tail, T, f"out[{key!r}] (x of shape {(B, T, xd)})")
    n = int(ctx.get(f"c{i}_{key}_len"))
    if n != len(lat):
        raise Fail(f"out[{key!r}] must be a list with one entry per latent layer ({len(lat)} for latent_dims {lat})")
    return _runs(ctx, f"c{i}_{key}_{layer}", (B, T, lat[layer]), T,
                 f"out[{key!r}][{layer}] (x of shape {(B, T, xd)}, latent_dims {lat})")


def _stcn_top_reads_prev(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        dep = _step_dep(_stcn_get(ctx, i, "prior_mu", len(lat) - 1), T)
        if not all(dep[t, t - 1] for t in range(1, T)):
            return False, "the top prior at t does not change with x_(t-1): it must read d_(t-1), which depends on x_(t-1)"
    return True, "the top prior reads d_(t-1)"


def _stcn_post_reads_x(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        for l in range(len(lat)):
            dep = _step_dep(_stcn_get(ctx, i, "post_mu", l), T)
            if not np.diag(dep).all():
                return False, (f"out['post_mu'][{l}] at step t does not change with x_t: the posterior's data term "
                               "must read d_t")
    return True, "every layer's posterior at t reads x_t"


def _stcn_nll(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        dep = _step_dep(_stcn_get(ctx, i, "nll"), T)
        if not np.diag(dep).all():
            return False, "out['nll'] at step t does not change with x_t: it must be -log p(x_t | z^0_t)"
        if np.triu(dep, k=1).any():
            return False, "out['nll'] at some step t depends on later steps: the TCN must be causal"
    return True, "nll reads x_t and nothing later"


def _stcn_outputs(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        for key in ("nll", "kl", "dec_mu", "dec_logvar"):
            _stcn_get(ctx, i, key)
        for key in STCN_LAYER_KEYS:
            for l in range(len(lat)):
                _stcn_get(ctx, i, key, l)
        tiny = ctx.get(f"c{i}_tiny_nll", kinds=TENSOR)
        if tiny.shape != (1, 1):
            return False, f"B = 1, T = 1 gave out['nll'] of shape {tiny.shape}; expected (1, 1)"
    return True, "nll, kl (B, T), per-layer prior and posterior lists (index 0 the lowest), decoder parameters, finite"


def _stcn_top_causal(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        for key in ("prior_mu", "prior_logvar"):
            _check_prior_causal(_step_dep(_stcn_get(ctx, i, key, len(lat) - 1), T), f"the top layer's out[{key!r}]")
    return True, "the top prior at t depends only on x[:, :t]"


def _stcn_receptive_field(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        dep = _step_dep(_stcn_get(ctx, i, "prior_mu", len(lat) - 1), T)
        # d_t sees x_(t - sum(dilations)) .. x_t and the prior at t reads d_(t-1); without dilations the
        # field would end at x_(t - 1 - len(dilations)). (The far edge of the dilated field is too weak at
        # initialization to measure reliably, so the check asks for more than the undilated field.)
        t = T - 1
        if dep[t, :t - 1 - sum(dil)].any():
            return False, (f"the top prior reaches further into the past than a causal TCN with dilations {dil} and "
                           "kernel size 2 can")
        if not dep[t, :t - 1 - len(dil)].any():
            return False, (f"the top prior does not reach further back than a TCN without dilations would: use each "
                           f"block's dilation (dilations {dil}, kernel size 2)")
    return True, "the top prior's receptive field is that of the dilated causal TCN"


def _stcn_lower(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        for l in range(len(lat) - 1):
            dep = _step_dep(_stcn_get(ctx, i, "prior_mu", l), T)
            if np.triu(dep, k=1).any():
                return False, f"the prior of layer {l} at some step t depends on later steps"
            if not np.diag(dep).all():
                return False, (f"the prior of layer {l} at step t does not change with x_t: in training it must read "
                               "the layer above's posterior sample z^(l+1)_t")
    return True, "lower priors read the posterior sample of the layer above and nothing later"


def _stcn_kl(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        kl = _stcn_get(ctx, i, "kl")
        if np.triu(_step_dep(kl, T), k=1).any():
            return False, "out['kl'] at some step t depends on later steps: the TCN must be causal"
        per_layer = [_kl_np(*(_stcn_get(ctx, i, k, l) for k in ("post_mu", "post_logvar", "prior_mu", "prior_logvar")))
                     for l in range(len(lat))]
        ref = np.sum(per_layer, axis=0)
        if not np.allclose(kl, ref, rtol=1e-4, atol=1e-4):
            if len(lat) > 1 and any(np.allclose(kl, p, rtol=1e-4, atol=1e-4) for p in per_layer):
                return False, "out['kl'] is the KL of one layer only: add every layer's KL (kl = kl + ...)"
            return False, ("out['kl'] is not the sum over layers of KL(posterior || prior) of the returned "
                           "parameters: check the order, the 1/2, the sum over z and over the layers")
    return True, "kl is the sum over layers of the closed-form KL(q || p) of the returned parameters"


def _stcn_merge(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        for l in range(len(lat)):
            post, prior = _stcn_get(ctx, i, "post_logvar", l), _stcn_get(ctx, i, "prior_logvar", l)
            if (post > prior + 1e-5).any():
                return False, ("a posterior variance is larger than its prior's: the posterior must be the "
                               "precision-weighted merge of the data term and the prior (precisions add)")
    return True, "every posterior variance is below its prior's (precision-weighted merge)"


def _stcn_nll_value(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        res = _gaussian_nll_check(ctx, _moved_inputs(ctx, i, T), _stcn_get(ctx, i, "nll"),
                                  _stcn_get(ctx, i, "dec_mu"), _stcn_get(ctx, i, "dec_logvar"))
        if not res[0]:
            return res
    return True, "nll is -log N(x_t; dec_mu, exp(dec_logvar)), summed over x_dim"


def _stcn_reparam(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        _model_ran(ctx, f"c{i}_init")
        res = _reparameterised(ctx, f"c{i}", B, T)
        if not res[0]:
            return res
    return res


def _stcn_sample(ctx):
    for i, (xd, ch, lat, dil, B, T) in enumerate(STCN_CASES):
        _model_ran(ctx, f"c{i}_init")
        _sample_check(ctx, f"c{i}", STCN_SAMPLE, xd)
    return True, "sample(num_steps) is (num_steps, x_dim), finite, repeatable with a seeded generator and the model's own"


# ---------------------------------------------------------------- the tasks

KL_VALUES = "values against the closed form"
REP_VALUES = "values"
PWM_VAR = "variance"
PWM_MU = "mean"
GMM_VALUES = "values"
SHARED = (_as_layers, grad_flags, noise_runs)

TASKS = [
    Task("gaussian_kl", kl_inputs, kl_probe, [
        Check(KL_VALUES, 3, _kl_values),
        Check("argument order (not symmetric)", 1, _kl_order),
        Check("sums over the last dimension", 1, _kl_shapes, requires=(KL_VALUES,)),
        Check("KL(q || q) = 0", 1, _kl_self, requires=(KL_VALUES,)),
        Check("non-negative", 1, _kl_nonneg, requires=(KL_VALUES,)),
    ]),
    Task("reparameterize", rep_inputs, rep_probe, [
        Check(REP_VALUES, 2, _rep_values),
        Check("gradients reach mu and logvar", 2, _rep_grads),
        Check("uses the given eps", 1, _rep_eps, requires=(REP_VALUES,)),
    ]),
    Task("precision_weighted_merge", pwm_inputs, pwm_probe, [
        Check(PWM_VAR, 2, _pwm_var),
        Check(PWM_MU, 2, _pwm_mu),
        Check("returns (mu, var)", 1, _pwm_format, requires=(PWM_VAR,)),
        Check("variance smaller than both", 1, _pwm_smaller, requires=(PWM_VAR,)),
        Check("a confident Gaussian dominates", 1, _pwm_confident, requires=(PWM_VAR, PWM_MU)),
    ]),
    Task("diag_gmm_log_prob", gmm_inputs, gmm_probe, [
        Check(GMM_VALUES, 3, _gmm_values),
        Check("output shape", 1, _gmm_shapes, requires=(GMM_VALUES,)),
        Check("integrates to 1 (1-D grid)", 2, _gmm_normalized, requires=(GMM_VALUES,)),
        Check("stable for log_stds in [-7, 3]", 2, _gmm_stable, requires=(GMM_VALUES,)),
    ]),
    Task("VRNN", vrnn_inputs, vrnn_probe, [
        Check(V_POST, 1, _vrnn_post_reads_x),
        Check(V_PRIOR, 1, _vrnn_prior_past),
        Check(V_NLL, 1, _vrnn_nll),
        Check("outputs and shapes", 1, _vrnn_outputs, requires=(V_POST,)),
        Check("prior depends only on x[:, :t]", 3, _vrnn_prior_causal, requires=(V_PRIOR,)),
        Check("posterior ignores later steps", 1, _vrnn_posterior_past, requires=(V_POST,)),
        Check("kl is the closed form of the returned parameters", 2, _vrnn_kl, requires=(V_POST, V_PRIOR)),
        Check("nll is the decoder's Gaussian, summed over x_dim", 2, _vrnn_nll_value, requires=(V_NLL,)),
        Check("z by reparameterisation, in eval mode too", 1, _vrnn_reparam, requires=(V_POST,)),
        Check("sampler: shape, seeded generator, the model's own", 2, _vrnn_sample),
    ], constants={"VRNN_CASES": VRNN_CASES, "VRNN_KEYS": VRNN_KEYS, "VRNN_SAMPLE": VRNN_SAMPLE}, helpers=SHARED),
    Task("STCN", stcn_inputs, stcn_probe, [
        Check(S_TOP, 1, _stcn_top_reads_prev),
        Check(S_POST, 1, _stcn_post_reads_x),
        Check(S_NLL, 1, _stcn_nll),
        Check("lower priors read the layer above", 1, _stcn_lower),
        Check("outputs and per-layer shapes", 1, _stcn_outputs, requires=(S_TOP,)),
        Check("top prior depends only on x[:, :t]", 3, _stcn_top_causal, requires=(S_TOP,)),
        Check("receptive field of the dilated TCN", 1, _stcn_receptive_field, requires=(S_TOP,)),
        Check("kl is the sum over layers of the closed form", 2, _stcn_kl, requires=(S_POST, S_TOP)),
        Check("posterior is the precision-weighted merge", 1, _stcn_merge, requires=(S_POST,)),
        Check("nll is the decoder's Gaussian, summed over x_dim", 1, _stcn_nll_value, requires=(S_NLL,)),
        Check("z by reparameterisation, in eval mode too", 1, _stcn_reparam, requires=(S_POST,)),
        Check("sampler: shape, seeded generator, the model's own", 2, _stcn_sample),
    ], constants={"STCN_CASES": STCN_CASES, "STCN_LAYER_KEYS": STCN_LAYER_KEYS, "STCN_SAMPLE": STCN_SAMPLE},
        helpers=SHARED),
]
