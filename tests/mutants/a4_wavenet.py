"""Realistic wrong answers for assignment a4_wavenet, one dict per task (used by
`python -m autograder check a4_wavenet` and by tests/test_mutants_a4_wavenet.py-style checks).

Each value is the full source of a replacement answer cell: the solution with one plausible mistake
(rounding halves to even, ln(mu) for ln(1 + mu), k * sum(d), padding that leaks the future, logits
aligned to x[t] instead of x[t+1], a cache that holds the wrong time steps, ...).
"""

MUTANTS = {
    'mu_law_encode': {
        'round_half_to_even': '''\
def mu_law_encode(x, mu=255):
    """Mu-law codes of a signal: x a float tensor with values in [-1, 1] -> int64 tensor in 0..mu,
    same shape. f = sign(x) ln(1 + mu|x|) / ln(1 + mu), q = floor((f + 1) / 2 * mu + 0.5)."""
    x = torch.as_tensor(x).double().clamp(-1.0, 1.0)
    f = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.round((f + 1) / 2 * mu).long()
''',
        'log_of_mu_in_denominator': '''\
def mu_law_encode(x, mu=255):
    """Mu-law codes of a signal: x a float tensor with values in [-1, 1] -> int64 tensor in 0..mu,
    same shape. f = sign(x) ln(1 + mu|x|) / ln(1 + mu), q = floor((f + 1) / 2 * mu + 0.5)."""
    x = torch.as_tensor(x).double().clamp(-1.0, 1.0)
    f = torch.sign(x) * torch.log(1 + mu * x.abs()) / math.log(mu)
    return torch.floor((f + 1) / 2 * mu + 0.5).long()
''',
        'truncates_instead_of_rounding': '''\
def mu_law_encode(x, mu=255):
    """Mu-law codes of a signal: x a float tensor with values in [-1, 1] -> int64 tensor in 0..mu,
    same shape. f = sign(x) ln(1 + mu|x|) / ln(1 + mu), q = floor((f + 1) / 2 * mu + 0.5)."""
    x = torch.as_tensor(x).double().clamp(-1.0, 1.0)
    f = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return ((f + 1) / 2 * mu).long()
''',
        'forgets_the_sign': '''\
def mu_law_encode(x, mu=255):
    """Mu-law codes of a signal: x a float tensor with values in [-1, 1] -> int64 tensor in 0..mu,
    same shape. f = sign(x) ln(1 + mu|x|) / ln(1 + mu), q = floor((f + 1) / 2 * mu + 0.5)."""
    x = torch.as_tensor(x).double().clamp(-1.0, 1.0)
    f = torch.log1p(mu * x.abs()) / math.log1p(mu)
    return torch.floor((f + 1) / 2 * mu + 0.5).long()
''',
    },
    'mu_law_decode': {
        'forgets_minus_one': '''\
def mu_law_decode(q, mu=255):
    """Signal values of mu-law codes: q an integer tensor in 0..mu -> float tensor in [-1, 1], same
    shape. f = 2q / mu - 1, x = sign(f) ((1 + mu)^|f| - 1) / mu."""
    f = 2 * torch.as_tensor(q).double() / mu - 1
    return (torch.sign(f) * torch.exp(f.abs() * math.log1p(mu)) / mu).float()
''',
        'base_mu_not_one_plus_mu': '''\
def mu_law_decode(q, mu=255):
    """Signal values of mu-law codes: q an integer tensor in 0..mu -> float tensor in [-1, 1], same
    shape. f = 2q / mu - 1, x = sign(f) ((1 + mu)^|f| - 1) / mu."""
    f = 2 * torch.as_tensor(q).double() / mu - 1
    return (torch.sign(f) * torch.expm1(f.abs() * math.log(mu)) / mu).float()
''',
        'half_scale': '''\
def mu_law_decode(q, mu=255):
    """Signal values of mu-law codes: q an integer tensor in 0..mu -> float tensor in [-1, 1], same
    shape. f = 2q / mu - 1, x = sign(f) ((1 + mu)^|f| - 1) / mu."""
    f = torch.as_tensor(q).double() / mu - 0.5
    return (torch.sign(f) * torch.expm1(f.abs() * math.log1p(mu)) / mu).float()
''',
    },
    'receptive_field_size': {
        'kernel_times_sum': '''\
def receptive_field_size(kernel_size, dilations):
    """Number of inputs one output of a stack of causal convolutions sees (a Python int).
    kernel_size: int >= 2; dilations: a list of ints, one per layer."""
    return int(kernel_size) * int(sum(int(d) for d in dilations))
''',
        'forgets_plus_one': '''\
def receptive_field_size(kernel_size, dilations):
    """Number of inputs one output of a stack of causal convolutions sees (a Python int).
    kernel_size: int >= 2; dilations: a list of ints, one per layer."""
    return (int(kernel_size) - 1) * int(sum(int(d) for d in dilations))
''',
        'ignores_kernel_size': '''\
def receptive_field_size(kernel_size, dilations):
    """Number of inputs one output of a stack of causal convolutions sees (a Python int).
    kernel_size: int >= 2; dilations: a list of ints, one per layer."""
    return int(sum(int(d) for d in dilations)) + 1
''',
    },
    'CausalConv1d': {
        'centred_padding': '''\
class CausalConv1d(nn.Module):
    """Dilated causal convolution: (B, in_channels, T) -> (B, out_channels, T); output t depends on
    exactly the inputs t - (k-1)d, ..., t - d, t (those that exist)."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x):
        return self.conv(F.pad(x, (self.left_pad // 2, self.left_pad - self.left_pad // 2)))
''',
        'right_padding': '''\
class CausalConv1d(nn.Module):
    """Dilated causal convolution: (B, in_channels, T) -> (B, out_channels, T); output t depends on
    exactly the inputs t - (k-1)d, ..., t - d, t (those that exist)."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x):
        return self.conv(F.pad(x, (0, self.left_pad)))
''',
        'padding_ignores_dilation': '''\
class CausalConv1d(nn.Module):
    """Dilated causal convolution: (B, in_channels, T) -> (B, out_channels, T); output t depends on
    exactly the inputs t - (k-1)d, ..., t - d, t (those that exist)."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.left_pad = kernel_size - 1
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x):
        return self.conv(F.pad(x, (self.left_pad, 0)))
''',
        'pads_both_sides_keeps_the_end': '''\
class CausalConv1d(nn.Module):
    """Dilated causal convolution: (B, in_channels, T) -> (B, out_channels, T); output t depends on
    exactly the inputs t - (k-1)d, ..., t - d, t (those that exist)."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=self.left_pad)

    def forward(self, x):
        return self.conv(x)[:, :, -x.shape[-1]:]
''',
    },
    'WaveNet': {
        'logits_aligned_to_x_t': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        x = torch.cat([torch.full_like(x[:, :1], self.num_classes // 2), x[:, :-1]], dim=1)
        h = self.embed(x).transpose(1, 2)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d, 0))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.full((batch_size, 1), self.num_classes // 2, dtype=torch.long)
        if not cached:
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                taps = torch.cat([q[:, :, ::d], h[:, :, None]], dim=2)      # t-(k-1)d, ..., t-d, t
                queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push now, drop the oldest
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
        'centred_padding': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)                                   # (B, C, T)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d // 2, (self.kernel_size - 1) * d - (self.kernel_size - 1) * d // 2))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.full((batch_size, 1), self.num_classes // 2, dtype=torch.long)
        if not cached:
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                taps = torch.cat([q[:, :, ::d], h[:, :, None]], dim=2)      # t-(k-1)d, ..., t-d, t
                queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push now, drop the oldest
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
        'cache_pushes_before_reading': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)                                   # (B, C, T)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d, 0))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.full((batch_size, 1), self.num_classes // 2, dtype=torch.long)
        if not cached:
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                q = queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push, drop the oldest
                taps = torch.cat([q[:, :, ::d], h[:, :, None]], dim=2)
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
        'cache_ignores_dilation': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)                                   # (B, C, T)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d, 0))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.full((batch_size, 1), self.num_classes // 2, dtype=torch.long)
        if not cached:
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                taps = torch.cat([q[:, :, -(k - 1):], h[:, :, None]], dim=2)      # t-(k-1)d, ..., t-d, t
                queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push now, drop the oldest
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
        'naive_window_one_short': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)                                   # (B, C, T)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d, 0))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.full((batch_size, 1), self.num_classes // 2, dtype=torch.long)
        if not cached:
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -(self.receptive_field - 1):])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                taps = torch.cat([q[:, :, ::d], h[:, :, None]], dim=2)      # t-(k-1)d, ..., t-d, t
                queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push now, drop the oldest
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
        'starts_from_zero': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)                                   # (B, C, T)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d, 0))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.zeros((batch_size, 1), dtype=torch.long)
        if not cached:
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                taps = torch.cat([q[:, :, ::d], h[:, :, None]], dim=2)      # t-(k-1)d, ..., t-d, t
                queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push now, drop the oldest
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
        'cached_path_reruns_forward': '''\
class WaveNet(nn.Module):
    """WaveNet over integer samples 0..num_classes-1.

    forward(x: int64 (B, T)) -> logits (B, num_classes, T); logits[:, :, t] is the distribution of
    x[:, t+1] and depends on exactly x[:, t-R+1 .. t] (R = receptive_field_size(kernel_size, dilations)).
    generate(num_steps, batch_size=1, generator=None, cached=True) -> int64 (batch_size, num_steps),
    starting from the implicit input num_classes // 2; cached and naive give the same samples.
    """

    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        C = residual_channels
        self.num_classes = num_classes
        self.kernel_size = kernel_size
        self.dilations = [int(d) for d in dilations]
        self.receptive_field = (kernel_size - 1) * sum(self.dilations) + 1
        self.embed = nn.Embedding(num_classes, C)
        self.convs = nn.ModuleList(nn.Conv1d(C, 2 * C, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(C, C, 1) for _ in self.dilations)
        self.skips = nn.ModuleList(nn.Conv1d(C, skip_channels, 1) for _ in self.dilations)
        self.out1 = nn.Conv1d(skip_channels, skip_channels, 1)
        self.out2 = nn.Conv1d(skip_channels, num_classes, 1)

    def forward(self, x):
        h = self.embed(x).transpose(1, 2)                                   # (B, C, T)
        skip = 0
        for conv, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(F.pad(h, ((self.kernel_size - 1) * d, 0))).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + res(z)
            skip = skip + sk(z)
        return self.out2(F.relu(self.out1(F.relu(skip))))

    @torch.no_grad()
    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        def draw(logits):  # inverse CDF, one uniform per row
            probs = torch.softmax(logits.double(), dim=-1)
            u = torch.rand(probs.shape[0], 1, dtype=torch.float64, generator=generator)
            return (probs.cumsum(-1) < u).sum(-1).clamp_max(self.num_classes - 1)

        start = torch.full((batch_size, 1), self.num_classes // 2, dtype=torch.long)
        if True:  # the 'cache' is the history itself
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]
                seq = torch.cat([seq, draw(logits)[:, None]], dim=1)
            return seq[:, 1:]
        k, w = self.kernel_size, self.embed.weight
        # queue l: the last (k - 1) d_l inputs of layer l, oldest first (zeros = the left padding)
        queues = [w.new_zeros(batch_size, w.shape[1], (k - 1) * d) for d in self.dilations]
        x_t, out = start[:, 0], []
        for _ in range(num_steps):
            h = self.embed(x_t)                                             # (B, C): layer 0's input now
            skip = 0
            for l, (conv, res, sk, d) in enumerate(zip(self.convs, self.res, self.skips, self.dilations)):
                q = queues[l]
                taps = torch.cat([q[:, :, ::d], h[:, :, None]], dim=2)      # t-(k-1)d, ..., t-d, t
                queues[l] = torch.cat([q[:, :, 1:], h[:, :, None]], dim=2)  # push now, drop the oldest
                pre = F.linear(taps.reshape(batch_size, -1), conv.weight.reshape(conv.out_channels, -1), conv.bias)
                a, b = pre.chunk(2, dim=1)
                z = torch.tanh(a) * torch.sigmoid(b)
                h = h + F.linear(z, res.weight[:, :, 0], res.bias)
                skip = skip + F.linear(z, sk.weight[:, :, 0], sk.bias)
            logits = F.linear(F.relu(F.linear(F.relu(skip), self.out1.weight[:, :, 0], self.out1.bias)),
                              self.out2.weight[:, :, 0], self.out2.bias)
            x_t = draw(logits)
            out.append(x_t)
        return torch.stack(out, dim=1)
''',
    },
}

