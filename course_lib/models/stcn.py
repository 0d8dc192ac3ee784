"""The stochastic temporal convolutional network (Aksan & Hilliges, ICLR 2019, "STCN: Stochastic
temporal convolutional networks"), lecture 11.

A TCN of gated dilated causal blocks (as in WaveNet) computes deterministic features d^l_t from x_(<=t);
the blocks are split into L groups and the last block of group l gives d^l (group 0 is the shallowest,
with the shortest receptive field). Each group carries a latent variable z^l_t, and the latents form
a top-down hierarchy at every step, with no connection across time between latents:

    prior      p(z^l_t | d^l_(t-1), z^(l+1)_t)       (the top layer L-1 sees only d^(L-1)_(t-1))
    posterior  q(z^l_t | d^l_t, z^(l+1)_t)           = the precision-weighted merge of the prior and
               an "observation" Gaussian q^(z^l_t | d^l_t, z^(l+1)_t) (as in the ladder VAE,
               Soenderby et al., 2016):  sigma_q^2 = 1 / (sigma_p^-2 + sigma_q^^-2),
                                         mu_q = (mu_p sigma_p^-2 + mu_q^ sigma_q^^-2) sigma_q^2
    output     STCN:        p(x_t | z^0_t)                    (the lowest latent only)
               STCN-dense:  p(x_t | z^0_t, ..., z^(L-1)_t)    (all latents)

The ELBO per step is E_q[log p(x_t | z_t)] - sum_l KL(q(z^l_t | .) || p(z^l_t | .)), each KL in closed form
given the layer above's posterior sample. Because d^l_(t-1) depends on x_<t only, sampling needs no
x_t: draw z^(L-1)_t, ..., z^0_t from the priors top down, then x_t, then move on.

Note on the official code: its precision-weighted update returns the merged *variance*, which the
calling code then uses as if it were a standard deviation. Here `precision_weighted_merge`
(`course_lib.models.gaussian`) returns the variance and the caller takes its logarithm as a
log-variance, as the paper's formulas say. `elbo(x, mask, kl_weight)` is the bound in nats per
sequence (`course_lib.models.sequence`); there is no `log_prob`, since the ELBO is not a likelihood.

    model = STCN(x_dim=3, channels=32, latent_dims=[8, 8, 8], dilations=[1, 2, 4, 8, 16, 32], dense=True)
    out = model(x)        # nll, kl (B, T); kl_layers, prior_mu, prior_logvar, post_mu, post_logvar: lists
    strokes = model.sample(100, generator=g)
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from .gaussian import gaussian_kl, precision_weighted_merge, reparameterize
from .sequence import LatentSequenceModel, _one_or_many, shift_right
from .stroke_output import make_output_head
from .tcn import TCN

__all__ = ["STCN"]

MIN_VAR = 1e-4


class _GaussianLayer(nn.Module):
    """A one-hidden-layer MLP giving (mu, var) of a diagonal Gaussian, var = softplus + MIN_VAR."""

    def __init__(self, in_features: int, hidden: int, z_dim: int):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, 2 * z_dim))

    def forward(self, h):
        mu, raw = self.net(h).chunk(2, -1)
        return mu, F.softplus(raw) + MIN_VAR


def _split_groups(dilations, num_layers: int) -> list[list[int]]:
    if dilations and isinstance(dilations[0], (list, tuple)):
        groups = [list(g) for g in dilations]
    else:
        dilations = list(dilations)
        if len(dilations) % num_layers:
            raise ValueError(f"{len(dilations)} dilations cannot be split into {num_layers} equal groups")
        size = len(dilations) // num_layers
        groups = [dilations[i * size:(i + 1) * size] for i in range(num_layers)]
    if len(groups) != num_layers:
        raise ValueError(f"need one group of dilations per latent layer ({num_layers}), got {len(groups)}")
    return groups


class STCN(LatentSequenceModel):
    """STCN (dense=False: output from the lowest latent) or STCN-dense (dense=True: from all latents).

    `dilations` is a flat list split into len(latent_dims) equal groups (or a list of groups);
    `latent_dims[l]` is the size of z^l, index 0 the lowest layer. x_dim 3 uses the stroke mixture +
    pen output, other x_dim a diagonal Gaussian.
    """

    def __init__(self, x_dim: int, channels: int, latent_dims, dilations, dense: bool = False,
                 hidden: int | None = None, num_components: int = 5, kernel_size: int = 2):
        super().__init__()
        self.x_dim, self.latent_dims, self.dense = x_dim, list(latent_dims), dense
        L = len(self.latent_dims)
        self.groups = _split_groups(dilations, L)
        flat = [d for g in self.groups for d in g]
        self.tcn = TCN(x_dim, channels, flat, kernel_size)
        self.taps = list(torch.tensor([len(g) for g in self.groups]).cumsum(0) - 1)  # last block of each group
        self.receptive_field = self.tcn.receptive_field()
        hid = hidden or channels
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]
        self.priors = nn.ModuleList(_GaussianLayer(channels + above[l], hid, self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(_GaussianLayer(channels + above[l], hid, self.latent_dims[l]) for l in range(L))
        out_in = sum(self.latent_dims) if dense else self.latent_dims[0]
        self.decoder = nn.Sequential(nn.Linear(out_in, hid), nn.ReLU())
        self.head, self._log_prob, self._sample = make_output_head(hid, x_dim, num_components)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """d^l (B, T, channels) for every latent layer l: d^l_t depends on x_(<= t)."""
        outs = self.tcn(x)
        return [outs[int(i)] for i in self.taps]

    def _output_params(self, zs: list[torch.Tensor]) -> dict:
        return self.head(self.decoder(torch.cat(zs, -1) if self.dense else zs[0]))

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        """Teacher forcing, all steps at once (no loop over time). Per-step `nll`, `kl` (B, T);
        lists (index 0 lowest) `kl_layers` (B, T), `prior_mu`, `prior_logvar`, `post_mu`,
        `post_logvar` (B, T, latent_dims[l]), and the posterior samples `z`."""
        d = self.features(x)
        L = len(d)
        out = {k: [None] * L for k in ("kl_layers", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "z")}
        z_above = None
        for l in reversed(range(L)):
            d_prev, d_now = shift_right(d[l]), d[l]  # d^l_(t-1) for the prior, d^l_t for the posterior
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self.priors[l](d_prev)
            mu_hat, var_hat = self.posts[l](d_now)
            mu_q, var_q = precision_weighted_merge(mu_hat, var_hat, mu_p, var_p)
            logvar_p, logvar_q = var_p.log(), var_q.log()
            eps = torch.randn(mu_q.shape, generator=generator, dtype=mu_q.dtype)
            z = reparameterize(mu_q, logvar_q, eps)
            for k, v in zip(("prior_mu", "prior_logvar", "post_mu", "post_logvar", "z"),
                            (mu_p, logvar_p, mu_q, logvar_q, z)):
                out[k][l] = v
            out["kl_layers"][l] = gaussian_kl(mu_q, logvar_q, mu_p, logvar_p)
            z_above = z
        out["nll"] = -self._log_prob(x, self._output_params(out["z"]))
        out["kl"] = torch.stack(out["kl_layers"]).sum(0)
        return out

    @torch.no_grad()
    def sample(self, num_steps: int, generator: torch.Generator | None = None, num_samples: int | None = None):
        """Hierarchical ancestral sampling: at each t, d^l_(t-1) from the x drawn so far, z^l_t from the
        priors top down, x_t from the output. (num_steps, x_dim) or (N, num_steps, x_dim)."""
        n = 1 if num_samples is None else num_samples
        x = torch.zeros(n, num_steps, self.x_dim)
        R = self.receptive_field
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(n, self.tcn.inp.out_channels) for _ in range(L)]
            else:
                window = x[:, max(0, t - R):t]  # enough history for d_(t-1) to be exact
                d_prev = [f[:, -1] for f in self.features(window)]
            zs, z_above = [None] * L, None
            for l in reversed(range(L)):
                inp = d_prev[l] if z_above is None else torch.cat([d_prev[l], z_above], -1)
                mu_p, var_p = self.priors[l](inp)
                z_above = zs[l] = mu_p + var_p.sqrt() * torch.randn(mu_p.shape, generator=generator)
            x[:, t] = self._sample(self._output_params(zs), generator)
        return _one_or_many(x, num_samples)


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict, sequence_sites

    torch.manual_seed(0)
    T, model = 8, STCN(3, 4, [2, 2], [1, 2, 1, 2], num_components=2)
    x = torch.randn(3, T, 3)
    dep = dependency_map(lambda v: model(v, generator=torch.Generator().manual_seed(1))["prior_mu"][-1], x)
    print_verdict("STCN top prior p(z^(L-1)_t | d_(t-1))", dep, output_site=sequence_sites(T, 3, 2))
