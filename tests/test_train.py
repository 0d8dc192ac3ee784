"""course_lib.train: loss goes down, early stopping keeps the best weights, seeds make runs repeat,
and max_seconds bounds the run."""
import math
import time

import numpy as np
import pytest
import torch

from course_lib.train import History, evaluate_nll, fit


class Bernoullis(torch.nn.Module):
    """Independent Bernoulli pixels: the smallest likelihood model there is."""

    def __init__(self, num_dims: int):
        super().__init__()
        self.logits = torch.nn.Parameter(torch.zeros(num_dims))

    def log_prob(self, x):
        return -torch.nn.functional.binary_cross_entropy_with_logits(
            self.logits.expand_as(x), x, reduction="none").sum(dim=1)


def nll(model, x):
    return -model.log_prob(x)


def bernoulli_data(p, n, d, seed):
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, d, generator=g) < torch.as_tensor(p)).float()


def test_loss_decreases_on_a_tiny_model():
    train, val = bernoulli_data(0.2, 256, 8, 0), bernoulli_data(0.2, 128, 8, 1)
    model = Bernoullis(8)
    history = fit(model, train, val, nll_fn=nll, num_dims=8, epochs=10, lr=0.05, progress=False)
    assert len(history.train_nll) == len(history.val_nll) == 10
    assert history.stopped_by == "epochs"
    assert history.train_nll[-1] < history.train_nll[0] - 0.5
    assert history.best_val_nll < 8 * math.log(2) - 1.0, "better than the uniform model's 8 ln 2 nats"
    # The fitted probabilities approach the data's frequency, 0.2.
    np.testing.assert_allclose(torch.sigmoid(model.logits).detach().numpy(), train.mean(0).numpy(), atol=0.08)
    assert not model.training, "fit leaves the model in evaluation mode"


def test_history_reports_bits_per_dimension():
    h = History(num_dims=4, train_nll=[4 * math.log(2)], val_nll=[8 * math.log(2)], best_epoch=0)
    assert h.train_bpd == pytest.approx([1.0]) and h.val_bpd == pytest.approx([2.0])
    assert h.best_val_nll == pytest.approx(8 * math.log(2))
    assert math.isnan(History(num_dims=1).best_val_nll)


def test_early_stopping_restores_the_best_epoch():
    # Train data has p = 0.95, validation p = 0.6: validation NLL improves while the logit climbs
    # towards logit(0.6), then worsens as it keeps climbing towards logit(0.95).
    train, val = bernoulli_data(0.95, 512, 4, 0), bernoulli_data(0.6, 512, 4, 1)
    model = Bernoullis(4)
    history = fit(model, train, val, nll_fn=nll, num_dims=4, epochs=100, lr=0.02, batch_size=64,
                  patience=3, progress=False)
    best = history.best_epoch
    assert 0 < best < len(history.val_nll) - 1, "the run must have a best epoch in the middle"
    assert history.val_nll[-1] > history.best_val_nll + 0.01
    assert len(history.val_nll) == best + 3 + 1, "stops `patience` epochs after the best one"
    assert history.stopped_by == "patience"
    # The weights in the model are the best epoch's, not the last epoch's.
    assert evaluate_nll(model, val, nll) == pytest.approx(history.best_val_nll, abs=1e-5)
    assert history.best_val_nll == min(history.val_nll)


def test_same_seed_same_run_and_other_seed_other_run():
    train, val = bernoulli_data(0.3, 200, 6, 0), bernoulli_data(0.3, 100, 6, 1)

    def run(seed):
        torch.manual_seed(123)  # same initial weights every time
        model = torch.nn.Sequential(torch.nn.Linear(6, 6))

        def nll_fn(m, x):
            return torch.nn.functional.binary_cross_entropy_with_logits(m(x * 0.5), x, reduction="none").sum(1)

        h = fit(model, train, val, nll_fn=nll_fn, num_dims=6, epochs=4, batch_size=16, lr=0.01, seed=seed,
                progress=False)
        return h, [p.detach().clone() for p in model.parameters()]

    (h1, w1), (h2, w2), (h3, _) = run(0), run(0), run(1)
    assert h1.train_nll == h2.train_nll and h1.val_nll == h2.val_nll
    for a, b in zip(w1, w2):
        assert torch.equal(a, b)
    assert h1.train_nll != h3.train_nll, "another seed shuffles the batches differently"