# The random draws taken from torch's global random state instead of `generator` (the solution's
# cached and naive paths otherwise): the same seed no longer gives the same samples.
MUTANTS["WaveNet"]["global_random_state"] = (
    MUTANTS["WaveNet"]["cached_path_reruns_forward"]
    .replace("        if True:  # the 'cache' is the history itself\n", "        if not cached:\n")
    .replace("dtype=torch.float64, generator=generator)", "dtype=torch.float64)")
)

# ---------------------------------------------------------------- more realistic wrong answers

# Quantising x itself (no companding): -1, 0 and 1 still give 0, floor(mu/2 + 0.5) and mu, and the
# half-way values round up, but every other code is wrong.
MUTANTS["mu_law_encode"]["no_companding"] = '''\
def mu_law_encode(x, mu=255):
    """Mu-law codes of a signal: x a float tensor with values in [-1, 1] -> int64 tensor in 0..mu,
    same shape. f = sign(x) ln(1 + mu|x|) / ln(1 + mu), q = floor((f + 1) / 2 * mu + 0.5)."""
    x = torch.as_tensor(x).double().clamp(-1.0, 1.0)
    return torch.floor((x + 1) / 2 * mu + 0.5).long()
'''

# Decoding without the expansion: a float tensor that keeps the ends (-1 and 1) but no other value.
MUTANTS["mu_law_decode"]["no_expansion"] = '''\
def mu_law_decode(q, mu=255):
    """Signal values of mu-law codes: q an integer tensor in 0..mu -> float tensor in [-1, 1], same
    shape. f = 2q / mu - 1, x = sign(f) ((1 + mu)^|f| - 1) / mu."""
    return (2 * torch.as_tensor(q).double() / mu - 1).float()
'''

