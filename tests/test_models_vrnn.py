"""VRNN (course_lib.models.vrnn): the prior depends only on the past, the posterior also on x_t,
closed-form KL, finite ELBOs, KL annealing, sampler shapes."""
import numpy as np
import pytest
import torch

from course_lib.checks import check_autoregressive, dependency_map
from course_lib.models.gaussian import gaussian_kl, reparameterize
from course_lib.models.vrnn import VRNN
from course_lib.train import KLAnnealing

G = lambda s: torch.Generator().manual_seed(s)  # noqa: E731
T = 8


def _x(B=4, T=T, x_dim=3, seed=0):
    x = torch.randn(B, T, x_dim, generator=G(seed))
    if x_dim == 3:
        x[..., 2] = (x[..., 2] > 0).float()
    return x


def _step_map(model, key, x_dim=3):
    """Dependency map of out[key] (B, T, z) on x (B, T, x_dim), and output sites (x_dim * t)."""
    dep = dependency_map(lambda x: model(x, generator=G(1))[key], _x(x_dim=x_dim))
    z = dep.shape[0] // T
    return dep, np.repeat(np.arange(T) * x_dim, z)


def _steps(dep, x_dim=3):
    """Aggregate a (T*z, T*x_dim) map to (T, T): does step t of the output depend on step s of x."""
    return dep.reshape(T, -1, T, x_dim).any(axis=(1, 3))


@pytest.mark.parametrize("x_dim", [3, 2])
@pytest.mark.parametrize("key", ["prior_mu", "prior_logvar"])
def test_prior_depends_only_on_the_past(key, x_dim):
    torch.manual_seed(0)
    model = VRNN(x_dim, 16, 4)
    dep, sites = _step_map(model, key, x_dim)
    result = check_autoregressive(dep, output_site=sites)
    assert result, result.message
    steps = _steps(dep, x_dim)
    assert steps[T - 1, :T - 1].all(), "the prior at the last step should depend on every earlier step"


def test_posterior_depends_on_x_t_and_the_past_only():
    torch.manual_seed(0)
    model = VRNN(3, 16, 4)
    for key in ("post_mu", "post_logvar"):
        steps = _steps(_step_map(model, key)[0])
        assert not np.triu(steps, k=1).any(), f"{key} at t depends on a future x"
        assert np.diag(steps).all(), f"{key} at t must depend on x_t"


def test_nll_and_kl_are_per_step_and_kl_is_closed_form():
    torch.manual_seed(0)
    model = VRNN(3, 16, 4)
    x = _x()
    out = model(x, generator=G(2))
    assert out["nll"].shape == out["kl"].shape == (4, T)
    for k in ("prior_mu", "prior_logvar", "post_mu", "post_logvar"):
        assert out[k].shape == (4, T, 4)
    assert (out["kl"] >= -1e-6).all()
    ref = torch.distributions.kl_divergence(
        torch.distributions.Normal(out["post_mu"], (0.5 * out["post_logvar"]).exp()),
        torch.distributions.Normal(out["prior_mu"], (0.5 * out["prior_logvar"]).exp())).sum(-1)
    assert torch.allclose(out["kl"], ref, atol=1e-5)
    elbo = model.elbo(x)
    assert elbo.shape == (4,) and torch.isfinite(elbo).all()


def test_elbo_masks_padding_and_weights_the_kl():
    torch.manual_seed(0)
    model = VRNN(3, 16, 4)
    x = _x()
    mask = torch.ones(4, T, dtype=torch.bool)
    mask[1, 5:] = False
    out = model(x, generator=G(3))
    e = model.elbo(x, mask, kl_weight=0.5, generator=G(3))
    assert torch.allclose(e[1], -(out["nll"][1, :5] + 0.5 * out["kl"][1, :5]).sum(), atol=1e-5)


def test_gaussian_kl_and_reparameterize():
    g = G(0)
    mq, lq, mp, lp = (torch.randn(5, 3, generator=g) for _ in range(4))
    ref = torch.distributions.kl_divergence(torch.distributions.Normal(mq, (lq / 2).exp()),
                                            torch.distributions.Normal(mp, (lp / 2).exp())).sum(-1)
    assert torch.allclose(gaussian_kl(mq, lq, mp, lp), ref, atol=1e-6)
    assert torch.allclose(gaussian_kl(mq, lq, mq, lq), torch.zeros(5), atol=1e-6)
    eps = torch.randn(5, 3, generator=g)
    assert torch.allclose(reparameterize(mq, lq, eps), mq + (lq / 2).exp() * eps)


def test_kl_annealing_schedule():
    a = KLAnnealing(warmup_steps=4)
    assert [a() for _ in range(6)] == [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]


def test_sampler_shapes_and_reproducibility():
    torch.manual_seed(0)
    model = VRNN(3, 16, 4)
    s = model.sample(15, generator=G(5))
    assert s.shape == (15, 3) and torch.isfinite(s).all()
    assert set(s[:, 2].tolist()) <= {0.0, 1.0}
    assert torch.equal(s, model.sample(15, generator=G(5)))
    assert not torch.equal(s, model.sample(15, generator=G(6)))
    assert model.sample(6, num_samples=3).shape == (3, 6, 3)
    assert VRNN(2, 8, 2).sample(4).shape == (4, 2)


def test_a_prior_that_sees_x_t_is_caught():
    """Honesty: a prior computed from h_t (after reading x_t) must fail the check."""
    torch.manual_seed(0)
    model = VRNN(3, 16, 4)

    def leaky(x):
        out = model(x, generator=G(1))
        # h_t is what the recurrence computes after reading x_t; feed it to the prior network
        z = out["z"]
        px = model.phi_x(x)
        h = x.new_zeros(x.shape[0], model.h_dim)
        hs = []
        for t in range(x.shape[1]):
            h = model.rnn(torch.cat([px[:, t], model.phi_z(z[:, t])], -1), h)
            hs.append(h)
        return model.prior(torch.stack(hs, 1)).chunk(2, -1)[0]

    dep = dependency_map(leaky, _x())
    assert not check_autoregressive(dep, output_site=np.repeat(np.arange(T) * 3, 4))


def test_latent_models_offer_a_bound_not_a_log_likelihood():
    """VRNN and STCN score sequences with `elbo` only: a generic caller looking for `log_prob` (an
    exact log-likelihood, STYLE.md) must not silently get a bound."""
    from course_lib.models.stcn import STCN
    assert not hasattr(VRNN(3, 4, 2), "log_prob") and not hasattr(STCN(3, 4, [2], [1]), "log_prob")
