"""Realistic wrong answers for assignment a2_nade_made, one dict entry per task.

Each value is the full replacement source of that task's answer cell. Every mutant must fail at least
one of the notebook's visible or hidden tests for its task, or a check of the grader; the
autograder's `check` command uses them to prove that the tests catch typical mistakes.

`DO_NOTHING` holds answers that do no real work (constants, outputs that ignore the input, a sampler
that ignores the model, all-zero or all-one masks, an import of the course's reference code):
`check` fails if any of them scores more than a quarter of its task's points.
"""

MUTANTS = {
    "bernoulli_log_prob": {
        "naive_log_sigmoid": '''
def bernoulli_log_prob(logits, x):
    p = torch.sigmoid(logits)
    return (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)
''',
        "epsilon_clamp": '''
def bernoulli_log_prob(logits, x):
    p = torch.sigmoid(logits)
    eps = 1e-7
    return (x * torch.log(p + eps) + (1 - x) * torch.log(1 - p + eps)).sum(-1)
''',
        "mean_not_sum": '''
def bernoulli_log_prob(logits, x):
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).mean(-1)
''',
        "sign_flipped": '''
def bernoulli_log_prob(logits, x):
    return (x * F.logsigmoid(-logits) + (1 - x) * F.logsigmoid(logits)).sum(-1)
''',
        "sums_everything": '''
def bernoulli_log_prob(logits, x):
    return -F.binary_cross_entropy_with_logits(logits, x.to(logits.dtype), reduction="sum").reshape(1)
''',
    },
    "nade_log_prob": {
        "sees_current_input": '''
def nade_log_prob(x, W, V, b, c):
    B, D = x.shape
    a = c.expand(B, -1)
    out = torch.zeros(B, dtype=W.dtype)
    for d in range(D):
        a = a + x[:, d:d + 1] * W[:, d]          # updated before use: h_d sees x_d
        logit = torch.sigmoid(a) @ V[d] + b[d]
        out = out + x[:, d] * F.logsigmoid(logit) + (1 - x[:, d]) * F.logsigmoid(-logit)
    return out
''',
        "inclusive_cumsum": '''
def nade_log_prob(x, W, V, b, c):
    running = torch.cumsum(x[:, :, None] * W.T[None], dim=1)   # forgot to shift by one step
    h = torch.sigmoid(c + running)
    logits = (h * V[None]).sum(-1) + b
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(-1)
''',
        "naive_shifted_columns": '''
def nade_log_prob(x, W, V, b, c):
    B, D = x.shape
    out = torch.zeros(B, dtype=W.dtype)
    for d in range(D):
        h = torch.sigmoid(c + x[:, :d] @ W[:, 1:d + 1].T)     # O(D^2 H) and the wrong columns of W
        logit = b[d] + h @ V[d]
        out = out + x[:, d] * F.logsigmoid(logit) + (1 - x[:, d]) * F.logsigmoid(-logit)
    return out
''',
        "recomputes_every_pre_activation": '''
def nade_log_prob(x, W, V, b, c):
    # right values, O(D^2 H) work: every h_d from scratch instead of the running sum
    B, D = x.shape
    out = torch.zeros(B, dtype=W.dtype)
    for d in range(D):
        h = torch.sigmoid(c + x[:, :d] @ W[:, :d].T)
        logit = b[d] + h @ V[d]
        out = out + x[:, d] * F.logsigmoid(logit) + (1 - x[:, d]) * F.logsigmoid(-logit)
    return out
''',
        "masked_matrix_all_at_once": '''
def nade_log_prob(x, W, V, b, c):
    # right values, vectorized, but O(D^2 H): a (B, D, H) pre-activation from a strictly lower-triangular mask
    D = x.shape[1]
    M = torch.tril(torch.ones(D, D, dtype=W.dtype), -1)
    a = c + torch.einsum("bj,dj,hj->bdh", x.to(W.dtype), M, W)
    logits = (torch.sigmoid(a) * V[None]).sum(-1) + b
    return (x * F.logsigmoid(logits) + (1 - x) * F.logsigmoid(-logits)).sum(-1)
''',
        "no_hidden_sigmoid": '''
def nade_log_prob(x, W, V, b, c):
    B, D = x.shape
    a = c.expand(B, -1)
    out = torch.zeros(B, dtype=W.dtype)
    for d in range(D):
        logit = a @ V[d] + b[d]
        out = out + x[:, d] * F.logsigmoid(logit) + (1 - x[:, d]) * F.logsigmoid(-logit)
        a = a + x[:, d:d + 1] * W[:, d]
    return out
''',
    },
    "made_masks": {
        "bool_masks": '''
def made_masks(input_degrees, hidden_degrees):
    d_in = torch.as_tensor(np.asarray(input_degrees))
    prev, masks = d_in, []
    for deg in hidden_degrees:
        deg = torch.as_tensor(np.asarray(deg))
        masks.append(deg[:, None] >= prev[None, :])          # bool, not float
        prev = deg
    masks.append(d_in[:, None] > prev[None, :])
    return masks
''',
        "output_not_strict": '''
def made_masks(input_degrees, hidden_degrees):
    d_in = torch.as_tensor(np.asarray(input_degrees))
    prev, masks = d_in, []
    for deg in hidden_degrees:
        deg = torch.as_tensor(np.asarray(deg))
        masks.append((deg[:, None] >= prev[None, :]).float())
        prev = deg
    masks.append((d_in[:, None] >= prev[None, :]).float())
    return masks
''',
        "hidden_strict": '''
def made_masks(input_degrees, hidden_degrees):
    d_in = torch.as_tensor(np.asarray(input_degrees))
    prev, masks = d_in, []
    for deg in hidden_degrees:
        deg = torch.as_tensor(np.asarray(deg))
        masks.append((deg[:, None] > prev[None, :]).float())
        prev = deg
    masks.append((d_in[:, None] > prev[None, :]).float())
    return masks
''',
        "transposed": '''
def made_masks(input_degrees, hidden_degrees):
    d_in = torch.as_tensor(np.asarray(input_degrees))
    prev, masks = d_in, []
    for deg in hidden_degrees:
        deg = torch.as_tensor(np.asarray(deg))
        masks.append((prev[:, None] <= deg[None, :]).float())      # (in, out)
        prev = deg
    masks.append((prev[:, None] < d_in[None, :]).float())
    return masks
''',
        "output_uses_first_hidden_layer": '''
def made_masks(input_degrees, hidden_degrees):
    d_in = torch.as_tensor(np.asarray(input_degrees))
    prev, masks = d_in, []
    for deg in hidden_degrees:
        deg = torch.as_tensor(np.asarray(deg))
        masks.append((deg[:, None] >= prev[None, :]).float())
        prev = deg
    first = torch.as_tensor(np.asarray(hidden_degrees[0]))
    masks.append((d_in[:, None] > first[None, :]).float())
    return masks
''',
    },
    "MADE": {
        "masks_applied_at_construction": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(1, D + 1)
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l, layer in enumerate(self.layers):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            with torch.no_grad():
                layer.weight.mul_(torch.as_tensor(mask, dtype=torch.float32))   # once only

    def forward(self, x):
        for layer in self.layers[:-1]:
            x = torch.relu(layer(x))
        return self.layers[-1](x)
''',
        "masks_are_parameters": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(1, D + 1)
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        masks = []
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            masks.append(nn.Parameter(torch.as_tensor(mask, dtype=torch.float32)))
        self.masks = nn.ParameterList(masks)

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * self.masks[l], layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "ignores_ordering": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        d_in = np.arange(1, D + 1)                      # always the natural order
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "ordering_used_as_degrees": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = order + 1                                # confuses "ordering" with "position of each input"
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "output_mask_not_strict": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(1, D + 1)
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] >= degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "hidden_degrees_cycle_from_zero": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(1, D + 1)
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "zero_based_input_degrees": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(D)                      # off by one: positions 0..D-1, not 1..D
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(mask, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
    },
    "autoregressive_sample": {
        "ignores_ordering": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    x = torch.zeros(num_samples, num_inputs)
    with torch.no_grad():
        for d in range(num_inputs):
            p = torch.sigmoid(logits_fn(x)[:, d])
            x[:, d] = (torch.rand(num_samples, generator=generator) < p).float()
    return x
''',
        "global_random_state": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    order = range(num_inputs) if ordering is None else list(ordering)
    x = torch.zeros(num_samples, num_inputs)
    with torch.no_grad():
        for d in order:
            x[:, d] = torch.bernoulli(torch.sigmoid(logits_fn(x)[:, d]))
    return x
''',
        "one_parallel_pass": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    x = torch.zeros(num_samples, num_inputs)
    with torch.no_grad():
        p = torch.sigmoid(logits_fn(x))
    return (torch.rand(num_samples, num_inputs, generator=generator) < p).float()
''',
        "most_likely_value": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    order = range(num_inputs) if ordering is None else list(ordering)
    x = torch.zeros(num_samples, num_inputs)
    with torch.no_grad():
        for d in order:
            x[:, d] = (logits_fn(x)[:, d] > 0).float()
    return x
''',
        "inverted_threshold": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    order = range(num_inputs) if ordering is None else list(ordering)
    x = torch.zeros(num_samples, num_inputs)
    with torch.no_grad():
        for d in order:
            p = torch.sigmoid(logits_fn(x)[:, d])
            x[:, d] = (torch.rand(num_samples, generator=generator) > p).float()
    return x
''',
    },
}

