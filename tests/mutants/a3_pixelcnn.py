"""Realistic wrong answers for assignment a3_pixelcnn, one dict per task.

Each value is the full replacement source of that task's answer cell. Every mutant must lose
points: it fails at least one of the notebook's visible or hidden tests for its task (and the
autograder's checks). Used by `python -m autograder check a3_pixelcnn`.
"""

_MASK_HEAD = '''def causal_mask(kernel_size, mask_type, in_channels=1, out_channels=1, color_channels=1):
    """The raster-order mask of a masked convolution: float (out_channels, in_channels, k, k) of 0/1."""
'''

_CONV_HEAD = '''class MaskedConv2d(nn.Conv2d):
    """A k x k convolution, same padding, whose kernel is multiplied by a raster-order mask on every call."""

    def __init__(self, in_channels, out_channels, kernel_size, mask_type, color_channels=1):
'''

_RF_BODY = '''    r = kernel_size // 2
    offsets_b = [(du, dv) for du in range(-r, 0) for dv in range(-r, r + 1)] + [(0, dv) for dv in range(-r, 1)]
    offsets_a = [o for o in offsets_b if o != (0, 0)]
    needed = np.zeros((height, width), dtype=bool)
    needed[row, col] = True
    for layer in range(num_layers, 0, -1):
        offsets = offsets_a if layer == 1 else offsets_b
        grown = np.zeros_like(needed)
        for i, j in zip(*np.nonzero(needed)):
            for du, dv in offsets:
                if 0 <= i + du < height and 0 <= j + dv < width:
                    grown[i + du, j + dv] = True
        needed = grown
'''

_GATED_HEAD = '''class GatedPixelCNN(nn.Module):
    """Vertical and horizontal stacks with gated activations: (B, C_in, H, W) -> (B, C_out, H, W)."""

    def __init__(self, in_channels, hidden_channels, out_channels, num_layers, kernel_size=3):
        super().__init__()
        k, r, h2 = kernel_size, kernel_size // 2, 2 * hidden_channels
        self.r = r
        self.v_convs, self.h_convs, self.links, self.h_outs = (nn.ModuleList() for _ in range(4))
        for layer in range(num_layers):
            c = in_channels if layer == 0 else hidden_channels
            self.v_convs.append(nn.Conv2d(c, h2, (r + 1, k)))
            self.h_convs.append(nn.Conv2d(c, h2, (1, r + 1)))
            self.links.append(nn.Conv2d(h2, h2, 1))
            self.h_outs.append(nn.Conv2d(hidden_channels, hidden_channels, 1))
        self.out = nn.Conv2d(hidden_channels, out_channels, 1)

    def forward(self, x):
        r = self.r
        def gate(t):
            a, b = t.chunk(2, dim=1)
            return torch.tanh(a) * torch.sigmoid(b)
'''

_MIX_HEAD = '''def discretized_logistic_mixture_log_prob(x, logit_weights, means, log_scales, num_values=256):
    """log P(x) in nats, shape (N,), under a mixture of K discretized logistics per row."""
    x = torch.as_tensor(x).long()
    V = num_values
    centre = (2.0 * x.to(means.dtype) / (V - 1) - 1.0).unsqueeze(-1)
    inv_s = torch.exp(-log_scales)
'''

