"""Wrong answers for assignment a6_compression_and_latents, one dict entry per task.

Each value is the full replacement source of that task's answer cell. `MUTANTS` are realistic
mistakes (each must lose points); `DO_NOTHING` are answers that do no real work (a constant, an
input ignored, the easy half of the task), which must earn at most a quarter of the task's points.
"""

MUTANTS = {
    "code_length_bits": {
        "nats_not_bits": '''
def code_length_bits(log_probs):
    return float(-log_probs.sum())
''',
        "log2_of_log_probs": '''
def code_length_bits(log_probs):
    return float(-torch.log2(log_probs.exp()).mean())
''',
        "mean_not_sum": '''
def code_length_bits(log_probs):
    return float(-log_probs.mean() / math.log(2))
''',
        "sum_over_last_axis_only": '''
def code_length_bits(log_probs):
    return float((-log_probs.sum(-1) / math.log(2)).reshape(-1)[0])
''',
        "returns_tensor": '''
def code_length_bits(log_probs):
    return -log_probs.sum() / math.log(2)
''',
        "sign_flipped": '''
def code_length_bits(log_probs):
    return float(log_probs.sum() / math.log(2))
''',
    },
    "arithmetic_interval": {
        "symbols_from_the_top": '''
def arithmetic_interval(probs, symbols):
    p = torch.as_tensor(probs, dtype=torch.float64)
    cum = torch.cumsum(p.flip(0), 0).flip(0)          # probability mass at and above each symbol
    low, width = 0.0, 1.0
    for s in [int(v) for v in symbols]:
        low += width * float(1.0 - cum[s])
        width *= float(p[s])
    low = 1.0 - low - width
    return low, low + width
''',
        "cumsum_includes_own_symbol": '''
def arithmetic_interval(probs, symbols):
    cum = torch.cumsum(torch.as_tensor(probs, dtype=torch.float64), 0)
    low, width = 0.0, 1.0
    for s in [int(v) for v in symbols]:
        low += width * float(cum[s])
        width *= float(probs[s])
    return low, low + width
''',
        "width_not_rescaled": '''
def arithmetic_interval(probs, symbols):
    p = torch.as_tensor(probs, dtype=torch.float64)
    cum = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(p, 0)])
    low, width = 0.0, 1.0
    for s in [int(v) for v in symbols]:
        low += float(cum[s]) * float(p[s])
        width *= float(p[s])
    return low, low + width
''',
        "returns_low_and_width": '''
def arithmetic_interval(probs, symbols):
    p = torch.as_tensor(probs, dtype=torch.float64)
    cum = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(p, 0)])
    low, width = 0.0, 1.0
    for s in [int(v) for v in symbols]:
        low += width * float(cum[s])
        width *= float(p[s])
    return low, width
''',
        "float32_arithmetic": '''
def arithmetic_interval(probs, symbols):
    p = torch.as_tensor(probs).float()
    cum = torch.cat([torch.zeros(1), torch.cumsum(p, 0)])
    low, width = torch.tensor(0.0), torch.tensor(1.0)
    for s in [int(v) for v in symbols]:
        low = low + width * cum[s]
        width = width * p[s]
    return float(low), float(low + width)
''',
        "only_the_last_symbol": '''
def arithmetic_interval(probs, symbols):
    p = torch.as_tensor(probs, dtype=torch.float64)
    cum = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(p, 0)])
    low, width = 0.0, 1.0
    for s in [int(v) for v in symbols]:
        low = float(cum[s])
        width = float(p[s])
    return low, low + width
''',
        "list_only": '''
def arithmetic_interval(probs, symbols):
    p = [float(v) for v in probs]
    low, width = 0.0, 1.0
    for s in symbols:
        if not isinstance(s, int):
            raise TypeError("symbols must be ints")
        low += width * sum(p[:s])
        width *= p[s]
    return low, low + width
''',
    },
    "elbo": {
        "naive_log_sigmoid": '''
def elbo(x_logits, x, mu, logvar):
    p = torch.sigmoid(x_logits)
    log_lik = (x * torch.log(p) + (1 - x) * torch.log(1 - p)).sum(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return log_lik - kl
''',
        "kl_added": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return log_lik + kl
''',
        "negative_elbo": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return kl - log_lik
''',
        "logvar_as_log_std": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
    kl = 0.5 * (mu ** 2 + (2 * logvar).exp() - 1.0 - 2 * logvar).sum(-1)
    return log_lik - kl
''',
        "kl_without_half": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
    kl = (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return log_lik - kl
''',
        "mean_over_pixels": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").mean(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return log_lik - kl
''',
        "bce_on_probabilities": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy(torch.sigmoid(x_logits), x, reduction="none").sum(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return log_lik - kl
''',
        "no_kl": '''
def elbo(x_logits, x, mu, logvar):
    return -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
''',
        "batch_mean_returned": '''
def elbo(x_logits, x, mu, logvar):
    log_lik = -F.binary_cross_entropy_with_logits(x_logits, x, reduction="none").sum(-1)
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return (log_lik - kl).mean().expand(len(x))
''',
    },
    "free_bits_kl": {
        "clamp_per_example": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)
    return torch.clamp(kl, min=free_bits).sum(-1)
''',
        "clamp_after_summing": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
    return torch.clamp(kl, min=free_bits)
''',
        "batch_means_for_everyone": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)
    return torch.clamp(kl.mean(0), min=free_bits).sum().expand(len(mu))
