"""The stroke output distribution (course_lib.models.stroke_output) and the two deterministic baselines.

The mixture + pen likelihood must integrate to one (numerical integration on a grid), its sampler
must agree with it (chi-square on cells whose probabilities come from the Gaussian CDF), and the RNN
and TCN baselines must predict x_t from x_<t only (dependency maps from course_lib.checks).
"""
import math

import numpy as np
import pytest
import torch

from course_lib.checks import check_autoregressive, check_sampler, dependency_map
from course_lib.models.gaussian import diag_gmm_log_prob, sample_diag_gmm
from course_lib.models.handwriting import StrokeRNN, StrokeTCN
from course_lib.models.stroke_output import StrokeMixtureHead, sample_stroke, stroke_log_prob
from course_lib.models.tcn import TCN, CausalConv1d

G = lambda s: torch.Generator().manual_seed(s)  # noqa: E731


def _mixture(K, D, seed=0, batch=()):
    g = G(seed)
    return (torch.randn(*batch, K, generator=g), torch.randn(*batch, K, D, generator=g) * 1.5,
            torch.rand(*batch, K, D, generator=g) - 1.0)


def test_gmm_matches_torch_distributions():
    logits, means, log_stds = _mixture(4, 3, batch=(5,))
    x = torch.randn(5, 3, generator=G(1))
    ref = torch.distributions.MixtureSameFamily(
        torch.distributions.Categorical(logits=logits),
        torch.distributions.Independent(torch.distributions.Normal(means, log_stds.exp()), 1)).log_prob(x)
    assert torch.allclose(diag_gmm_log_prob(x, logits, means, log_stds), ref, atol=1e-5)


def test_gmm_normalizes_in_1d():
    logits, means, log_stds = (t.double() for t in _mixture(3, 1))
    grid = torch.linspace(-15, 15, 60001, dtype=torch.float64)[:, None]
    dens = diag_gmm_log_prob(grid, logits, means, log_stds).exp()
    total = float(torch.trapezoid(dens, grid[:, 0]))
    assert abs(total - 1) < 1e-6, total


def test_stroke_likelihood_normalizes_in_2d_with_the_pen():
    head = StrokeMixtureHead(4, num_components=3).double()
    torch.manual_seed(0)
    with torch.no_grad():
        params = head(torch.randn(4, dtype=torch.float64))
    u = torch.linspace(-12, 12, 801, dtype=torch.float64)
    xx, yy = torch.meshgrid(u, u, indexing="ij")
    total = 0.0
    for pen in (0.0, 1.0):
        pts = torch.stack([xx, yy, torch.full_like(xx, pen)], -1)
        p = {k: v.expand(*pts.shape[:2], *v.shape) for k, v in params.items()}
        dens = stroke_log_prob(pts, p).exp()
        total += float(torch.trapezoid(torch.trapezoid(dens, u, dim=1), u))
    assert abs(total - 1) < 1e-4, f"total probability {total}"


def test_gmm_is_stable_for_narrow_components():
    logits = torch.zeros(2)
    means = torch.tensor([[0.0, 0.0], [5.0, 5.0]])
    log_stds = torch.full((2, 2), -7.0)
    x = torch.tensor([[2.5, 2.5], [0.0, 0.0], [100.0, -100.0]])
    lp = diag_gmm_log_prob(x, logits.expand(3, 2), means.expand(3, 2, 2), log_stds.expand(3, 2, 2))
    assert torch.isfinite(lp).all(), lp
    # far from both components: the log density is a huge negative number, not -inf
    assert lp[0] < -1e6 and lp[2] < lp[0]
    log_stds3 = torch.full((2, 2), 3.0)
    assert torch.isfinite(diag_gmm_log_prob(x, logits.expand(3, 2), means.expand(3, 2, 2), log_stds3.expand(3, 2, 2))).all()


def _normal_cdf(z):
    return 0.5 * (1 + torch.erf(z / math.sqrt(2)))


def test_gmm_sampler_agrees_with_density_1d():
    logits, means, log_stds = (t.double() for t in _mixture(3, 1, seed=2))
    n = 20000
    xs = sample_diag_gmm(logits.expand(n, 3), means.expand(n, 3, 1), log_stds.expand(n, 3, 1), generator=G(3))
    edges = torch.linspace(-6, 6, 25, dtype=torch.float64)
    full = torch.cat([torch.tensor([-math.inf], dtype=torch.float64), edges, torch.tensor([math.inf], dtype=torch.float64)])
    cdf = (torch.softmax(logits, -1)[None] * _normal_cdf((full[:, None] - means[:, 0]) / log_stds[:, 0].exp())).sum(-1)
    probs = (cdf[1:] - cdf[:-1]).numpy()
    cells = np.searchsorted(edges.numpy(), xs[:, 0].numpy())
    result = check_sampler(cells, probs)
    assert result, result.message


