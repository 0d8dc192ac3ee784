"""Figures of a graded task: their data (judge side, from the probe's records on public display
inputs) and their drawing (PNG for the feedback, the same data drawn again by the dashboard's script).

A figure is a small JSON-serialisable dict with a `kind`:

- `dependency`: `cells`, an (outputs x inputs) matrix of categories (see CATEGORY), the student's
  map laid over the expected one; `expected` the expected 0/1 map; axis labels; `image_shape`
  (h, w) when inputs and outputs are pixels in raster order.
- `field`: the same categories on an (h, w) canvas (a receptive field or blind spot over the
  analytic one) and the `target` pixel (row, col).
- `sampler`: `labels`, `empirical` frequencies of the student's samples and `exact` probabilities.
- `values`: `student` and `reference` values across the display inputs (`labels`).
- `error`: `message`, why the figure could not be drawn (the function raised, the shape is wrong).

Everything in a figure was computed on PUBLIC inputs (`taskapi.Display`); what comes from the
sandbox went through `Context.get` (kind, dtype, shape against the reference's) and is bounded again
by `validate` before it is stored or drawn.
"""
from __future__ import annotations

import base64
import io
import math
import textwrap

import numpy as np

from autograder import protocol

# categories of a cell of a dependency map or field
NONE, AS_EXPECTED, VIOLATION, MISSING = 0, 1, 2, 3
CATEGORY = {NONE: "no connection", AS_EXPECTED: "connection, as expected",
            VIOLATION: "violation: a connection that must not be there",
            MISSING: "missing: an expected connection that is not there"}
COLOURS = {NONE: "#ffffff", AS_EXPECTED: "#4d4d4d", VIOLATION: "#d62728", MISSING: "#56b4e9"}
MAX_CELLS = 4096           # entries of a map
MAX_POINTS = 512           # bars or points of a sampler or values figure
MAX_FIGURES = 6            # per task
KINDS = ("dependency", "field", "sampler", "values", "error")


# ---------------------------------------------------------------- data (pure)


def dependency_cells(student, expected) -> np.ndarray:
    """Categories of each cell: student and expected 0/1 maps of the same shape."""
    s, e = np.asarray(student, dtype=bool), np.asarray(expected, dtype=bool)
    if s.shape != e.shape:
        raise ValueError(f"the maps differ in shape: {s.shape} and {e.shape}")
    cells = np.full(s.shape, NONE, dtype=np.int64)
    cells[s & e] = AS_EXPECTED
    cells[s & ~e] = VIOLATION
    cells[~s & e] = MISSING
    return cells


def _counts(cells) -> dict:
    c = np.asarray(cells)
    return {"violations": int((c == VIOLATION).sum()), "missing": int((c == MISSING).sum())}


def dependency(title, student, expected, xlabel="input", ylabel="output", image_shape=None,
               order=None) -> dict:
    """A dependency map (outputs x inputs). `order`: the display ordering, for the axis note."""
    cells = dependency_cells(student, expected)
    fig = {"kind": "dependency", "title": title, "cells": cells.tolist(),
           "expected": np.asarray(expected, dtype=bool).astype(int).tolist(),
           "xlabel": xlabel, "ylabel": ylabel, **_counts(cells)}
    if image_shape is not None:
        fig["image_shape"] = [int(v) for v in image_shape]
    if order is not None:
        fig["order"] = [int(v) for v in order]
    return fig


def field(title, student, expected, target) -> dict:
    """A map on an (h, w) canvas (receptive field, blind spot) over the expected one."""
    cells = dependency_cells(student, expected)
    return {"kind": "field", "title": title, "cells": cells.tolist(),
            "target": [int(target[0]), int(target[1])], **_counts(cells)}


def sampler(title, samples_index, exact, labels=None) -> dict:
    """Empirical frequencies of integer samples (0..K-1) against exact probabilities (K)."""
    exact = np.asarray(exact, dtype=np.float64)
    idx = np.asarray(samples_index).reshape(-1)
    idx = idx[(idx >= 0) & (idx < len(exact))].astype(np.int64)
    counts = np.bincount(idx, minlength=len(exact))
    n = int(np.asarray(samples_index).size)
    labels = labels if labels is not None else [str(k) for k in range(len(exact))]
    return {"kind": "sampler", "title": title, "labels": [str(v) for v in labels],
            "empirical": _rounded(counts / max(n, 1)), "exact": _rounded(exact), "n": n}


def values(title, student, reference, labels=None, xlabel="display input", ylabel="value") -> dict:
    s = np.asarray(student, dtype=np.float64).reshape(-1)
    r = np.asarray(reference, dtype=np.float64).reshape(-1)
    if s.shape != r.shape:
        raise ValueError("student and reference values differ in number")
    labels = labels if labels is not None else [str(i) for i in range(len(r))]
    return {"kind": "values", "title": title, "labels": [str(v) for v in labels], "student": _rounded(s),
            "reference": _rounded(r), "xlabel": xlabel, "ylabel": ylabel}