MUTANTS = {
    "causal_mask": {
        # the centre is switched on for type A too: the first layer sees the pixel it predicts
        "centre_included_for_type_A": _MASK_HEAD + '''    k, r, G = kernel_size, kernel_size // 2, color_channels
    if k % 2 == 0 or mask_type not in ("A", "B"):
        raise ValueError("bad arguments")
    mask = torch.zeros(out_channels, in_channels, k, k)
    mask[:, :, :r, :] = 1.0
    mask[:, :, r, :r + 1] = 1.0
    return mask
''',
        # colour groups compared with <= for A and < for B (swapped), i.e. off by one
        "colour_groups_off_by_one": _MASK_HEAD + '''    k, r, G = kernel_size, kernel_size // 2, color_channels
    if k % 2 == 0 or mask_type not in ("A", "B") or in_channels % G or out_channels % G:
        raise ValueError("bad arguments")
    mask = torch.zeros(out_channels, in_channels, k, k)
    mask[:, :, :r, :] = 1.0
    mask[:, :, r, :r] = 1.0
    g_out = torch.arange(out_channels) // (out_channels // G)
    g_in = torch.arange(in_channels) // (in_channels // G)
    centre = (g_in[None, :] < g_out[:, None] + 1) if mask_type == "A" else (g_in[None, :] < g_out[:, None] + 2)
    if G == 1:
        centre = torch.full((out_channels, in_channels), mask_type == "B")
    mask[:, :, r, r] = centre.float()
    return mask
''',
        # groups interleaved (channel c in group c % G) instead of contiguous blocks
        "interleaved_groups": _MASK_HEAD + '''    k, r, G = kernel_size, kernel_size // 2, color_channels
    if k % 2 == 0 or mask_type not in ("A", "B") or in_channels % G or out_channels % G:
        raise ValueError("bad arguments")
    mask = torch.zeros(out_channels, in_channels, k, k)
    mask[:, :, :r, :] = 1.0
    mask[:, :, r, :r] = 1.0
    g_out = torch.arange(out_channels) % G
    g_in = torch.arange(in_channels) % G
    centre = (g_in[None, :] < g_out[:, None]) if mask_type == "A" else (g_in[None, :] <= g_out[:, None])
    mask[:, :, r, r] = centre.float()
    return mask
''',
        # the mask transposed: (in, out) instead of nn.Conv2d's (out, in) layout
        "in_out_swapped": _MASK_HEAD + '''    k, r, G = kernel_size, kernel_size // 2, color_channels
    if k % 2 == 0 or mask_type not in ("A", "B") or in_channels % G or out_channels % G:
        raise ValueError("bad arguments")
    mask = torch.zeros(in_channels, out_channels, k, k)
    mask[:, :, :r, :] = 1.0
    mask[:, :, r, :r] = 1.0
    g_in = torch.arange(in_channels) // (in_channels // G)
    g_out = torch.arange(out_channels) // (out_channels // G)
    centre = (g_out[None, :] < g_in[:, None]) if mask_type == "A" else (g_out[None, :] <= g_in[:, None])
    mask[:, :, r, r] = centre.float()
    return mask
''',
    },
    "MaskedConv2d": {
        # the weights are masked once at construction, forward is a plain convolution
        "mask_applied_only_at_construction": _CONV_HEAD + '''        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        k, r = kernel_size, kernel_size // 2
        mask = torch.zeros(out_channels, in_channels, k, k)
        mask[:, :, :r, :] = 1.0
        mask[:, :, r, :r] = 1.0
        G = color_channels
        g_out = torch.arange(out_channels) // (out_channels // G)
        g_in = torch.arange(in_channels) // (in_channels // G)
        mask[:, :, r, r] = ((g_in[None, :] < g_out[:, None]) if mask_type == "A" else (g_in[None, :] <= g_out[:, None])).float()
        with torch.no_grad():
            self.weight.mul_(mask)

    def forward(self, x):
        return super().forward(x)
''',
        # type A and type B treated the same: the centre tap always on
        "centre_always_on": _CONV_HEAD + '''        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        k, r = kernel_size, kernel_size // 2
        mask = torch.zeros(out_channels, in_channels, k, k)
        mask[:, :, :r, :] = 1.0
        mask[:, :, r, :r + 1] = 1.0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)
''',
        # the mask is a Parameter: the optimiser changes it
        "mask_as_parameter": _CONV_HEAD + '''        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        k, r = kernel_size, kernel_size // 2
        mask = torch.zeros(out_channels, in_channels, k, k)
        mask[:, :, :r, :] = 1.0
        mask[:, :, r, :r] = 1.0
        G = color_channels
        g_out = torch.arange(out_channels) // (out_channels // G)
        g_in = torch.arange(in_channels) // (in_channels // G)
        mask[:, :, r, r] = ((g_in[None, :] < g_out[:, None]) if mask_type == "A" else (g_in[None, :] <= g_out[:, None])).float()
        self.mask = nn.Parameter(mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)
''',
        # color_channels accepted but ignored: the centre tap follows the type for every channel pair
        "colour_groups_ignored": _CONV_HEAD + '''        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
        k, r = kernel_size, kernel_size // 2
        mask = torch.zeros(out_channels, in_channels, k, k)
        mask[:, :, :r, :] = 1.0
        mask[:, :, r, :r] = 1.0
        mask[:, :, r, r] = 0.0 if mask_type == "A" else 1.0
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)
''',
        # valid convolution (no padding): the output shrinks
        "no_padding": _CONV_HEAD + '''        super().__init__(in_channels, out_channels, kernel_size)
        k, r = kernel_size, kernel_size // 2
        mask = torch.zeros(out_channels, in_channels, k, k)
        mask[:, :, :r, :] = 1.0
        mask[:, :, r, :r] = 1.0
        G = color_channels
        g_out = torch.arange(out_channels) // (out_channels // G)
        g_in = torch.arange(in_channels) // (in_channels // G)
        mask[:, :, r, r] = ((g_in[None, :] < g_out[:, None]) if mask_type == "A" else (g_in[None, :] <= g_out[:, None])).float()
        self.register_buffer("mask", mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias)
''',
    },
    "pixelcnn_receptive_field": {
        # "every earlier pixel within reach": the blind spot is ignored
        "ignores_blind_spot": '''def pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): the input pixels that output (row, col) of the masked stack depends on."""
    e = num_layers * (kernel_size // 2)
    seen = np.zeros((height, width), dtype=bool)
    seen[max(0, row - e):row, max(0, col - e):col + e + 1] = True
    seen[row, max(0, col - e):col] = True
    return seen
''',
        # every layer treated as type A: the centre is dropped at each layer
        "all_layers_type_A": '''def pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): the input pixels that output (row, col) of the masked stack depends on."""
    r = kernel_size // 2
    offsets = [(du, dv) for du in range(-r, 0) for dv in range(-r, r + 1)] + [(0, dv) for dv in range(-r, 0)]
    needed = np.zeros((height, width), dtype=bool)
    needed[row, col] = True
    for layer in range(num_layers):
        grown = np.zeros_like(needed)
        for i, j in zip(*np.nonzero(needed)):
            for du, dv in offsets:
                if 0 <= i + du < height and 0 <= j + dv < width:
                    grown[i + du, j + dv] = True
        needed = grown
    return needed
''',
        # the dilation done with np.roll: it wraps around the canvas edges
        "wraps_around_edges": '''def pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): the input pixels that output (row, col) of the masked stack depends on."""
    r = kernel_size // 2
    offsets_b = [(du, dv) for du in range(-r, 0) for dv in range(-r, r + 1)] + [(0, dv) for dv in range(-r, 1)]
    offsets_a = [o for o in offsets_b if o != (0, 0)]
    needed = np.zeros((height, width), dtype=bool)
    needed[row, col] = True
    for layer in range(num_layers, 0, -1):
        offsets = offsets_a if layer == 1 else offsets_b
        grown = np.zeros_like(needed)
        for du, dv in offsets:
            grown |= np.roll(needed, (du, dv), axis=(0, 1))
        needed = grown
    return needed
''',
        # the output pixel itself counted as seen (the type-A rule forgotten in the first layer)
        "first_layer_type_B": '''def pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): the input pixels that output (row, col) of the masked stack depends on."""
    r = kernel_size // 2
    offsets = [(du, dv) for du in range(-r, 0) for dv in range(-r, r + 1)] + [(0, dv) for dv in range(-r, 1)]
    needed = np.zeros((height, width), dtype=bool)
    needed[row, col] = True
    for layer in range(num_layers):
        grown = np.zeros_like(needed)
        for i, j in zip(*np.nonzero(needed)):
            for du, dv in offsets:
                if 0 <= i + du < height and 0 <= j + dv < width:
                    grown[i + du, j + dv] = True
        needed = grown
    return needed
''',
    },
    "blind_spot": {
        # "earlier" taken as <= in raster order: the output pixel lands in its own blind spot
        "includes_the_pixel_itself": '''def blind_spot(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): pixels before (row, col) in raster order that the masked stack does not see."""
''' + _RF_BODY + '''    before = np.zeros((height, width), dtype=bool)
    before.reshape(-1)[:row * width + col + 1] = True
    return before & ~needed
''',
        # "before" taken as the rows above only: the pixels left of (row, col) are forgotten
        "rows_above_only": '''def blind_spot(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): pixels before (row, col) in raster order that the masked stack does not see."""
''' + _RF_BODY + '''    before = np.zeros((height, width), dtype=bool)
    before[:row, :] = True
    return before & ~needed
''',
        # the complement of the receptive field, later pixels included
        "complement_of_receptive_field": '''def blind_spot(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): pixels before (row, col) in raster order that the masked stack does not see."""
''' + _RF_BODY + '''    blind = ~needed
    blind[row, col] = False
    return blind
''',
        # only the triangle up and to the right, within reach (misses the far-away earlier pixels)
        "only_within_reach": '''def blind_spot(num_layers, kernel_size, height, width, row, col):
    """bool (height, width): pixels before (row, col) in raster order that the masked stack does not see."""
''' + _RF_BODY + '''    e = num_layers * (kernel_size // 2)
    box = np.zeros((height, width), dtype=bool)
    box[max(0, row - e):row + 1, max(0, col - e):col + e + 1] = True
    box.reshape(-1)[row * width + col:] = False
    return box & ~needed
''',
    },
    "GatedPixelCNN": {
        # no shift down: the horizontal stack reads the vertical features of its own row
        "no_vertical_shift": _GATED_HEAD + '''        v = x
        h = F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]
        for layer, (vc, hc, link, ho) in enumerate(zip(self.v_convs, self.h_convs, self.links, self.h_outs)):
            v_feat = vc(F.pad(v, (r, r, r, 0)))
            h_feat = hc(F.pad(h, (r, 0, 0, 0))) + link(v_feat)
            v = gate(v_feat)
            h_new = ho(gate(h_feat))
            h = h_new if layer == 0 else h + h_new
        return self.out(F.relu(h))
''',
        # the first horizontal layer is not shifted right: (i, j) sees itself
        "horizontal_sees_current_pixel": _GATED_HEAD + '''        v = x
        h = x
        for layer, (vc, hc, link, ho) in enumerate(zip(self.v_convs, self.h_convs, self.links, self.h_outs)):
            v_feat = vc(F.pad(v, (r, r, r, 0)))
            v_down = F.pad(v_feat, (0, 0, 1, 0))[:, :, :-1, :]
            h_feat = hc(F.pad(h, (r, 0, 0, 0))) + link(v_down)
            v = gate(v_feat)
            h_new = ho(gate(h_feat))
            h = h_new if layer == 0 else h + h_new
        return self.out(F.relu(h))
''',
        # no link from the vertical to the horizontal stack: only the current row is seen
        "no_vertical_to_horizontal_link": _GATED_HEAD + '''        v = x
        h = F.pad(x, (1, 0, 0, 0))[:, :, :, :-1]
        for layer, (vc, hc, link, ho) in enumerate(zip(self.v_convs, self.h_convs, self.links, self.h_outs)):
            v_feat = vc(F.pad(v, (r, r, r, 0)))
            h_feat = hc(F.pad(h, (r, 0, 0, 0)))
            v = gate(v_feat)
            h_new = ho(gate(h_feat))
            h = h_new if layer == 0 else h + h_new
        return self.out(F.relu(h))
''',
        # a plain gated PixelCNN with masked 3x3 convolutions: causal, but with the blind spot
        "masked_convs_with_blind_spot": '''class GatedPixelCNN(nn.Module):
    """Vertical and horizontal stacks with gated activations: (B, C_in, H, W) -> (B, C_out, H, W)."""

    def __init__(self, in_channels, hidden_channels, out_channels, num_layers, kernel_size=3):
        super().__init__()
        k, r = kernel_size, kernel_size // 2
        self.r = r
        self.convs = nn.ModuleList(nn.Conv2d(in_channels if l == 0 else hidden_channels, 2 * hidden_channels, k, padding=r)
                                   for l in range(num_layers))
        masks = []
        for l in range(num_layers):
            m = torch.zeros(k, k)
            m[:r, :] = 1
            m[r, :r] = 1
            m[r, r] = 0.0 if l == 0 else 1.0
            masks.append(m)
        self.register_buffer("masks", torch.stack(masks))
        self.out = nn.Conv2d(hidden_channels, out_channels, 1)

    def forward(self, x):
        h = x
        for l, conv in enumerate(self.convs):
            a, b = F.conv2d(h, conv.weight * self.masks[l], conv.bias, padding=self.r).chunk(2, dim=1)
            g = torch.tanh(a) * torch.sigmoid(b)
            h = g if l == 0 else h + g
        return self.out(F.relu(h))
''',
    },
    "discretized_logistic_mixture_log_prob": {
        # no edge bins: x = 0 and x = V - 1 use the CDF difference too, so mass in the tails is lost
        "no_edge_bins": _MIX_HEAD + '''    a = (centre + 1.0 / (V - 1) - means) * inv_s
    b = (centre - 1.0 / (V - 1) - means) * inv_s
    t = a - b
    log_comp = F.logsigmoid(a) + F.logsigmoid(-b) + torch.log(-torch.expm1(-t))
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + log_comp, dim=-1)
''',
        # the textbook formula: log of a difference of sigmoids underflows to -inf
        "unstable_log_of_cdf_difference": _MIX_HEAD + '''    cdf_up = torch.sigmoid((centre + 1.0 / (V - 1) - means) * inv_s)
    cdf_lo = torch.sigmoid((centre - 1.0 / (V - 1) - means) * inv_s)
    cdf_up = torch.where((x == V - 1).unsqueeze(-1), torch.ones_like(cdf_up), cdf_up)
    cdf_lo = torch.where((x == 0).unsqueeze(-1), torch.zeros_like(cdf_lo), cdf_lo)
    probs = (torch.softmax(logit_weights, dim=-1) * (cdf_up - cdf_lo)).sum(-1)
    return torch.log(probs)
''',
        # bin half-width 0.5 / (V - 1): the bins do not tile the line
        "half_width_too_small": _MIX_HEAD + '''    half = 0.5 / (V - 1)
    a = (centre + half - means) * inv_s
    b = (centre - half - means) * inv_s
    log_mid = F.logsigmoid(a) + F.logsigmoid(-b) + torch.log(-torch.expm1(-(a - b)))
    log_comp = torch.where((x == 0).unsqueeze(-1), F.logsigmoid(a),
                           torch.where((x == V - 1).unsqueeze(-1), F.logsigmoid(-b), log_mid))
    return torch.logsumexp(F.log_softmax(logit_weights, dim=-1) + log_comp, dim=-1)
''',
        # the textbook formula with an epsilon to avoid log(0): finite, normalized, but far tails clamped at log(1e-12)
        "epsilon_clamp": _MIX_HEAD + '''    half = 1.0 / (V - 1)
    up = torch.sigmoid((centre + half - means) * inv_s)
    lo = torch.sigmoid((centre - half - means) * inv_s)
    up = torch.where((x == V - 1).unsqueeze(-1), torch.ones_like(up), up)
    lo = torch.where((x == 0).unsqueeze(-1), torch.zeros_like(lo), lo)
    probs = (torch.softmax(logit_weights, dim=-1) * (up - lo)).sum(-1)
    return torch.log(probs.clamp_min(1e-12))
''',
        # mixture weights used as log-weights without normalising them (no log-softmax)
        "unnormalised_weights": _MIX_HEAD + '''    half = 1.0 / (V - 1)
    a = (centre + half - means) * inv_s
    b = (centre - half - means) * inv_s
    log_mid = F.logsigmoid(a) + F.logsigmoid(-b) + torch.log(-torch.expm1(-(a - b)))
    log_comp = torch.where((x == 0).unsqueeze(-1), F.logsigmoid(a),
                           torch.where((x == V - 1).unsqueeze(-1), F.logsigmoid(-b), log_mid))
    return torch.logsumexp(logit_weights + log_comp, dim=-1)
''',
    },
}