# Both sides padded by nn.Conv1d and the extra outputs cut off the end with [..., :-pad]: right for
# every kernel_size >= 2, an empty output for kernel_size = 1 (pad = 0).
MUTANTS["CausalConv1d"]["trims_the_end_with_minus_pad"] = '''\
class CausalConv1d(nn.Module):
    """Dilated causal convolution: (B, in_channels, T) -> (B, out_channels, T); output t depends on
    exactly the inputs t - (k-1)d, ..., t - d, t (those that exist). kernel_size >= 1."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.pad = (kernel_size - 1) * dilation
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation, padding=self.pad)

    def forward(self, x):
        return self.conv(x)[:, :, :-self.pad]
'''

# The kernel kept as a plain tensor attribute, not an nn.Parameter: nothing for an optimiser to learn
# (and .double() leaves it in float32, so the output is not computed from the module's weights).
MUTANTS["CausalConv1d"]["weights_not_parameters"] = '''\
class CausalConv1d(nn.Module):
    """Dilated causal convolution: (B, in_channels, T) -> (B, out_channels, T); output t depends on
    exactly the inputs t - (k-1)d, ..., t - d, t (those that exist). kernel_size >= 1."""

    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.left_pad = (kernel_size - 1) * dilation
        self.dilation = dilation
        self.weight = torch.randn(out_channels, in_channels, kernel_size) / math.sqrt(in_channels * kernel_size)

    def forward(self, x):
        return F.conv1d(F.pad(x, (self.left_pad, 0)), self.weight.to(x.dtype), dilation=self.dilation)
'''

