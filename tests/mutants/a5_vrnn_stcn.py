"""Realistic wrong answers for assignment a5_vrnn_stcn, one dict entry per task.

Each value is the full replacement source of that task's answer cell. Every mutant must fail at least
one of the notebook's visible or hidden tests for its task; the autograder's `check` command uses
them to prove that the tests catch typical mistakes.
"""

MUTANTS = {
    'gaussian_kl': {
        'swapped_arguments': '''
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q || p) in nats of diagonal Gaussians q = N(mu_q, exp(logvar_q)), p = N(mu_p, exp(logvar_p)).

    All inputs have the same shape (..., Z); returns (...), summed over the last dimension.
    """
    return 0.5 * (logvar_q - logvar_p + (logvar_p.exp() + (mu_p - mu_q) ** 2) / logvar_q.exp() - 1.0).sum(-1)
''',
        'missing_half': '''
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q || p) in nats of diagonal Gaussians q = N(mu_q, exp(logvar_q)), p = N(mu_p, exp(logvar_p)).

    All inputs have the same shape (..., Z); returns (...), summed over the last dimension.
    """
    return (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1.0).sum(-1)
''',
        'std_as_variance': '''
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q || p) in nats of diagonal Gaussians q = N(mu_q, exp(logvar_q)), p = N(mu_p, exp(logvar_p)).

    All inputs have the same shape (..., Z); returns (...), summed over the last dimension.
    """
    return 0.5 * (logvar_p - logvar_q + ((logvar_q / 2).exp() + (mu_q - mu_p) ** 2) / (logvar_p / 2).exp() - 1.0).sum(-1)
''',
        'mean_over_dims': '''
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    """KL(q || p) in nats of diagonal Gaussians q = N(mu_q, exp(logvar_q)), p = N(mu_p, exp(logvar_p)).

    All inputs have the same shape (..., Z); returns (...), summed over the last dimension.
    """
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p) ** 2) / logvar_p.exp() - 1.0).mean(-1)
''',
    },
    'reparameterize': {
        'exp_logvar': '''
def reparameterize(mu, logvar, eps):
    """mu + exp(logvar / 2) * eps, elementwise (all three of the same shape)."""
    return mu + torch.exp(logvar) * eps
''',
        'fresh_noise': '''
def reparameterize(mu, logvar, eps):
    """mu + exp(logvar / 2) * torch.randn_like(mu), elementwise (all three of the same shape)."""
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)
''',
        'logvar_as_std': '''
def reparameterize(mu, logvar, eps):
    """mu + exp(logvar / 2) * eps, elementwise (all three of the same shape)."""
    return mu + logvar * eps
''',
    },
    'precision_weighted_merge': {
        'average_means': '''
def precision_weighted_merge(mu_a, var_a, mu_b, var_b):
    """Return (mu, var) of the precision-weighted combination of N(mu_a, var_a) and N(mu_b, var_b).

    All inputs are tensors of the same shape with var_a, var_b > 0; the outputs have that shape too.
    """
    prec_a, prec_b = 1.0 / var_a, 1.0 / var_b
    var = 1.0 / (prec_a + prec_b)
    return (mu_a + mu_b) / 2, var
''',
        'variance_weighted_means': '''
def precision_weighted_merge(mu_a, var_a, mu_b, var_b):
    """Return (mu, var) of the precision-weighted combination of N(mu_a, var_a) and N(mu_b, var_b).

    All inputs are tensors of the same shape with var_a, var_b > 0; the outputs have that shape too.
    """
    prec_a, prec_b = 1.0 / var_a, 1.0 / var_b
    var = 1.0 / (prec_a + prec_b)
    return (mu_a * var_a + mu_b * var_b) / (var_a + var_b), var
''',
        'variances_add': '''
def precision_weighted_merge(mu_a, var_a, mu_b, var_b):
    """Return (mu, var) of the precision-weighted combination of N(mu_a, var_a) and N(mu_b, var_b).

    All inputs are tensors of the same shape with var_a, var_b > 0; the outputs have that shape too.
    """
    prec_a, prec_b = 1.0 / var_a, 1.0 / var_b
    var = var_a + var_b
    return (mu_a * prec_a + mu_b * prec_b) / (prec_a + prec_b), var
''',
    },
    'diag_gmm_log_prob': {
        'log_of_sum_of_exps': '''
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    """log density (nats) of x (..., D) under a mixture of K diagonal Gaussians; returns (...).

    logit_weights (..., K) are unnormalised; means and log_stds are (..., K, D), std = exp(log_stds).
    Must be finite for log_stds anywhere in [-7, 3].
    """
    z = (x.unsqueeze(-2) - means) * torch.exp(-log_stds)
    comp = (-0.5 * z ** 2 - log_stds - 0.5 * math.log(2 * math.pi)).sum(-1)
    return torch.log((F.softmax(logit_weights, dim=-1) * comp.exp()).sum(-1))
''',
        'unnormalised_weights': '''
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    """log density (nats) of x (..., D) under a mixture of K diagonal Gaussians; returns (...).

    logit_weights (..., K) are unnormalised; means and log_stds are (..., K, D), std = exp(log_stds).
    Must be finite for log_stds anywhere in [-7, 3].
    """
    z = (x.unsqueeze(-2) - means) * torch.exp(-log_stds)
    comp = (-0.5 * z ** 2 - log_stds - 0.5 * math.log(2 * math.pi)).sum(-1)
    return torch.logsumexp(logit_weights + comp, dim=-1)
''',
        'missing_log_std': '''
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    """log density (nats) of x (..., D) under a mixture of K diagonal Gaussians; returns (...).

    logit_weights (..., K) are unnormalised; means and log_stds are (..., K, D), std = exp(log_stds).
    Must be finite for log_stds anywhere in [-7, 3].
    """
    z = (x.unsqueeze(-2) - means) * torch.exp(-log_stds)
    comp = (-0.5 * z ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + comp, dim=-1)
''',
        'log_std_as_log_var': '''
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    """log density (nats) of x (..., D) under a mixture of K diagonal Gaussians; returns (...).

    logit_weights (..., K) are unnormalised; means and log_stds are (..., K, D), std = exp(log_stds).
    Must be finite for log_stds anywhere in [-7, 3].
    """
    z = (x.unsqueeze(-2) - means) * torch.exp(-0.5 * log_stds)
    comp = (-0.5 * z ** 2 - 0.5 * log_stds - 0.5 * math.log(2 * math.pi)).sum(-1)
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + comp, dim=-1)
''',
    },
    'VRNN': {
        'prior_after_update': '''
class VRNN(nn.Module):
    """Variational RNN (Chung et al., 2015) with a GRU cell and a diagonal-Gaussian output."""

    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        f = h_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.encoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * x_dim))
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x):
        """x (B, T, x_dim) -> dict with nll, kl (B, T) and prior_/post_ mu, logvar (B, T, z_dim)."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.h_dim)
        px = self.phi_x(x)
        keys = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
        out = {k: [] for k in keys}
        for t in range(T):
            mu_q, lv_q = self.encoder(torch.cat([px[:, t], h], -1)).chunk(2, -1)
            z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            nll = 0.5 * (lv_x + (x[:, t] - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            kl = 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1.0).sum(-1)
            for k, v in zip(keys, (nll, kl, mu_p, lv_p, mu_q, lv_q, mu_x, lv_x)):
                out[k].append(v)
        return {k: torch.stack(v, 1) for k, v in out.items()}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim) by ancestral sampling from the prior."""
        h = torch.zeros(1, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            z = mu_p + torch.exp(0.5 * lv_p) * torch.randn(mu_p.shape, generator=generator)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            x_t = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t[0])
        return torch.stack(xs)
''',
        'kl_swapped': '''
class VRNN(nn.Module):
    """Variational RNN (Chung et al., 2015) with a GRU cell and a diagonal-Gaussian output."""

    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        f = h_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.encoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * x_dim))
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x):
        """x (B, T, x_dim) -> dict with nll, kl (B, T) and prior_/post_ mu, logvar (B, T, z_dim)."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.h_dim)
        px = self.phi_x(x)
        keys = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
        out = {k: [] for k in keys}
        for t in range(T):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            mu_q, lv_q = self.encoder(torch.cat([px[:, t], h], -1)).chunk(2, -1)
            z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            nll = 0.5 * (lv_x + (x[:, t] - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
            kl = 0.5 * (lv_q - lv_p + (lv_p.exp() + (mu_p - mu_q) ** 2) / lv_q.exp() - 1.0).sum(-1)
            for k, v in zip(keys, (nll, kl, mu_p, lv_p, mu_q, lv_q, mu_x, lv_x)):
                out[k].append(v)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
        return {k: torch.stack(v, 1) for k, v in out.items()}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim) by ancestral sampling from the prior."""
        h = torch.zeros(1, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            z = mu_p + torch.exp(0.5 * lv_p) * torch.randn(mu_p.shape, generator=generator)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            x_t = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t[0])
        return torch.stack(xs)
''',
        'posterior_ignores_x': '''
class VRNN(nn.Module):
    """Variational RNN (Chung et al., 2015) with a GRU cell and a diagonal-Gaussian output."""

    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        f = h_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.encoder = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * x_dim))
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x):
        """x (B, T, x_dim) -> dict with nll, kl (B, T) and prior_/post_ mu, logvar (B, T, z_dim)."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.h_dim)
        px = self.phi_x(x)
        keys = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
        out = {k: [] for k in keys}
        for t in range(T):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            mu_q, lv_q = self.encoder(h).chunk(2, -1)
            z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            nll = 0.5 * (lv_x + (x[:, t] - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
            kl = 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1.0).sum(-1)
            for k, v in zip(keys, (nll, kl, mu_p, lv_p, mu_q, lv_q, mu_x, lv_x)):
                out[k].append(v)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
        return {k: torch.stack(v, 1) for k, v in out.items()}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim) by ancestral sampling from the prior."""
        h = torch.zeros(1, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            z = mu_p + torch.exp(0.5 * lv_p) * torch.randn(mu_p.shape, generator=generator)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            x_t = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t[0])
        return torch.stack(xs)
''',
        'sampler_ignores_generator': '''
class VRNN(nn.Module):
    """Variational RNN (Chung et al., 2015) with a GRU cell and a diagonal-Gaussian output."""

    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        f = h_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.encoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * x_dim))
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x):
        """x (B, T, x_dim) -> dict with nll, kl (B, T) and prior_/post_ mu, logvar (B, T, z_dim)."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.h_dim)
        px = self.phi_x(x)
        keys = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
        out = {k: [] for k in keys}
        for t in range(T):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            mu_q, lv_q = self.encoder(torch.cat([px[:, t], h], -1)).chunk(2, -1)
            z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            nll = 0.5 * (lv_x + (x[:, t] - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
            kl = 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1.0).sum(-1)
            for k, v in zip(keys, (nll, kl, mu_p, lv_p, mu_q, lv_q, mu_x, lv_x)):
                out[k].append(v)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
        return {k: torch.stack(v, 1) for k, v in out.items()}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim) by ancestral sampling from the prior."""
        h = torch.zeros(1, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            z = mu_p + torch.exp(0.5 * lv_p) * torch.randn_like(mu_p)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            x_t = mu_x + torch.exp(0.5 * lv_x) * torch.randn_like(mu_x)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t[0])
        return torch.stack(xs)
''',
    },
    'STCN': {
        'top_prior_reads_d_t': '''
class STCN(nn.Module):
    """Stochastic temporal convolutional network (Aksan & Hilliges, 2019), diagonal-Gaussian output."""

    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.channels, self.latent_dims, self.dilations = x_dim, channels, list(latent_dims), list(dilations)
        L = len(self.latent_dims)
        assert len(self.dilations) % L == 0, "len(dilations) must be a multiple of len(latent_dims)"
        size = len(self.dilations) // L
        self.taps = [(l + 1) * size - 1 for l in range(L)]
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 2, dilation=d) for d in self.dilations)
        self.projs = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]

        def mlp(i, o):
            return nn.Sequential(nn.Linear(i, channels), nn.ReLU(), nn.Linear(channels, 2 * o))

        self.priors = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.out = mlp(self.latent_dims[0], x_dim)

    def _features(self, x):
        """Helper (suggested): the list of d^l, each (B, T, channels), from the causal TCN."""
        h = self.inp(x.transpose(1, 2))
        outs = []
        for conv, proj, d in zip(self.convs, self.projs, self.dilations):
            f, g = conv(F.pad(h, (d, 0))).chunk(2, dim=1)
            h = h + proj(torch.tanh(f) * torch.sigmoid(g))
            outs.append(h.transpose(1, 2))
        return [outs[i] for i in self.taps]

    @staticmethod
    def _gauss(net, inp):
        """Helper (suggested): (mu, var) of a diagonal Gaussian from the network `net` applied to `inp`."""
        mu, raw = net(inp).chunk(2, -1)
        return mu, F.softplus(raw) + 1e-4

    def forward(self, x):
        """x (B, T, x_dim) -> dict: nll, kl (B, T); prior_mu, prior_logvar: lists over layers (B, T, latent_dims[l])."""
        d = self._features(x)
        L = len(d)
        prior_mu, prior_logvar, post_mu, post_logvar = [None] * L, [None] * L, [None] * L, [None] * L
        kl, z_above = 0.0, None
        for l in reversed(range(L)):
            d_prev = d[l]
            d_now = d[l]
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self._gauss(self.priors[l], d_prev)
            mu_h, var_h = self._gauss(self.posts[l], d_now)
            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q
            z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)
            kl = kl + 0.5 * (var_p.log() - var_q.log() + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0).sum(-1)
            prior_mu[l], prior_logvar[l] = mu_p, var_p.log()
            post_mu[l], post_logvar[l] = mu_q, var_q.log()
        mu_x, lv_x = self.out(z_above).chunk(2, -1)
        nll = 0.5 * (lv_x + (x - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
        return {"nll": nll, "kl": kl, "prior_mu": prior_mu, "prior_logvar": prior_logvar,
                "post_mu": post_mu, "post_logvar": post_logvar, "dec_mu": mu_x, "dec_logvar": lv_x}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim): per step, z from the priors top down, then x."""
        x = torch.zeros(1, num_steps, self.x_dim)
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(1, self.channels)] * L
            else:
                d_prev = [f[:, -1] for f in self._features(x[:, :t])]
            z = None
            for l in reversed(range(L)):
                inp = d_prev[l] if z is None else torch.cat([d_prev[l], z], -1)
                mu_p, var_p = self._gauss(self.priors[l], inp)
                z = mu_p + var_p.sqrt() * torch.randn(mu_p.shape, generator=generator)
            mu_x, lv_x = self.out(z).chunk(2, -1)
            x[:, t] = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
        return x[0]
''',
        'padding_on_the_right': '''
class STCN(nn.Module):
    """Stochastic temporal convolutional network (Aksan & Hilliges, 2019), diagonal-Gaussian output."""

    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.channels, self.latent_dims, self.dilations = x_dim, channels, list(latent_dims), list(dilations)
        L = len(self.latent_dims)
        assert len(self.dilations) % L == 0, "len(dilations) must be a multiple of len(latent_dims)"
        size = len(self.dilations) // L
        self.taps = [(l + 1) * size - 1 for l in range(L)]
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 2, dilation=d) for d in self.dilations)
        self.projs = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]

        def mlp(i, o):
            return nn.Sequential(nn.Linear(i, channels), nn.ReLU(), nn.Linear(channels, 2 * o))

        self.priors = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.out = mlp(self.latent_dims[0], x_dim)

    def _features(self, x):
        """Helper (suggested): the list of d^l, each (B, T, channels), from the causal TCN."""
        h = self.inp(x.transpose(1, 2))
        outs = []
        for conv, proj, d in zip(self.convs, self.projs, self.dilations):
            f, g = conv(F.pad(h, (0, d))).chunk(2, dim=1)
            h = h + proj(torch.tanh(f) * torch.sigmoid(g))
            outs.append(h.transpose(1, 2))
        return [outs[i] for i in self.taps]

    @staticmethod
    def _gauss(net, inp):
        """Helper (suggested): (mu, var) of a diagonal Gaussian from the network `net` applied to `inp`."""
        mu, raw = net(inp).chunk(2, -1)
        return mu, F.softplus(raw) + 1e-4

    def forward(self, x):
        """x (B, T, x_dim) -> dict: nll, kl (B, T); prior_mu, prior_logvar: lists over layers (B, T, latent_dims[l])."""
        d = self._features(x)
        L = len(d)
        prior_mu, prior_logvar, post_mu, post_logvar = [None] * L, [None] * L, [None] * L, [None] * L
        kl, z_above = 0.0, None
        for l in reversed(range(L)):
            d_prev = torch.cat([torch.zeros_like(d[l][:, :1]), d[l][:, :-1]], 1)
            d_now = d[l]
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self._gauss(self.priors[l], d_prev)
            mu_h, var_h = self._gauss(self.posts[l], d_now)
            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q
            z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)
            kl = kl + 0.5 * (var_p.log() - var_q.log() + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0).sum(-1)
            prior_mu[l], prior_logvar[l] = mu_p, var_p.log()
            post_mu[l], post_logvar[l] = mu_q, var_q.log()
        mu_x, lv_x = self.out(z_above).chunk(2, -1)
        nll = 0.5 * (lv_x + (x - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
        return {"nll": nll, "kl": kl, "prior_mu": prior_mu, "prior_logvar": prior_logvar,
                "post_mu": post_mu, "post_logvar": post_logvar, "dec_mu": mu_x, "dec_logvar": lv_x}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim): per step, z from the priors top down, then x."""
        x = torch.zeros(1, num_steps, self.x_dim)
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(1, self.channels)] * L
            else:
                d_prev = [f[:, -1] for f in self._features(x[:, :t])]
            z = None
            for l in reversed(range(L)):
                inp = d_prev[l] if z is None else torch.cat([d_prev[l], z], -1)
                mu_p, var_p = self._gauss(self.priors[l], inp)
                z = mu_p + var_p.sqrt() * torch.randn(mu_p.shape, generator=generator)
            mu_x, lv_x = self.out(z).chunk(2, -1)
            x[:, t] = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
        return x[0]
''',
        'centred_convolution': '''
class STCN(nn.Module):
    """Stochastic temporal convolutional network (Aksan & Hilliges, 2019), diagonal-Gaussian output."""

    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.channels, self.latent_dims, self.dilations = x_dim, channels, list(latent_dims), list(dilations)
        L = len(self.latent_dims)
        assert len(self.dilations) % L == 0, "len(dilations) must be a multiple of len(latent_dims)"
        size = len(self.dilations) // L
        self.taps = [(l + 1) * size - 1 for l in range(L)]
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 3, dilation=d, padding=d) for d in self.dilations)
        self.projs = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]

        def mlp(i, o):
            return nn.Sequential(nn.Linear(i, channels), nn.ReLU(), nn.Linear(channels, 2 * o))

        self.priors = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.out = mlp(self.latent_dims[0], x_dim)

    def _features(self, x):
        """Helper (suggested): the list of d^l, each (B, T, channels), from the causal TCN."""
        h = self.inp(x.transpose(1, 2))
        outs = []
        for conv, proj, d in zip(self.convs, self.projs, self.dilations):
            f, g = conv(h).chunk(2, dim=1)
            h = h + proj(torch.tanh(f) * torch.sigmoid(g))
            outs.append(h.transpose(1, 2))
        return [outs[i] for i in self.taps]

    @staticmethod
    def _gauss(net, inp):
        """Helper (suggested): (mu, var) of a diagonal Gaussian from the network `net` applied to `inp`."""
        mu, raw = net(inp).chunk(2, -1)
        return mu, F.softplus(raw) + 1e-4

    def forward(self, x):
        """x (B, T, x_dim) -> dict: nll, kl (B, T); prior_mu, prior_logvar: lists over layers (B, T, latent_dims[l])."""
        d = self._features(x)
        L = len(d)
        prior_mu, prior_logvar, post_mu, post_logvar = [None] * L, [None] * L, [None] * L, [None] * L
        kl, z_above = 0.0, None
        for l in reversed(range(L)):
            d_prev = torch.cat([torch.zeros_like(d[l][:, :1]), d[l][:, :-1]], 1)
            d_now = d[l]
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self._gauss(self.priors[l], d_prev)
            mu_h, var_h = self._gauss(self.posts[l], d_now)
            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q
            z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)
            kl = kl + 0.5 * (var_p.log() - var_q.log() + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0).sum(-1)
            prior_mu[l], prior_logvar[l] = mu_p, var_p.log()
            post_mu[l], post_logvar[l] = mu_q, var_q.log()
        mu_x, lv_x = self.out(z_above).chunk(2, -1)
        nll = 0.5 * (lv_x + (x - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
        return {"nll": nll, "kl": kl, "prior_mu": prior_mu, "prior_logvar": prior_logvar,
                "post_mu": post_mu, "post_logvar": post_logvar, "dec_mu": mu_x, "dec_logvar": lv_x}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim): per step, z from the priors top down, then x."""
        x = torch.zeros(1, num_steps, self.x_dim)
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(1, self.channels)] * L
            else:
                d_prev = [f[:, -1] for f in self._features(x[:, :t])]
            z = None
            for l in reversed(range(L)):
                inp = d_prev[l] if z is None else torch.cat([d_prev[l], z], -1)
                mu_p, var_p = self._gauss(self.priors[l], inp)
                z = mu_p + var_p.sqrt() * torch.randn(mu_p.shape, generator=generator)
            mu_x, lv_x = self.out(z).chunk(2, -1)
            x[:, t] = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
        return x[0]
''',
        'kl_stacked_per_layer': '''
class STCN(nn.Module):
    """Stochastic temporal convolutional network (Aksan & Hilliges, 2019), diagonal-Gaussian output."""

    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.channels, self.latent_dims, self.dilations = x_dim, channels, list(latent_dims), list(dilations)
        L = len(self.latent_dims)
        assert len(self.dilations) % L == 0, "len(dilations) must be a multiple of len(latent_dims)"
        size = len(self.dilations) // L
        self.taps = [(l + 1) * size - 1 for l in range(L)]
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 2, dilation=d) for d in self.dilations)
        self.projs = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]

        def mlp(i, o):
            return nn.Sequential(nn.Linear(i, channels), nn.ReLU(), nn.Linear(channels, 2 * o))

        self.priors = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.out = mlp(self.latent_dims[0], x_dim)

    def _features(self, x):
        """Helper (suggested): the list of d^l, each (B, T, channels), from the causal TCN."""
        h = self.inp(x.transpose(1, 2))
        outs = []
        for conv, proj, d in zip(self.convs, self.projs, self.dilations):
            f, g = conv(F.pad(h, (d, 0))).chunk(2, dim=1)
            h = h + proj(torch.tanh(f) * torch.sigmoid(g))
            outs.append(h.transpose(1, 2))
        return [outs[i] for i in self.taps]

    @staticmethod
    def _gauss(net, inp):
        """Helper (suggested): (mu, var) of a diagonal Gaussian from the network `net` applied to `inp`."""
        mu, raw = net(inp).chunk(2, -1)
        return mu, F.softplus(raw) + 1e-4

    def forward(self, x):
        """x (B, T, x_dim) -> dict: nll, kl (B, T); prior_mu, prior_logvar: lists over layers (B, T, latent_dims[l])."""
        d = self._features(x)
        L = len(d)
        prior_mu, prior_logvar, post_mu, post_logvar = [None] * L, [None] * L, [None] * L, [None] * L
        kl, z_above = [], None
        for l in reversed(range(L)):
            d_prev = torch.cat([torch.zeros_like(d[l][:, :1]), d[l][:, :-1]], 1)
            d_now = d[l]
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self._gauss(self.priors[l], d_prev)
            mu_h, var_h = self._gauss(self.posts[l], d_now)
            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q
            z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)
            kl.append(0.5 * (var_p.log() - var_q.log() + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0).sum(-1))
            prior_mu[l], prior_logvar[l] = mu_p, var_p.log()
            post_mu[l], post_logvar[l] = mu_q, var_q.log()
        mu_x, lv_x = self.out(z_above).chunk(2, -1)
        nll = 0.5 * (lv_x + (x - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
        return {"nll": nll, "kl": torch.stack(kl[::-1]), "prior_mu": prior_mu, "prior_logvar": prior_logvar,
                "post_mu": post_mu, "post_logvar": post_logvar, "dec_mu": mu_x, "dec_logvar": lv_x}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim): per step, z from the priors top down, then x."""
        x = torch.zeros(1, num_steps, self.x_dim)
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(1, self.channels)] * L
            else:
                d_prev = [f[:, -1] for f in self._features(x[:, :t])]
            z = None
            for l in reversed(range(L)):
                inp = d_prev[l] if z is None else torch.cat([d_prev[l], z], -1)
                mu_p, var_p = self._gauss(self.priors[l], inp)
                z = mu_p + var_p.sqrt() * torch.randn(mu_p.shape, generator=generator)
            mu_x, lv_x = self.out(z).chunk(2, -1)
            x[:, t] = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
        return x[0]
''',
        'sampler_ignores_generator': '''
class STCN(nn.Module):
    """Stochastic temporal convolutional network (Aksan & Hilliges, 2019), diagonal-Gaussian output."""

    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.channels, self.latent_dims, self.dilations = x_dim, channels, list(latent_dims), list(dilations)
        L = len(self.latent_dims)
        assert len(self.dilations) % L == 0, "len(dilations) must be a multiple of len(latent_dims)"
        size = len(self.dilations) // L
        self.taps = [(l + 1) * size - 1 for l in range(L)]
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 2, dilation=d) for d in self.dilations)
        self.projs = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]

        def mlp(i, o):
            return nn.Sequential(nn.Linear(i, channels), nn.ReLU(), nn.Linear(channels, 2 * o))

        self.priors = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.out = mlp(self.latent_dims[0], x_dim)

    def _features(self, x):
        """Helper (suggested): the list of d^l, each (B, T, channels), from the causal TCN."""
        h = self.inp(x.transpose(1, 2))
        outs = []
        for conv, proj, d in zip(self.convs, self.projs, self.dilations):
            f, g = conv(F.pad(h, (d, 0))).chunk(2, dim=1)
            h = h + proj(torch.tanh(f) * torch.sigmoid(g))
            outs.append(h.transpose(1, 2))
        return [outs[i] for i in self.taps]

    @staticmethod
    def _gauss(net, inp):
        """Helper (suggested): (mu, var) of a diagonal Gaussian from the network `net` applied to `inp`."""
        mu, raw = net(inp).chunk(2, -1)
        return mu, F.softplus(raw) + 1e-4

    def forward(self, x):
        """x (B, T, x_dim) -> dict: nll, kl (B, T); prior_mu, prior_logvar: lists over layers (B, T, latent_dims[l])."""
        d = self._features(x)
        L = len(d)
        prior_mu, prior_logvar, post_mu, post_logvar = [None] * L, [None] * L, [None] * L, [None] * L
        kl, z_above = 0.0, None
        for l in reversed(range(L)):
            d_prev = torch.cat([torch.zeros_like(d[l][:, :1]), d[l][:, :-1]], 1)
            d_now = d[l]
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self._gauss(self.priors[l], d_prev)
            mu_h, var_h = self._gauss(self.posts[l], d_now)
            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q
            z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)
            kl = kl + 0.5 * (var_p.log() - var_q.log() + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0).sum(-1)
            prior_mu[l], prior_logvar[l] = mu_p, var_p.log()
            post_mu[l], post_logvar[l] = mu_q, var_q.log()
        mu_x, lv_x = self.out(z_above).chunk(2, -1)
        nll = 0.5 * (lv_x + (x - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
        return {"nll": nll, "kl": kl, "prior_mu": prior_mu, "prior_logvar": prior_logvar,
                "post_mu": post_mu, "post_logvar": post_logvar, "dec_mu": mu_x, "dec_logvar": lv_x}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim): per step, z from the priors top down, then x."""
        x = torch.zeros(1, num_steps, self.x_dim)
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(1, self.channels)] * L
            else:
                d_prev = [f[:, -1] for f in self._features(x[:, :t])]
            z = None
            for l in reversed(range(L)):
                inp = d_prev[l] if z is None else torch.cat([d_prev[l], z], -1)
                mu_p, var_p = self._gauss(self.priors[l], inp)
                z = mu_p + var_p.sqrt() * torch.randn_like(mu_p)
            mu_x, lv_x = self.out(z).chunk(2, -1)
            x[:, t] = mu_x + torch.exp(0.5 * lv_x) * torch.randn_like(mu_x)
        return x[0]
''',
    },
}