def test_max_seconds_bounds_the_run():
    train, val = bernoulli_data(0.5, 64, 4, 0), bernoulli_data(0.5, 16, 4, 1)

    def slow_nll(m, x):
        time.sleep(0.02)
        return nll(m, x)

    start = time.perf_counter()
    with pytest.warns(RuntimeWarning, match="time limit .*depends on the machine's speed"):
        history = fit(Bernoullis(4), train, val, nll_fn=slow_nll, num_dims=4, epochs=1000, batch_size=16,
                      patience=1000, max_seconds=0.3, progress=False)
    elapsed = time.perf_counter() - start
    assert history.stopped_by == "time"
    # One epoch is 4 training batches + 1 validation batch (~0.1 s); it checks the clock after each epoch.
    assert 1 <= len(history.train_nll) < 20
    assert elapsed < 0.3 + 1.0
    assert history.seconds == pytest.approx(elapsed, abs=0.5)


def test_tuple_data_and_evaluate_nll_keeps_the_mode():
    images, labels = bernoulli_data(0.5, 40, 3, 0), torch.arange(40) % 2
    model = Bernoullis(3)

    def nll_fn(m, batch):
        x, y = batch
        assert len(x) == len(y)
        return -m.log_prob(x)

    h = fit(model, (images, labels), (images[:10], labels[:10]), nll_fn=nll_fn, num_dims=3, epochs=2,
            progress=False)
    assert len(h.train_nll) == 2
    model.train()
    value = evaluate_nll(model, (images, labels), nll_fn, batch_size=7)
    assert model.training
    assert value == pytest.approx(float(-model.log_prob(images).mean().detach()), rel=1e-5)


def test_a_time_limit_that_does_not_bind_changes_nothing(recwarn):
    """A generous max_seconds is only a safety net: same epochs, same weights, no warning."""
    train, val = bernoulli_data(0.3, 128, 4, 0), bernoulli_data(0.3, 64, 4, 1)
    runs = []
    for max_seconds in (None, 600):
        model = Bernoullis(4)
        runs.append((fit(model, train, val, nll_fn=nll, num_dims=4, epochs=6, lr=0.05, progress=False,
                         max_seconds=max_seconds), model.logits.detach().clone()))
    (h1, w1), (h2, w2) = runs
    assert h1.val_nll == h2.val_nll and torch.equal(w1, w2)
    assert h1.stopped_by == h2.stopped_by == "epochs"
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_cosine_schedule_anneals_the_learning_rate_to_zero_over_the_epochs():
    train, val = bernoulli_data(0.3, 64, 4, 0), bernoulli_data(0.3, 32, 4, 1)
    model = Bernoullis(4)
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    seen = []

    def recording_nll(m, x):
        if m.training:
            seen.append(opt.param_groups[0]["lr"])
        return nll(m, x)

    fit(model, train, val, nll_fn=recording_nll, num_dims=4, epochs=8, batch_size=16, optimizer=opt,
        patience=100, lr_schedule="cosine", progress=False)
    steps = np.arange(len(seen)) / len(seen)          # 4 batches per epoch, 32 steps in all
    assert seen == pytest.approx(0.5 * 0.5 * (1 + np.cos(np.pi * steps)))
    assert seen[0] == pytest.approx(0.5) and seen[-1] < 0.01
    with pytest.raises(ValueError, match="lr_schedule must be"):
        fit(model, train, val, nll_fn=nll, num_dims=4, lr_schedule="linear", progress=False)