''',
        "ignores_free_bits": '''
def free_bits_kl(mu, logvar, free_bits):
    return 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
''',
        "below_dimensions_dropped": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)
    below = kl.mean(0, keepdim=True) < free_bits
    return torch.where(below, torch.zeros_like(kl), kl).sum(-1)
''',
        "mask_detached_wrongly": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)
    below = kl.mean(0, keepdim=True) < free_bits
    return (torch.where(below, torch.full_like(kl, free_bits), kl).sum(-1)).detach()
''',
        "gradient_leaks_through_constant": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)
    below = (kl.mean(0, keepdim=True) < free_bits).float()
    return (below * (kl - kl.detach() + free_bits) + (1 - below) * kl).sum(-1)
''',
        "kl_per_example_over_latents_mean": '''
def free_bits_kl(mu, logvar, free_bits):
    kl = 0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar)
    below = kl.mean(1, keepdim=True) < free_bits
    return torch.where(below, torch.full_like(kl, free_bits), kl).sum(-1)
''',
    },
    "strided_attention_mask": {
        "excludes_self": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    d = i - j
    return (d > 0) & ((d < stride) | (d % stride == 0))
''',
        "local_window_one_short": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    d = i - j
    return (d >= 0) & ((d < stride - 1) | (d % stride == 0))
''',
        "transposed": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[None, :]
    j = torch.arange(seq_len)[:, None]
    d = i - j
    return (d >= 0) & ((d < stride) | (d % stride == 0))
''',
        "no_causal_part": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    d = (i - j).abs()
    return (d < stride) | (d % stride == 0)
''',
        "columns_not_offsets": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    return (j <= i) & ((i - j < stride) | (j % stride == 0))
''',
        "only_the_strided_part": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    return (j <= i) & ((i - j) % stride == 0)
''',
        "float_mask": '''
def strided_attention_mask(seq_len, stride):
    i = torch.arange(seq_len)[:, None]
    j = torch.arange(seq_len)[None, :]
    d = i - j
    return ((d >= 0) & ((d < stride) | (d % stride == 0))).float()
''',
    },
    "subscale_order": {
        "sub_images_column_major": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("height and width must be divisible by factor")
    flat = torch.arange(height * width).reshape(height, width)
    return torch.cat([flat[a::factor, b::factor].reshape(-1) for b in range(factor) for a in range(factor)])
''',
        "pixels_column_major": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("height and width must be divisible by factor")
    flat = torch.arange(height * width).reshape(height, width)
    return torch.cat([flat[a::factor, b::factor].t().reshape(-1) for a in range(factor) for b in range(factor)])
''',
        "height_for_width": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("height and width must be divisible by factor")
    out = []
    for a in range(factor):
        for b in range(factor):
            for i in range(height // factor):
                for j in range(width // factor):
                    out.append((a + factor * i) * height + b + factor * j)
    return torch.tensor(out)
''',
        "blocks_not_interleaved": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("height and width must be divisible by factor")
    h, w = height // factor, width // factor
    flat = torch.arange(height * width).reshape(height, width)
    return torch.cat([flat[a * h:(a + 1) * h, b * w:(b + 1) * w].reshape(-1) for a in range(factor) for b in range(factor)])
''',
        "no_value_error": '''
def subscale_order(height, width, factor):
    flat = torch.arange(height * width).reshape(height, width)
    return torch.cat([flat[a::factor, b::factor].reshape(-1) for a in range(factor) for b in range(factor)])
''',
        "int32": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("height and width must be divisible by factor")
    flat = torch.arange(height * width, dtype=torch.int32).reshape(height, width)
    return torch.cat([flat[a::factor, b::factor].reshape(-1) for a in range(factor) for b in range(factor)])
''',
        "only_square_images": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("height and width must be divisible by factor")
    flat = torch.arange(height * height).reshape(height, height)
    return torch.cat([flat[a::factor, b::factor].reshape(-1) for a in range(factor) for b in range(factor)])
''',
    },
}

DO_NOTHING = {
    "code_length_bits": {
        "zero": '''
def code_length_bits(log_probs):
    return 0.0
''',
        "number_of_entries": '''
def code_length_bits(log_probs):
    return float(log_probs.numel())
''',
    },
    "arithmetic_interval": {
        "whole_interval": '''
def arithmetic_interval(probs, symbols):
    return 0.0, 1.0
''',
        "width_only": '''
def arithmetic_interval(probs, symbols):
    width = 1.0
    for s in symbols:
        width *= float(probs[int(s)])
    return 0.0, width
''',
    },
    "elbo": {
        "zeros": '''
def elbo(x_logits, x, mu, logvar):
    return torch.zeros(x.shape[0], dtype=x_logits.dtype)
''',
        "minus_kl_only": '''
def elbo(x_logits, x, mu, logvar):
    return -0.5 * (mu ** 2 + logvar.exp() - 1.0 - logvar).sum(-1)
''',
        "sum_of_logits": '''
def elbo(x_logits, x, mu, logvar):
    return x_logits.sum(-1)
''',
    },
    "free_bits_kl": {
        "constant_free_bits": '''
def free_bits_kl(mu, logvar, free_bits):
    return torch.full((mu.shape[0],), free_bits * mu.shape[1], dtype=mu.dtype)
''',
        "zeros": '''
def free_bits_kl(mu, logvar, free_bits):
    return torch.zeros(mu.shape[0], dtype=mu.dtype)
''',
    },
    "strided_attention_mask": {
        "full_causal": '''
def strided_attention_mask(seq_len, stride):
    return torch.ones(seq_len, seq_len, dtype=torch.bool).tril()
''',
        "all_true": '''
def strided_attention_mask(seq_len, stride):
    return torch.ones(seq_len, seq_len, dtype=torch.bool)
''',
        "identity": '''
def strided_attention_mask(seq_len, stride):
    return torch.eye(seq_len, dtype=torch.bool)
''',
    },
    "subscale_order": {
        "raster_order": '''
def subscale_order(height, width, factor):
    if height % factor or width % factor:
        raise ValueError("not divisible")
    return torch.arange(height * width)
''',
        "zeros": '''
def subscale_order(height, width, factor):
    return torch.zeros(height * width, dtype=torch.int64)
''',
    },
}