# Added with the autograder task module (autograder/tasks/a5_vrnn_stcn.py); each fails a notebook test too.
MUTANTS['reparameterize']['no_grad_sample'] = '''
def reparameterize(mu, logvar, eps):
    """mu + exp(logvar / 2) * eps, elementwise (all three of the same shape)."""
    with torch.no_grad():
        return mu + torch.exp(0.5 * logvar) * eps
    ### END SOLUTION
'''
MUTANTS['diag_gmm_log_prob']['clamped_log_stds'] = '''
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    """log density (nats) of x (..., D) under a mixture of K diagonal Gaussians; returns (...).

    logit_weights (..., K) are unnormalised; means and log_stds are (..., K, D), std = exp(log_stds).
    Must be finite for log_stds anywhere in [-7, 3].
    """
    log_stds = log_stds.clamp(-5.0, 5.0)
    z = (x.unsqueeze(-2) - means) * torch.exp(-log_stds)
    comp = (-0.5 * z ** 2 - log_stds - 0.5 * math.log(2 * math.pi)).sum(-1)
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + comp, dim=-1)
    ### END SOLUTION
'''
MUTANTS['VRNN']['standard_normal_prior'] = '''
class VRNN(nn.Module):
    """Variational RNN (Chung et al., 2015) with a GRU cell and a diagonal-Gaussian output."""

    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        f = h_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.encoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * x_dim))
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x):
        """x (B, T, x_dim) -> dict with nll, kl (B, T) and prior_/post_ mu, logvar (B, T, z_dim)."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.h_dim)
        px = self.phi_x(x)
        keys = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
        out = {k: [] for k in keys}
        for t in range(T):
            mu_p, lv_p = x.new_zeros(B, self.z_dim), x.new_zeros(B, self.z_dim)
            mu_q, lv_q = self.encoder(torch.cat([px[:, t], h], -1)).chunk(2, -1)
            z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            nll = 0.5 * (lv_x + (x[:, t] - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
            kl = 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1.0).sum(-1)
            for k, v in zip(keys, (nll, kl, mu_p, lv_p, mu_q, lv_q, mu_x, lv_x)):
                out[k].append(v)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
        return {k: torch.stack(v, 1) for k, v in out.items()}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim) by ancestral sampling from the prior."""
        h = torch.zeros(1, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            z = mu_p + torch.exp(0.5 * lv_p) * torch.randn(mu_p.shape, generator=generator)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            x_t = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t[0])
        return torch.stack(xs)
        ### END SOLUTION
'''
MUTANTS['VRNN']['posterior_reads_next_step'] = '''
class VRNN(nn.Module):
    """Variational RNN (Chung et al., 2015) with a GRU cell and a diagonal-Gaussian output."""

    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.h_dim, self.z_dim = x_dim, h_dim, z_dim
        f = h_dim
        self.phi_x = nn.Sequential(nn.Linear(x_dim, f), nn.ReLU())
        self.phi_z = nn.Sequential(nn.Linear(z_dim, f), nn.ReLU())
        self.prior = nn.Sequential(nn.Linear(h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.encoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * z_dim))
        self.decoder = nn.Sequential(nn.Linear(f + h_dim, f), nn.ReLU(), nn.Linear(f, 2 * x_dim))
        self.rnn = nn.GRUCell(2 * f, h_dim)

    def forward(self, x):
        """x (B, T, x_dim) -> dict with nll, kl (B, T) and prior_/post_ mu, logvar (B, T, z_dim)."""
        B, T, _ = x.shape
        h = x.new_zeros(B, self.h_dim)
        px = self.phi_x(x)
        keys = ("nll", "kl", "prior_mu", "prior_logvar", "post_mu", "post_logvar", "dec_mu", "dec_logvar")
        out = {k: [] for k in keys}
        for t in range(T):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            mu_q, lv_q = self.encoder(torch.cat([px[:, min(t + 1, T - 1)], h], -1)).chunk(2, -1)
            z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            nll = 0.5 * (lv_x + (x[:, t] - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
            kl = 0.5 * (lv_p - lv_q + (lv_q.exp() + (mu_q - mu_p) ** 2) / lv_p.exp() - 1.0).sum(-1)
            for k, v in zip(keys, (nll, kl, mu_p, lv_p, mu_q, lv_q, mu_x, lv_x)):
                out[k].append(v)
            h = self.rnn(torch.cat([px[:, t], pz], -1), h)
        return {k: torch.stack(v, 1) for k, v in out.items()}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim) by ancestral sampling from the prior."""
        h = torch.zeros(1, self.h_dim)
        xs = []
        for _ in range(num_steps):
            mu_p, lv_p = self.prior(h).chunk(2, -1)
            z = mu_p + torch.exp(0.5 * lv_p) * torch.randn(mu_p.shape, generator=generator)
            pz = self.phi_z(z)
            mu_x, lv_x = self.decoder(torch.cat([pz, h], -1)).chunk(2, -1)
            x_t = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
            h = self.rnn(torch.cat([self.phi_x(x_t), pz], -1), h)
            xs.append(x_t[0])
        return torch.stack(xs)
        ### END SOLUTION
'''
MUTANTS['STCN']['prior_skips_a_step'] = '''
class STCN(nn.Module):
    """Stochastic temporal convolutional network (Aksan & Hilliges, 2019), diagonal-Gaussian output."""

    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.channels, self.latent_dims, self.dilations = x_dim, channels, list(latent_dims), list(dilations)
        L = len(self.latent_dims)
        assert len(self.dilations) % L == 0, "len(dilations) must be a multiple of len(latent_dims)"
        size = len(self.dilations) // L
        self.taps = [(l + 1) * size - 1 for l in range(L)]
        self.inp = nn.Conv1d(x_dim, channels, 1)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, 2, dilation=d) for d in self.dilations)
        self.projs = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)
        above = [self.latent_dims[l + 1] if l + 1 < L else 0 for l in range(L)]

        def mlp(i, o):
            return nn.Sequential(nn.Linear(i, channels), nn.ReLU(), nn.Linear(channels, 2 * o))

        self.priors = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.posts = nn.ModuleList(mlp(channels + above[l], self.latent_dims[l]) for l in range(L))
        self.out = mlp(self.latent_dims[0], x_dim)

    def _features(self, x):
        """Helper (suggested): the list of d^l, each (B, T, channels), from the causal TCN."""
        h = self.inp(x.transpose(1, 2))
        outs = []
        for conv, proj, d in zip(self.convs, self.projs, self.dilations):
            f, g = conv(F.pad(h, (d, 0))).chunk(2, dim=1)
            h = h + proj(torch.tanh(f) * torch.sigmoid(g))
            outs.append(h.transpose(1, 2))
        return [outs[i] for i in self.taps]

    @staticmethod
    def _gauss(net, inp):
        """Helper (suggested): (mu, var) of a diagonal Gaussian from the network `net` applied to `inp`."""
        mu, raw = net(inp).chunk(2, -1)
        return mu, F.softplus(raw) + 1e-4

    def forward(self, x):
        """x (B, T, x_dim) -> dict: nll, kl (B, T); prior_mu, prior_logvar: lists over layers (B, T, latent_dims[l])."""
        d = self._features(x)
        L = len(d)
        prior_mu, prior_logvar, post_mu, post_logvar = [None] * L, [None] * L, [None] * L, [None] * L
        kl, z_above = 0.0, None
        for l in reversed(range(L)):
            d_prev = torch.cat([torch.zeros_like(d[l][:, :2]), d[l][:, :-2]], 1)[:, :d[l].shape[1]]
            d_now = d[l]
            if z_above is not None:
                d_prev, d_now = torch.cat([d_prev, z_above], -1), torch.cat([d_now, z_above], -1)
            mu_p, var_p = self._gauss(self.priors[l], d_prev)
            mu_h, var_h = self._gauss(self.posts[l], d_now)
            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q
            z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)
            kl = kl + 0.5 * (var_p.log() - var_q.log() + (var_q + (mu_q - mu_p) ** 2) / var_p - 1.0).sum(-1)
            prior_mu[l], prior_logvar[l] = mu_p, var_p.log()
            post_mu[l], post_logvar[l] = mu_q, var_q.log()
        mu_x, lv_x = self.out(z_above).chunk(2, -1)
        nll = 0.5 * (lv_x + (x - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)
        return {"nll": nll, "kl": kl, "prior_mu": prior_mu, "prior_logvar": prior_logvar,
                "post_mu": post_mu, "post_logvar": post_logvar, "dec_mu": mu_x, "dec_logvar": lv_x}

    @torch.no_grad()
    def sample(self, num_steps, generator=None):
        """One sequence (num_steps, x_dim): per step, z from the priors top down, then x."""
        x = torch.zeros(1, num_steps, self.x_dim)
        L = len(self.latent_dims)
        for t in range(num_steps):
            if t == 0:
                d_prev = [torch.zeros(1, self.channels)] * L
            else:
                d_prev = [f[:, -1] for f in self._features(x[:, :t])]
            z = None
            for l in reversed(range(L)):
                inp = d_prev[l] if z is None else torch.cat([d_prev[l], z], -1)
                mu_p, var_p = self._gauss(self.priors[l], inp)
                z = mu_p + var_p.sqrt() * torch.randn(mu_p.shape, generator=generator)
            mu_x, lv_x = self.out(z).chunk(2, -1)
            x[:, t] = mu_x + torch.exp(0.5 * lv_x) * torch.randn(mu_x.shape, generator=generator)
        return x[0]
        ### END SOLUTION
'''