DO_NOTHING = {
    "bernoulli_log_prob": {
        "zeros": '''
def bernoulli_log_prob(logits, x):
    return torch.zeros(logits.shape[:-1], dtype=logits.dtype)
''',
        "constant_half": '''
def bernoulli_log_prob(logits, x):
    return torch.full(logits.shape[:-1], logits.shape[-1] * math.log(0.5), dtype=logits.dtype)
''',
    },
    "nade_log_prob": {
        "uniform": '''
def nade_log_prob(x, W, V, b, c):
    return torch.full((x.shape[0],), -x.shape[1] * math.log(2), dtype=W.dtype)
''',
        "zeros": '''
def nade_log_prob(x, W, V, b, c):
    return torch.zeros(x.shape[0], dtype=W.dtype)
''',
        "import_reference": '''
from course_lib.models.nade import NADE as _NADE

def nade_log_prob(x, W, V, b, c):
    model = _NADE(x.shape[1], W.shape[0])
    return model.log_prob(x)
''',
    },
    "made_masks": {
        "all_ones": '''
def made_masks(input_degrees, hidden_degrees):
    sizes = [len(input_degrees)] + [len(h) for h in hidden_degrees] + [len(input_degrees)]
    return [torch.ones(b, a) for a, b in zip(sizes[:-1], sizes[1:])]
''',
        "all_zeros": '''
def made_masks(input_degrees, hidden_degrees):
    sizes = [len(input_degrees)] + [len(h) for h in hidden_degrees] + [len(input_degrees)]
    return [torch.zeros(b, a) for a, b in zip(sizes[:-1], sizes[1:])]
''',
        "import_reference": '''
from course_lib.models.made import made_masks
''',
    },
    "MADE": {
        "ignores_input": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        sizes = [num_inputs] + list(hidden_sizes) + [num_inputs]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))

    def forward(self, x):
        return self.layers[-1].bias.expand(x.shape[0], -1) + 0 * self.layers[0].weight.sum()