def error(title, message) -> dict:
    return {"kind": "error", "title": title, "message": message}


def _rounded(a) -> list:
    """Floats to 6 significant digits; NaN and infinities as None, "inf", "-inf" (JSON has neither)."""
    out = []
    for v in np.asarray(a, dtype=np.float64).reshape(-1):
        if math.isnan(v):
            out.append(None)
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(float(f"{v:.6g}"))
    return out


def _num(v) -> float:
    if v is None:
        return math.nan
    if v == "inf":
        return math.inf
    if v == "-inf":
        return -math.inf
    return float(v)


# ---------------------------------------------------------------- validation (what may be stored)


def _text(v, limit=120) -> str:
    return protocol.clean_text(v if isinstance(v, str) else str(v), limit)


def _int_matrix(m, allowed) -> list:
    a = np.asarray(m)
    if a.ndim != 2 or a.size > MAX_CELLS or a.dtype.kind not in "iub" or not np.isin(a, list(allowed)).all():
        raise ValueError("bad matrix")
    return a.astype(int).tolist()


def _num_list(v) -> list:
    if not isinstance(v, list) or len(v) > MAX_POINTS:
        raise ValueError("bad list")
    out = []
    for x in v:
        if x in ("inf", "-inf") or x is None or (isinstance(x, (int, float)) and not isinstance(x, bool)):
            out.append(x if not isinstance(x, float) or math.isfinite(x) else None)
        else:
            raise ValueError("bad number")
    return out


def validate(fig) -> dict:
    """A figure dict rebuilt field by field with bounds; anything else becomes an error figure.
    Figures are built by the task modules from validated arrays; this is the last line before they
    are written to disk and into pages."""
    try:
        kind = fig["kind"]
        title = _text(fig.get("title", ""))
        if kind == "error":
            return {"kind": "error", "title": title, "message": _text(fig.get("message", ""), protocol.MAX_MESSAGE)}
        if kind in ("dependency", "field"):
            out = {"kind": kind, "title": title, "cells": _int_matrix(fig["cells"], CATEGORY),
                   "violations": int(fig["violations"]), "missing": int(fig["missing"])}
            if kind == "dependency":
                out["expected"] = _int_matrix(fig["expected"], (0, 1))
                out["xlabel"], out["ylabel"] = _text(fig.get("xlabel", "input"), 60), _text(fig.get("ylabel", "output"), 60)
                if "image_shape" in fig:
                    h, w = (int(v) for v in fig["image_shape"])
                    out["image_shape"] = [h, w]
                if "order" in fig:
                    out["order"] = [int(v) for v in fig["order"][:MAX_POINTS]]
            else:
                out["target"] = [int(v) for v in fig["target"][:2]]
            return out
        if kind == "sampler":
            return {"kind": kind, "title": title, "labels": [_text(v, 24) for v in fig["labels"][:MAX_POINTS]],
                    "empirical": _num_list(fig["empirical"]), "exact": _num_list(fig["exact"]), "n": int(fig["n"])}
        if kind == "values":
            return {"kind": kind, "title": title, "labels": [_text(v, 24) for v in fig["labels"][:MAX_POINTS]],
                    "student": _num_list(fig["student"]), "reference": _num_list(fig["reference"]),
                    "xlabel": _text(fig.get("xlabel", ""), 60), "ylabel": _text(fig.get("ylabel", ""), 60)}
    except (KeyError, TypeError, ValueError, IndexError):
        pass
    return {"kind": "error", "title": _text(fig.get("title", "") if isinstance(fig, dict) else ""),
            "message": "the figure's data was malformed"}


# ---------------------------------------------------------------- drawing (PNG, deterministic)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _legend_patches(present):
    from matplotlib.patches import Patch

    return [Patch(facecolor=COLOURS[c], edgecolor="#999", label=CATEGORY[c]) for c in present]