# The cached path reruns the network over the last R inputs with convolutions written as elementwise
# products and sums (no matrix product, no torch convolution): O(R) work per sample all the same.
MUTANTS["WaveNet"]["cached_window_without_matmul"] = (
    MUTANTS["WaveNet"]["cached_path_reruns_forward"]
    .replace("""        if True:  # the 'cache' is the history itself
            seq = start
            for _ in range(num_steps):
                logits = self(seq[:, -self.receptive_field:])[:, :, -1]""",
             """        if True:  # the 'cache' is the history itself
            seq = start
            for _ in range(num_steps):
                logits = self._elementwise_forward(seq[:, -self.receptive_field:])[:, :, -1]""")
    .replace("""    @torch.no_grad()
    def generate(""", """    def _elementwise_forward(self, x):
        def conv(w, b, h, d):   # (B, Cin, T) -> (B, Cout, T), causal, by products and sums
            k, T = w.shape[-1], h.shape[-1]
            hp = F.pad(h, ((k - 1) * d, 0))
            taps = torch.stack([hp[:, :, j * d:j * d + T] for j in range(k)], dim=2)     # (B, Cin, k, T)
            return (taps[:, None] * w[None, :, :, :, None]).sum((2, 3)) + b[None, :, None]

        h = self.embed(x).transpose(1, 2)
        skip = 0
        for c, res, sk, d in zip(self.convs, self.res, self.skips, self.dilations):
            a, b = conv(c.weight, c.bias, h, d).chunk(2, dim=1)
            z = torch.tanh(a) * torch.sigmoid(b)
            h = h + conv(res.weight, res.bias, z, 1)
            skip = skip + conv(sk.weight, sk.bias, z, 1)
        s = conv(self.out1.weight, self.out1.bias, F.relu(skip), 1)
        return conv(self.out2.weight, self.out2.bias, F.relu(s), 1)

    @torch.no_grad()
    def generate(""")
)