''',
        "all_zero_masks": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(1, D + 1)
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(0 * mask, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "all_one_masks": '''
class MADE(nn.Module):
    def __init__(self, num_inputs, hidden_sizes, ordering=None):
        super().__init__()
        D = num_inputs
        order = np.arange(D) if ordering is None else np.asarray(ordering)
        d_in = np.empty(D, dtype=np.int64)
        d_in[order] = np.arange(1, D + 1)
        degrees = [d_in] + [np.arange(h) % max(D - 1, 1) + 1 for h in hidden_sizes]
        sizes = [D] + list(hidden_sizes) + [D]
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        for l in range(len(self.layers)):
            if l < len(hidden_sizes):
                mask = degrees[l + 1][:, None] >= degrees[l][None, :]
            else:
                mask = d_in[:, None] > degrees[-1][None, :]
            self.register_buffer(f"mask{l}", torch.as_tensor(mask | True, dtype=torch.float32))

    def forward(self, x):
        for l, layer in enumerate(self.layers):
            x = F.linear(x, layer.weight * getattr(self, f"mask{l}"), layer.bias)
            if l < len(self.layers) - 1:
                x = torch.relu(x)
        return x
''',
        "import_reference": '''
from course_lib.models.made import MADE
''',
    },
    "autoregressive_sample": {
        "ignores_the_logits": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    x = torch.zeros(num_samples, num_inputs)
    for d in (range(num_inputs) if ordering is None else ordering):
        logits_fn(x)
        x[:, int(d)] = (torch.rand(num_samples, generator=generator) < 0.5).float()
    return x
''',
        "zeros": '''
def autoregressive_sample(logits_fn, num_samples, num_inputs, ordering, generator):
    return torch.zeros(num_samples, num_inputs)
''',
    },
}
