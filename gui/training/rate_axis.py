"""Readable ticks on a logarithmic learning-rate axis: a few rates, never a crowd of labels."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

MARGIN = 0.25  # decades of room above and below the curve


def show_rates(plot: Any, rates: Iterable[float]) -> None:
    """Label the first, smallest and largest rates (and the powers of ten between them) on the
    log-scaled left axis of `plot` (a PlotItem), and frame them with a little room."""
    values = [r for r in rates if r > 0 and math.isfinite(r)]
    if not values:
        return
    low, high = min(values), max(values)
    shown = {values[0], low, high}
    decades = range(math.ceil(math.log10(low)), math.floor(math.log10(high)) + 1)
    if len(decades) > 1:
        shown |= {10.0**d for d in decades}
    ticks = _spread(sorted(shown))
    plot.getAxis("left").setTicks([[(math.log10(v), f"{v:.2g}") for v in ticks], []])
    plot.setYRange(math.log10(low) - MARGIN, math.log10(high) + MARGIN, padding=0)


def _spread(values: list[float], min_ratio: float = 1.6) -> list[float]:
    """Drop values too close (on the log scale) to the one kept before them."""
    kept: list[float] = []
    for value in values:
        if not kept or value / kept[-1] >= min_ratio:
            kept.append(value)
    return kept