# Answers that do no real work (constants, outputs that ignore the input, all-zero or all-one masks, an
# import of the course's own code): `check` fails if any of them scores more than a quarter of its
# task's points.
DO_NOTHING = {
    "causal_mask": {
        "all_ones": '''
def causal_mask(kernel_size, mask_type, in_channels=1, out_channels=1, color_channels=1):
    return torch.ones(out_channels, in_channels, kernel_size, kernel_size)
''',
        "all_zeros_rejecting_everything": '''
def causal_mask(kernel_size, mask_type, in_channels=1, out_channels=1, color_channels=1):
    if kernel_size % 2 == 0 or mask_type not in ("A", "B") or in_channels % color_channels:
        raise ValueError("invalid arguments")
    return torch.zeros(out_channels, in_channels, kernel_size, kernel_size)
''',
        "import_reference": '''
from course_lib.models.pixelcnn import causal_mask
''',
    },
    "MaskedConv2d": {
        "all_one_mask": '''
class MaskedConv2d(nn.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, mask_type, color_channels=1):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)
''',
        "ignores_input": '''
class MaskedConv2d(nn.Conv2d):
    def __init__(self, in_channels, out_channels, kernel_size, mask_type, color_channels=1):
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2)

    def forward(self, x):
        return super().forward(torch.zeros_like(x))
''',
        "import_reference": '''
from course_lib.models.pixelcnn import MaskedConv2d
''',
    },
    "pixelcnn_receptive_field": {
        "nothing_seen": '''
def pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col):
    return np.zeros((height, width), dtype=bool)
''',
        "every_earlier_pixel": '''
def pixelcnn_receptive_field(num_layers, kernel_size, height, width, row, col):
    return (np.arange(height * width) < row * width + col).reshape(height, width)
''',
        "import_reference": '''
from course_lib.receptive_field import pixelcnn_receptive_field
''',
    },
    "blind_spot": {
        "empty": '''
def blind_spot(num_layers, kernel_size, height, width, row, col):
    return np.zeros((height, width), dtype=bool)
''',
        "import_reference": '''
from course_lib.receptive_field import blind_spot
''',
    },
    "GatedPixelCNN": {
        "ignores_input": '''
class GatedPixelCNN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_channels, num_layers, kernel_size=3):
        super().__init__()
        self.out = nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x):
        return self.out(torch.zeros_like(x))
''',
        "unmasked_convolutions": '''
class GatedPixelCNN(nn.Module):
    def __init__(self, in_channels, hidden_channels, out_channels, num_layers, kernel_size=3):
        super().__init__()
        sizes = [in_channels] + [hidden_channels] * num_layers
        self.convs = nn.ModuleList(nn.Conv2d(a, b, kernel_size, padding=kernel_size // 2)
                                   for a, b in zip(sizes[:-1], sizes[1:]))
        self.out = nn.Conv2d(hidden_channels, out_channels, 1)

    def forward(self, x):
        for conv in self.convs:
            x = torch.tanh(conv(x))
        return self.out(x)
''',
        "import_reference": '''
from course_lib.models.gated_pixelcnn import GatedPixelCNN
''',
    },
    "discretized_logistic_mixture_log_prob": {
        "uniform": '''
def discretized_logistic_mixture_log_prob(x, logit_weights, means, log_scales, num_values=256):
    return torch.full((len(x),), -math.log(num_values), dtype=means.dtype)
''',
        "zeros": '''
def discretized_logistic_mixture_log_prob(x, logit_weights, means, log_scales, num_values=256):
    return torch.zeros(len(x), dtype=means.dtype)
''',
        "import_reference": '''
from course_lib.models.logistic_mixture import discretized_logistic_mixture_log_prob
''',
    },
}