# ---------------------------------------------------------------- wrong answers to the extended contract
# (nll from the returned decoder parameters, KL summed over layers, z by reparameterisation in eval
# mode too): the solution's answer cell with one change each.

def _solution(task):
    import nbformat
    from pathlib import Path
    nb = nbformat.read(Path(__file__).resolve().parents[2] / "solutions" / "a5_vrnn_stcn" / "a5_vrnn_stcn.ipynb", 4)
    (cell,) = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == task]
    return "".join(line + "\n" for line in cell.source.splitlines() if line.strip() not in
                   ("### BEGIN SOLUTION", "### END SOLUTION"))


def _variant(task, old, new):
    source = _solution(task)
    assert source.count(old) == 1, (task, old)
    return source.replace(old, new)


_VRNN_Z = "z = mu_q + torch.exp(0.5 * lv_q) * torch.randn_like(mu_q)"
_STCN_Z = "z_above = mu_q + var_q.sqrt() * torch.randn_like(mu_q)"
_NLL = "nll = 0.5 * (lv_x + (x{} - mu_x) ** 2 / lv_x.exp() + math.log(2 * math.pi)).sum(-1)"

MUTANTS["VRNN"].update({
    # the reconstruction term averaged over x's dimensions instead of summed
    "nll_mean_over_x_dim": _variant("VRNN", _NLL.format("[:, t]"), _NLL.format("[:, t]")[:-8] + ".mean(-1)"),
    # the posterior mean instead of a sample when the model is in eval mode
    "posterior_mean_in_eval": _variant("VRNN", _VRNN_Z, _VRNN_Z + " if self.training else mu_q"),
    # a sample without the reparameterisation: no gradient from the nll reaches the encoder
    "sample_without_gradient": _variant("VRNN", _VRNN_Z, "z = torch.distributions.Normal(mu_q, torch.exp(0.5 * lv_q)).sample()"),
})
MUTANTS["STCN"].update({
    # each layer's KL overwrites the one above instead of adding to it
    "kl_overwritten_per_layer": _variant("STCN", "kl = kl + 0.5 * (", "kl = 0.5 * ("),
    "nll_mean_over_x_dim": _variant("STCN", _NLL.format(""), _NLL.format("")[:-8] + ".mean(-1)"),
    # the data term alone as the posterior (no precision-weighted merge with the prior)
    "posterior_without_merge": _variant("STCN", """            var_q = 1.0 / (1.0 / var_h + 1.0 / var_p)
            mu_q = (mu_h / var_h + mu_p / var_p) * var_q""", """            var_q, mu_q = var_h, mu_h"""),
    "posterior_mean_in_eval": _variant("STCN", _STCN_Z, _STCN_Z + " if self.training else mu_q"),
    "posterior_sample_detached": _variant("STCN", _STCN_Z, "z_above = (mu_q + var_q.sqrt() * torch.randn_like(mu_q)).detach()"),
})