# ---------------------------------------------------------------- do-nothing answers
# Each must score at most a quarter of its task's points (`python -m autograder check`).

_LIBRARY = "from course_lib.models.wavenet import {name}\n"

DO_NOTHING = {
    "mu_law_encode": {
        "constant_zero": '''\
def mu_law_encode(x, mu=255):
    return torch.zeros(torch.as_tensor(x).shape, dtype=torch.int64)
''',
        "constant_middle_code": '''\
def mu_law_encode(x, mu=255):
    return torch.full(torch.as_tensor(x).shape, int(mu // 2 + 1), dtype=torch.int64)
''',
        "library_import": _LIBRARY.format(name="mu_law_encode"),
    },
    "mu_law_decode": {
        "constant_zero": '''\
def mu_law_decode(q, mu=255):
    return torch.zeros(torch.as_tensor(q).shape)
''',
        "library_import": _LIBRARY.format(name="mu_law_decode"),
    },
    "receptive_field_size": {
        "constant": '''\
def receptive_field_size(kernel_size, dilations):
    return 8
''',
        "library_import": _LIBRARY.format(name="receptive_field_size"),
    },
    "CausalConv1d": {
        "ignores_its_input": '''\
class CausalConv1d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x):
        return torch.zeros(x.shape[0], self.conv.out_channels, x.shape[-1], dtype=x.dtype)
''',
        "ignores_its_weights": '''\
class CausalConv1d(nn.Module):
    def __init__(self, in_channels, out_channels, kernel_size, dilation=1):
        super().__init__()
        self.conv = nn.Conv1d(in_channels, out_channels, kernel_size, dilation=dilation)

    def forward(self, x):
        return x[:, :self.conv.out_channels]
''',
        "library_import": _LIBRARY.format(name="CausalConv1d"),
    },
    "WaveNet": {
        "constant_logits_and_samples": '''\
class WaveNet(nn.Module):
    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        self.num_classes = num_classes
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        return torch.zeros(x.shape[0], self.num_classes, x.shape[1], dtype=self.bias.dtype)

    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        return torch.zeros(batch_size, num_steps, dtype=torch.long)
''',
        "sampler_ignores_the_model": '''\
class WaveNet(nn.Module):
    def __init__(self, num_classes, residual_channels, skip_channels, dilations, kernel_size=2):
        super().__init__()
        self.num_classes = num_classes
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        return self.bias[None, :, None].expand(x.shape[0], -1, x.shape[1]) * 0

    def generate(self, num_steps, batch_size=1, generator=None, cached=True):
        return torch.randint(0, self.num_classes, (batch_size, num_steps), generator=generator)
''',
        "library_import": _LIBRARY.format(name="WaveNet"),
    },
}
