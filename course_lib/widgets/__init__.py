"""ipywidgets explorers used in the lectures, one module each. Every explorer is a thin layer over a
pure function (tested without a browser) that computes what the widget draws.

`parse_positive_ints` reads the comma-separated numbers typed into an explorer's text box.
"""
from __future__ import annotations


def parse_positive_ints(text: str, what: str) -> list[int]:
    """'1, 2;4' -> [1, 2, 4]; a ValueError naming `what` (e.g. "dilations") on anything else."""
    try:
        values = [int(s) for s in str(text).replace(";", ",").split(",") if s.strip()]
    except ValueError:
        raise ValueError(f"{what} must be comma-separated integers, got {text!r}") from None
    if not values or any(v < 1 for v in values):
        raise ValueError(f"give at least one of the {what}, each at least 1, got {text!r}")
    return values