# ---------------------------------------------------------------- do-nothing answers
# Each must score at most a quarter of its task's points (`python -m autograder check`).

_VRNN_ZEROS = '''\
class VRNN(nn.Module):
    def __init__(self, x_dim, h_dim, z_dim):
        super().__init__()
        self.x_dim, self.z_dim = x_dim, z_dim
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, T, _ = x.shape
        zeros = lambda *s: torch.zeros(*s) + 0 * self.bias
        out = {k: zeros(B, T, self.z_dim) for k in ("prior_mu", "prior_logvar", "post_mu", "post_logvar")}
        out.update(dec_mu=zeros(B, T, self.x_dim), dec_logvar=zeros(B, T, self.x_dim), kl=zeros(B, T))
        out["nll"] = NLL
        return out

    def sample(self, num_steps, generator=None):
        return torch.randn(num_steps, self.x_dim, generator=generator)
'''

_STCN_ZEROS = '''\
class STCN(nn.Module):
    def __init__(self, x_dim, channels, latent_dims, dilations):
        super().__init__()
        self.x_dim, self.latent_dims = x_dim, list(latent_dims)
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        B, T, _ = x.shape
        zeros = lambda *s: torch.zeros(*s) + 0 * self.bias
        out = {k: [zeros(B, T, z) for z in self.latent_dims] for k in ("prior_mu", "prior_logvar", "post_mu", "post_logvar")}
        out.update(dec_mu=zeros(B, T, self.x_dim), dec_logvar=zeros(B, T, self.x_dim), kl=zeros(B, T), nll=zeros(B, T))
        return out

    def sample(self, num_steps, generator=None):
        return torch.randn(num_steps, self.x_dim, generator=generator)
'''

