"""bench/mnist_table.py: clear errors without data, and results recorded per model."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def mnist_table():
    spec = importlib.util.spec_from_file_location("mnist_table", ROOT / "bench" / "mnist_table.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_missing_data_folder_gives_a_message_not_a_traceback(mnist_table, tmp_path, capsys):
    assert mnist_table.main(["--data", str(tmp_path / "nowhere")]) == 2
    err = capsys.readouterr().err
    assert "--data" in err and "binarized_mnist_" in err


def test_folder_without_the_files_says_which_file(mnist_table, tmp_path, capsys):
    assert mnist_table.main(["--data", str(tmp_path)]) == 2
    assert "Could not load binarized MNIST" in capsys.readouterr().err


def test_unknown_model_is_refused_before_any_training(mnist_table, tmp_path, capsys):
    with pytest.raises(SystemExit):
        mnist_table.main(["--data", str(tmp_path), "--models", "nade,resnet"])
    assert "resnet" in capsys.readouterr().err


def _row(model, nll, date="2026-01-01"):
    return dict(model=model, label=model.upper(), ours=nll, paper=88.0, params=10, seconds=60.0, epochs=3,
                best_epoch=2, val=nll, val_curve=[nll], date=date, threads=2, budget_min=1.0,
                machine="x86_64 2 cores", torch="2.13.0+cpu")


def test_results_are_merged_per_model_and_the_latest_run_wins(mnist_table, tmp_path):
    out = tmp_path / "table.md"
    mnist_table.write_results([_row("pixelcnn", 90.0)], out)
    mnist_table.write_results([_row("nade", 95.0)], out)
    mnist_table.write_results([_row("nade", 89.5, date="2026-02-02")], out)
    text = out.read_text()
    assert "| NADE | 89.50 | 88.00 | +1.50 |" in text and "95.00" not in text
    assert text.index("| NADE |") < text.index("| PIXELCNN |")  # the script's model order, not run order
    assert "2026-01-01" in text and "2026-02-02" in text       # every run's date and machine stay listed


def test_a_short_run_on_tiny_data_records_a_normalised_result(mnist_table, tmp_path):
    """End to end on 40/20/20 random binary images (a few seconds of training): the script records
    a positive test NLL of the right scale (near 784 ln 2 nats, untrained as it is), the settings
    it trained with and why training stopped."""
    import math

    import numpy as np

    rng = np.random.default_rng(0)
    for split, n in [("train", 40), ("valid", 20), ("test", 20)]:
        rows = (rng.random((n, 784)) < 0.2).astype(int)
        (tmp_path / f"binarized_mnist_{split}.amat").write_text("\n".join(" ".join(map(str, r)) for r in rows) + "\n")
    out = tmp_path / "table.md"
    assert mnist_table.main(["--data", str(tmp_path), "--models", "made,gated", "--minutes", "0.05",
                             "--threads", "1", "--precision", "bf16", "--out", str(out)]) == 0
    import json
    rows = json.loads(out.with_suffix(".json").read_text())
    for name in ("made", "gated"):
        row = rows[name]
        assert 0 < row["ours"] < 784 * math.log(2) * 1.5, name
        assert row["stopped_by"] in ("time", "patience", "epochs") and row["settings"]["lr_schedule"] == "cosine"
        assert len(row["train_curve"]) == len(row["val_curve"]) == row["epochs"]
    assert rows["gated"]["precision"] == "bf16" and rows["made"]["precision"] == "fp32"  # bf16 only for convolutions
    text = out.read_text()
    assert "| MADE (1 hidden layer of 2000" in text and "bf16 autocast; 1 thread |" in text
    assert rows["made"]["epochs"] <= 26 and "cosine over 26 epochs; batch 100; 1 thread |" in text  # MADE's fixed epochs


def test_recorded_results_were_trained_with_the_settings_in_the_script(mnist_table):
    """bench/results must describe what `MODELS` would run today: a changed setting needs a re-run."""
    import json

    recorded = json.loads((ROOT / "bench" / "results" / "mnist_table.json").read_text())
    assert set(recorded) <= set(mnist_table.MODELS)
    for name, row in recorded.items():
        assert row["settings"] == mnist_table.MODELS[name][2], f"{name}: re-run it or restore its settings"


def test_precision_auto_takes_bf16_only_where_the_cpu_has_it(mnist_table, monkeypatch):
    monkeypatch.setattr(mnist_table, "cpu_flags_and_name", lambda: ({"avx2", "amx_bf16"}, "a CPU"))
    assert mnist_table.resolve_precision("auto") == "bf16"
    monkeypatch.setattr(mnist_table, "cpu_flags_and_name", lambda: ({"avx2", "fma"}, "a CPU"))
    assert mnist_table.resolve_precision("auto") == "fp32"
    assert mnist_table.resolve_precision("bf16") == "bf16" and mnist_table.resolve_precision("fp32") == "fp32"


def test_machine_description_names_the_cpu_and_its_cores(mnist_table):
    import os

    name = mnist_table.cpu_flags_and_name()[1]
    text = mnist_table.describe_machine(software=False)
    assert name in text and f"{os.cpu_count()} CPU cores" in text


def test_image_models_are_scored_with_their_own_exact_log_prob(mnist_table):
    """The benchmark's NLL for the convolutional models (channels-last input, float32 sum) is the
    model's own -log_prob in evaluation, whatever precision training would use."""
    import torch
    from course_lib.models.gated_pixelcnn import GatedPixelCNN

    torch.manual_seed(0)
    model = GatedPixelCNN(1, hidden_channels=8, num_layers=2, kernel_size=3, num_values=2, image_size=28).eval()
    x = (torch.rand(3, 784) < 0.3).float()
    for precision in ("fp32", "bf16"):
        got = mnist_table.nll_fn_for("gated", precision)(model, mnist_table.as_model_input("gated", x))
        want = -model.log_prob(x.reshape(3, 1, 28, 28).long())
        assert torch.allclose(got, want, atol=1e-4), (precision, got, want)


def test_ensemble_trains_one_mask_per_batch_and_is_tested_as_the_full_ensemble(mnist_table):
    import torch
    from course_lib.models.made import MADE

    model = MADE(784, [20], num_masks=4, seed=0)
    x = (torch.rand(6, 784) < 0.3).float()
    nll = mnist_table.nll_fn_for("made_ensemble")
    seen = []
    for _ in range(4):  # training: the next mask set for every minibatch
        nll(model, x)
        seen.append(model.mask_index)
    assert sorted(seen) == [0, 1, 2, 3]
    model.eval()  # validation: example i under mask i mod 4, the same whatever mask training left behind
    first = nll(model, x)
    model.set_mask(2)
    assert torch.equal(nll(model, x), first)
    for i in range(6):
        model.set_mask(i % 4)
        assert torch.allclose(first[i], -model.log_prob(x[i:i + 1])[0])
    assert torch.allclose(mnist_table.test_nll_fn_for("made_ensemble")(model, x), -model.ensemble_log_prob(x))
