"""Realistic wrong answers for assignment a1_histograms, one dict entry per task.

Each value is the full replacement source of that task's answer cell. Every mutant must fail at least
one of the notebook's visible or hidden tests for its task (tests/test_a1_mutants.py checks this); the
autograder's `check` command uses them to prove that the tests catch typical mistakes.

`DO_NOTHING` holds answers that do no real work (constants, outputs that ignore the input): `check`
fails if any of them scores more than a quarter of its task's points.
"""

MUTANTS = {
    "fit_histogram": {
        "alpha_missing_from_denominator": '''
def fit_histogram(samples, num_values, alpha=0.0):
    counts = np.bincount(np.asarray(samples), minlength=num_values).astype(np.float64)
    return (counts + alpha) / len(samples)
''',
        "alpha_added_once_to_denominator": '''
def fit_histogram(samples, num_values, alpha=0.0):
    counts = np.bincount(np.asarray(samples), minlength=num_values).astype(np.float64)
    return (counts + alpha) / (len(samples) + alpha)
''',
        "bincount_without_minlength": '''
def fit_histogram(samples, num_values, alpha=0.0):
    counts = np.bincount(np.asarray(samples)).astype(np.float64)
    return (counts + alpha) / (len(samples) + alpha * num_values)
''',
        "np_histogram_over_data_range": '''
def fit_histogram(samples, num_values, alpha=0.0):
    counts, _ = np.histogram(samples, bins=num_values)
    return (counts + alpha) / (len(samples) + alpha * num_values)
''',
        "smoothing_only_unseen_values": '''
def fit_histogram(samples, num_values, alpha=0.0):
    counts = np.bincount(np.asarray(samples), minlength=num_values).astype(np.float64)
    unseen = counts == 0
    counts[unseen] = alpha
    return counts / (len(samples) + alpha * unseen.sum())
''',
    },
    "average_nll": {
        "sum_not_mean": '''
def average_nll(probs, samples):
    with np.errstate(divide="ignore"):
        return float(-np.log(np.asarray(probs)[np.asarray(samples)]).sum())
''',
        "log_base_2": '''
def average_nll(probs, samples):
    with np.errstate(divide="ignore"):
        return float(-np.log2(np.asarray(probs)[np.asarray(samples)]).mean())
''',
        "warning_not_silenced": '''
def average_nll(probs, samples):
    return float(-np.log(np.asarray(probs)[np.asarray(samples)]).mean())
''',
        "epsilon_clamp": '''
def average_nll(probs, samples):
    return float(-np.log(np.asarray(probs)[np.asarray(samples)] + 1e-12).mean())
''',
        "math_log_loop": '''
def average_nll(probs, samples):
    return sum(-math.log(probs[s]) for s in samples) / len(samples)
''',
        "raises_on_zero_probability": '''
def average_nll(probs, samples):
    p = np.asarray(probs)[np.asarray(samples)]
    if (p == 0).any():
        raise ValueError("a sample has probability zero")
    return float(-np.log(p).mean())
''',
    },
    "bits_per_dim": {
        "forgot_ln2": '''
def bits_per_dim(nll_nats, num_dims):
    return nll_nats / num_dims
''',
        "operator_precedence": '''
def bits_per_dim(nll_nats, num_dims):
    return nll_nats / num_dims * math.log(2)
''',
        "forgot_num_dims": '''
def bits_per_dim(nll_nats, num_dims):
    return nll_nats / math.log(2)
''',
        "log10_instead_of_ln2": '''
def bits_per_dim(nll_nats, num_dims):
    return nll_nats / (num_dims * math.log10(2))
''',
    },
    "sample_inverse_cdf": {
        "searchsorted_side_left": '''
def sample_inverse_cdf(probs, u):
    cdf = np.cumsum(probs)
    return np.minimum(np.searchsorted(cdf, u), len(cdf) - 1).astype(np.int64)
''',
        "index_past_end_not_clipped": '''
def sample_inverse_cdf(probs, u):
    return np.searchsorted(np.cumsum(probs), u, side="right").astype(np.int64)
''',
        "argmax_without_guard": '''
def sample_inverse_cdf(probs, u):
    cdf = np.cumsum(probs)
    u = np.asarray(u)
    return np.argmax(cdf[None, :] > u.reshape(-1, 1), axis=1).reshape(u.shape).astype(np.int64)
''',
        "count_less_or_equal_unclipped": '''
def sample_inverse_cdf(probs, u):
    cdf = np.cumsum(probs)
    u = np.asarray(u)
    return (cdf[None, :] <= u.reshape(-1, 1)).sum(axis=1).reshape(u.shape).astype(np.int64)
''',
        "clipped_one_too_far": '''
def sample_inverse_cdf(probs, u):
    cdf = np.cumsum(probs)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf)).astype(np.int64)
''',
        "clamp_to_last_index_even_if_zero": '''
def sample_inverse_cdf(probs, u):
    cdf = np.cumsum(probs)
    return np.minimum(np.searchsorted(cdf, u, side="right"), len(cdf) - 1).astype(np.int64)
''',
        "flattens_u": '''
def sample_inverse_cdf(probs, u):
    probs = np.asarray(probs, dtype=np.float64)
    idx = np.searchsorted(np.cumsum(probs), np.ravel(u), side="right")
    return np.minimum(idx, np.flatnonzero(probs > 0)[-1]).astype(np.int64)
''',
        "ignores_u_draws_its_own": '''
def sample_inverse_cdf(probs, u):
    probs = np.asarray(probs) / np.sum(probs)
    return np.random.choice(len(probs), size=np.shape(u), p=probs).astype(np.int64)
''',
    },
}

DO_NOTHING = {
    "fit_histogram": {
        "uniform": '''
def fit_histogram(samples, num_values, alpha=0.0):
    return np.full(num_values, 1.0 / num_values)
''',
        "zeros": '''
def fit_histogram(samples, num_values, alpha=0.0):
    return np.zeros(num_values)
''',
    },
    "average_nll": {
        "zero": '''
def average_nll(probs, samples):
    return 0.0
''',
        "always_inf": '''
def average_nll(probs, samples):
    return float("inf")
''',
        "log_num_values": '''
def average_nll(probs, samples):
    return float(np.log(len(probs)))
''',
    },
    "bits_per_dim": {
        "zero": '''
def bits_per_dim(nll_nats, num_dims):
    return 0.0
''',
        "one": '''
def bits_per_dim(nll_nats, num_dims):
    return 1.0
''',
    },
    "sample_inverse_cdf": {
        "zeros": '''
def sample_inverse_cdf(probs, u):
    return np.zeros(np.shape(u), dtype=np.int64)
''',
        "most_likely_value": '''
def sample_inverse_cdf(probs, u):
    return np.full(np.shape(u), int(np.argmax(probs)), dtype=np.int64)
''',
    },
}