_LIBRARY = "from course_lib.models.{module} import {name}\n"

DO_NOTHING = {
    "gaussian_kl": {
        "constant_zero": '''\
def gaussian_kl(mu_q, logvar_q, mu_p, logvar_p):
    return torch.zeros(mu_q.shape[:-1], dtype=mu_q.dtype)
''',
        "library_import": _LIBRARY.format(module="vrnn", name="gaussian_kl"),
    },
    "reparameterize": {
        "returns_mu": '''\
def reparameterize(mu, logvar, eps):
    return mu
''',
        "library_import": _LIBRARY.format(module="vrnn", name="reparameterize"),
    },
    "precision_weighted_merge": {
        "ignores_the_second_gaussian": '''\
def precision_weighted_merge(mu_a, var_a, mu_b, var_b):
    return mu_a, var_a
''',
        "library_import": _LIBRARY.format(module="stcn", name="precision_weighted_merge"),
    },
    "diag_gmm_log_prob": {
        "constant_zero": '''\
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    return torch.zeros(x.shape[:-1], dtype=x.dtype)
''',
        "standard_normal_ignoring_the_mixture": '''\
def diag_gmm_log_prob(x, logit_weights, means, log_stds):
    return (-0.5 * x ** 2 - 0.5 * math.log(2 * math.pi)).sum(-1)
''',
        "library_import": _LIBRARY.format(module="handwriting", name="diag_gmm_log_prob"),
    },
    "VRNN": {
        "zeros_and_a_sampler_that_ignores_the_model": _VRNN_ZEROS.replace("NLL", "zeros(B, T)"),
        # a standard-normal "decoder" that ignores z and h: the nll is right for its own zero parameters
        "standard_normal_decoder": _VRNN_ZEROS.replace(
            "NLL", "0.5 * (x ** 2 + math.log(2 * math.pi)).sum(-1) + 0 * self.bias"),
        "library_import": _LIBRARY.format(module="vrnn", name="VRNN"),
    },
    "STCN": {
        "zeros_and_a_sampler_that_ignores_the_model": _STCN_ZEROS,
        "library_import": _LIBRARY.format(module="stcn", name="STCN"),
    },
}