def _grid(ax, cells, title, xlabel, ylabel, image_shape=None):
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap([COLOURS[c] for c in sorted(COLOURS)])
    a = np.asarray(cells)
    ax.imshow(a, cmap=cmap, vmin=-0.5, vmax=len(COLOURS) - 0.5, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel, fontsize=8)
    ax.set_ylabel(ylabel, fontsize=8)
    n_out, n_in = a.shape
    ax.set_xticks(np.arange(-0.5, n_in, 1), minor=True)
    ax.set_yticks(np.arange(-0.5, n_out, 1), minor=True)
    ax.grid(which="minor", color="#dddddd", linewidth=0.4)
    ax.tick_params(which="minor", length=0)
    for axis, n in ((ax.xaxis, n_in), (ax.yaxis, n_out)):
        step = max(1, n // 8)
        ticks = list(range(0, n, step))
        axis.set_ticks(ticks)
        if image_shape is not None:
            w = image_shape[1]
            axis.set_ticklabels([f"({t // w},{t % w})" for t in ticks], fontsize=6)
        else:
            axis.set_ticklabels([str(t) for t in ticks], fontsize=7)


def draw(fig: dict) -> bytes | None:
    """The figure as PNG bytes (the same bytes for the same data), or None for an error figure."""
    kind = fig.get("kind")
    if kind not in ("dependency", "field", "sampler", "values"):
        return None
    plt = _pyplot()
    with plt.rc_context({"font.family": "DejaVu Sans", "svg.hashsalt": "autograder", "figure.dpi": 80}):
        if kind == "dependency":
            f, axes = plt.subplots(1, 2, figsize=(7.2, 3.4))
            expected = np.asarray(fig["expected"]) * AS_EXPECTED
            _grid(axes[0], expected, "expected (reference)", fig["xlabel"], fig["ylabel"], fig.get("image_shape"))
            _grid(axes[1], fig["cells"], f"yours: {fig['violations']} violation(s), {fig['missing']} missing",
                  fig["xlabel"], fig["ylabel"], fig.get("image_shape"))
            present = sorted(set(np.unique(fig["cells"]).tolist()) | {AS_EXPECTED} - {NONE})
            f.legend(handles=_legend_patches(present), loc="lower center", ncol=len(present), fontsize=7, frameon=False)
            f.suptitle(textwrap.fill(fig["title"], 80), fontsize=10)
            f.subplots_adjust(bottom=0.25, top=0.80, wspace=0.35)
        elif kind == "field":
            f, ax = plt.subplots(figsize=(4.6, 4.2))
            _grid(ax, fig["cells"], f"{fig['violations']} extra, {fig['missing']} missing", "column", "row")
            ax.set_xticks(range(len(fig["cells"][0])))
            ax.set_yticks(range(len(fig["cells"])))
            ax.set_xticklabels([str(i) for i in range(len(fig["cells"][0]))], fontsize=7)
            ax.set_yticklabels([str(i) for i in range(len(fig["cells"]))], fontsize=7)
            r, c = fig["target"]
            ax.plot([c], [r], marker="*", color="#e69f00", markersize=12, markeredgecolor="black", linestyle="none",
                    label="output pixel")
            present = sorted(set(np.unique(fig["cells"]).tolist()) | {AS_EXPECTED} - {NONE})
            from matplotlib.lines import Line2D

            handles = _legend_patches(present) + [Line2D([], [], marker="*", color="#e69f00", markeredgecolor="black",
                                                         linestyle="none", markersize=10, label="output pixel")]
            f.legend(handles=handles, loc="lower center", ncol=2, fontsize=7, frameon=False)
            f.suptitle(textwrap.fill(fig["title"], 55), fontsize=9)
            f.subplots_adjust(bottom=0.27, top=0.80)
        elif kind == "sampler":
            f, ax = plt.subplots(figsize=(7.2, 3.0))
            x = np.arange(len(fig["exact"]))
            ax.bar(x - 0.2, [_num(v) for v in fig["exact"]], width=0.4, color="#4d4d4d", label="exact probability")
            ax.bar(x + 0.2, [_num(v) for v in fig["empirical"]], width=0.4, color="#e69f00",
                   label=f"your samples' frequency (n = {fig['n']})")
            step = max(1, len(x) // 16)
            ax.set_xticks(x[::step])
            ax.set_xticklabels(fig["labels"][::step], fontsize=7, rotation=45 if len(x) > 8 else 0)
            ax.set_xlabel("outcome")
            ax.set_ylabel("probability")
            ax.set_title(textwrap.fill(fig["title"], 90), fontsize=10)
            ax.legend(fontsize=7, frameon=False)
            f.tight_layout()
        else:
            f, ax = plt.subplots(figsize=(7.2, 3.0))
            x = np.arange(len(fig["reference"]))
            ref = np.array([_num(v) for v in fig["reference"]])
            got = np.array([_num(v) for v in fig["student"]])
            ax.plot(x, ref, "o-", color="#4d4d4d", label="reference", markersize=6, linewidth=1)
            ax.plot(x, np.where(np.isfinite(got), got, np.nan), "x", color="#d62728", label="yours", markersize=7)
            bad = ~np.isfinite(got)
            if bad.any():
                lo = np.nanmin(ref[np.isfinite(ref)]) if np.isfinite(ref).any() else 0.0
                ax.plot(x[bad], np.full(int(bad.sum()), lo), "v", color="#d62728", linestyle="none",
                        label="yours: NaN or inf")
            step = max(1, len(x) // 16)
            ax.set_xticks(x[::step])
            ax.set_xticklabels(fig["labels"][::step], fontsize=7, rotation=45 if len(x) > 8 else 0)
            ax.set_xlabel(fig["xlabel"])
            ax.set_ylabel(fig["ylabel"])
            ax.set_title(textwrap.fill(fig["title"], 90), fontsize=10)
            ax.legend(fontsize=7, frameon=False)
            f.tight_layout()
        buf = io.BytesIO()
        f.savefig(buf, format="png", metadata={"Software": None})
        plt.close(f)
    return buf.getvalue()


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")