def test_stroke_sampler_agrees_with_density_2d_and_pen():
    head = StrokeMixtureHead(4, num_components=2).double()
    torch.manual_seed(1)
    with torch.no_grad():
        params = head(torch.randn(4, dtype=torch.float64))
    n = 30000
    xs = sample_stroke({k: v.expand(n, *v.shape) for k, v in params.items()}, generator=G(4))
    edges = torch.linspace(-3, 3, 7, dtype=torch.float64)
    full = torch.cat([torch.tensor([-math.inf], dtype=torch.float64), edges, torch.tensor([math.inf], dtype=torch.float64)])
    w = torch.softmax(params["logit_weights"], -1)
    mass = []  # per component and axis: probability of each 1-D cell
    for a in range(2):
        cdf = _normal_cdf((full[:, None] - params["means"][:, a]) / params["log_stds"][:, a].exp())  # (E, K)
        mass.append(cdf[1:] - cdf[:-1])
    cell_xy = torch.einsum("k,ik,jk->ij", w, mass[0], mass[1])  # (C, C)
    p_up = torch.sigmoid(params["pen_logit"])
    probs = torch.stack([cell_xy * (1 - p_up), cell_xy * p_up], -1).reshape(-1).detach().numpy()
    C = len(full) - 1
    ix = np.searchsorted(edges.numpy(), xs[:, 0].numpy())
    iy = np.searchsorted(edges.numpy(), xs[:, 1].numpy())
    cells = (ix * C + iy) * 2 + xs[:, 2].numpy().astype(int)
    result = check_sampler(cells, probs)
    assert result, result.message
    assert set(np.unique(xs[:, 2].numpy())) <= {0.0, 1.0}


def _x(B=3, T=10, seed=0):
    x = torch.randn(B, T, 3, generator=G(seed))
    x[..., 2] = (x[..., 2] > 0).float()
    return x


def _param_map(model, T=10):
    """Dependency map of every output parameter at every step on the inputs, with output sites."""
    fn = lambda x: torch.cat([v.reshape(x.shape[0], T, -1) for v in model.predict(x).values()], -1)  # noqa: E731
    dep = dependency_map(fn, _x(4, T))
    per_step = dep.shape[0] // T
    sites = np.repeat(np.arange(T) * 3, per_step)
    return dep, sites


@pytest.mark.parametrize("make", [lambda: StrokeRNN(hidden_size=16, num_components=2),
                                  lambda: StrokeTCN(channels=8, dilations=(1, 2, 4), num_components=2)],
                         ids=["rnn", "tcn"])
def test_baselines_predict_x_t_from_the_past_only(make):
    torch.manual_seed(0)
    dep, sites = _param_map(make())
    result = check_autoregressive(dep, output_site=sites)
    assert result, result.message
    assert dep[sites == 9 * 3].any(), "the last step's prediction should use the past"


def test_a_non_causal_convolution_is_caught(monkeypatch):
    """Honesty: pad both sides (a centred, non-causal convolution) and the check must fail."""
    monkeypatch.setattr(CausalConv1d, "forward",
                        lambda self, x: torch.nn.Conv1d.forward(self, torch.nn.functional.pad(x, (0, self.left_pad))))
    torch.manual_seed(0)
    dep, sites = _param_map(StrokeTCN(channels=8, dilations=(1, 2), num_components=2))
    assert not check_autoregressive(dep, output_site=sites)


def test_tcn_receptive_field():
    tcn = TCN(1, 4, [1, 2, 4])
    assert tcn.receptive_field() == 8
    dep = dependency_map(lambda x: tcn(x)[-1][..., 0], torch.randn(3, 20, 1, generator=G(0)))
    assert dep[19].sum() == 8 and dep[19, 12:].all()


@pytest.mark.parametrize("make", [lambda: StrokeRNN(hidden_size=16), lambda: StrokeTCN(channels=8)], ids=["rnn", "tcn"])
def test_baseline_samplers_and_log_prob(make):
    model = make()
    s = model.sample(12, generator=G(0))
    assert s.shape == (12, 3) and torch.isfinite(s).all()
    assert set(s[:, 2].tolist()) <= {0.0, 1.0}
    assert torch.equal(s, model.sample(12, generator=G(0)))
    assert model.sample(5, num_samples=4).shape == (4, 5, 3)
    x = _x()
    mask = torch.ones(3, 10, dtype=torch.bool)
    mask[0, 6:] = False
    lp = model.log_prob(x, mask)
    assert lp.shape == (3,) and torch.isfinite(lp).all()
    assert torch.allclose(lp[0], -model(x)["nll"][0, :6].sum())
