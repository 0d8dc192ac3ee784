"""The variational RNN (Chung, Kastner, Dinh, Goel, Courville & Bengio, 2015, "A recurrent latent
variable model for sequential data"), lecture 10.

At every step t an RNN state h_(t-1) summarises x_<t and z_<t. With feature extractors phi_x, phi_z:

    prior      p(z_t | h_(t-1))             = N(mu_p, diag exp(logvar_p)),   [mu_p, logvar_p] = f_prior(h_(t-1))
    posterior  q(z_t | x_t, h_(t-1))        = N(mu_q, diag exp(logvar_q)),   from f_enc([phi_x(x_t), h_(t-1)])
    decoder    p(x_t | z_t, h_(t-1))        = head(f_dec([phi_z(z_t), h_(t-1)]))
    recurrence h_t = GRU([phi_x(x_t), phi_z(z_t)], h_(t-1))

The ELBO sums, over the steps, E_q[log p(x_t | z_t, h_(t-1))] - KL(q(z_t | .) || p(z_t | h_(t-1))), with
the KL in closed form (`course_lib.models.gaussian.gaussian_kl`) and one reparameterised sample of z_t per step. The prior sees
only h_(t-1), so it depends on x_<t only: that is what lets us sample without x_t.

    model = VRNN(x_dim=3, h_dim=64, z_dim=16)        # x_dim 3: the stroke mixture + pen output
    out = model(x)                                    # dict: nll, kl (B, T); prior_/post_ mu, logvar (B, T, z)
    elbo = model.elbo(x, mask, kl_weight=1.0)         # (B,) nats per sequence, a lower bound on log p(x)
                                                      # (no log_prob: the ELBO is a bound, not a likelihood)
    strokes = model.sample(100, generator=g)          # (100, 3)
"""
from __future__ import annotations

import torch
from torch import nn

from .gaussian import gaussian_kl, reparameterize
from .sequence import LatentSequenceModel, _one_or_many
from .stroke_output import make_output_head

__all__ = ["VRNN"]


def _mlp(i: int, h: int, o: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(i, h), nn.ReLU(), nn.Linear(h, o))


class VRNN(LatentSequenceModel):
    """The VRNN with a GRU recurrence. x_dim 3 uses the stroke mixture + pen head, other x_dim a
    diagonal Gaussian. `feat_dim` is the width of phi_x, phi_z and the MLPs (default h_dim)."""

    def __init__(self, x_dim: int, h_dim: int, z_dim: int, feat_dim: int | None = None, num_components: int = 5):
        super().__init__()
        f = feat_dim or h_dim
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU(), nn.Linear(f, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = _mlp(h_dim, f, 2 * z_dim)
        self.encoder = _mlp(f + h_dim, f, 2 * z_dim)
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU())
        self.head, self._log_prob, self._sample = make_output_head(f, x_dim, num_components)
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict:
        """Teacher forcing with one posterior sample per step. Returns per-step `nll` (the
        reconstruction term -log p(x_t | z_t, h_(t-1))) and `kl` (B, T), the prior and posterior
        parameters (B, T, z_dim), and the sampled `z`."""
        B, T, _ = x.shape
        px = self.phi_x(x)
        h = x.new_zeros(B, self.h_dim)
        hs, zs, pzs, post = [], [], [], []
        eps = torch.randn(B, T, self.z_dim, generator=generator, dtype=x.dtype)
        for t in range(T):
            hs.append(h)  # h_(t-1): summarises x_<t
            mu_q, logvar_q = self.encoder(torch.cat([px[:, t], h], -1)).chunk(2, -1)
            z = reparameterize(mu_q, logvar_q, eps[:, t])
            pz = self.phi_z(z)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
            zs.append(z), pzs.append(pz), post.append((mu_q, logvar_q))
        h_prev = torch.stack(hs, 1)
        prior_mu, prior_logvar = self.prior(h_prev).chunk(2, -1)
        post_mu = torch.stack([p[0] for p in post], 1)
        post_logvar = torch.stack([p[1] for p in post], 1)
        params = self.head(self.decoder(torch.cat([torch.stack(pzs, 1), h_prev], -1)))
        return {"nll": -self._log_prob(x, params), "kl": gaussian_kl(post_mu, post_logvar, prior_mu, prior_logvar),
                "prior_mu": prior_mu, "prior_logvar": prior_logvar, "post_mu": post_mu,
                "post_logvar": post_logvar, "z": torch.stack(zs, 1)}

    @torch.no_grad()
    def sample(self, num_steps: int, generator: torch.Generator | None = None, num_samples: int | None = None):
        """Ancestral sampling: z_t from the prior p(z_t | h_(t-1)), x_t from the decoder, then the
        recurrence. (num_steps, x_dim), or (N, num_steps, x_dim) when num_samples is given."""
        n = 1 if num_samples is None else num_samples
        h = torch.zeros(n, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, logvar_p = self.prior(h).chunk(2, -1)
            z = reparameterize(mu_p, logvar_p, torch.randn(mu_p.shape, generator=generator))
            pz = self.phi_z(z)
            x_t = self._sample(self.head(self.decoder(torch.cat([pz, h], -1))), generator)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t)
        return _one_or_many(torch.stack(xs, 1), num_samples)


if __name__ == "__main__":
    from course_lib.checks import dependency_map
    from course_lib.models.selfcheck import print_verdict, sequence_sites

    torch.manual_seed(0)
    T, model = 8, VRNN(3, 8, 2, num_components=2)
    x = torch.randn(3, T, 3)
    dep = dependency_map(lambda v: model(v, generator=torch.Generator().manual_seed(1))["prior_mu"], x)
    print_verdict("VRNN prior p(z_t | h_(t-1))", dep, output_site=sequence_sites(T, 3, 2))
