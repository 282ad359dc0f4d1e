"""Non-finite values (NaN, infinity) in arrays a user hands us: found, counted and located.

A NaN feature trains to a "completed" run whose loss is NaN, or to metrics that mean nothing;
a NaN label becomes a class called 'nan'. `NonFinite.scan` finds them sample by sample, a slice
at a time (a memory-mapped `.npy` is never read whole into a second copy), so a loader can
refuse the file, naming the array, the count and the first place, or drop those samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

SLICE_BYTES = 64 * 2**20
"""How much of an array is checked at once."""


@dataclass(frozen=True)
class NonFinite:
    """Where an array's non-finite values are: `rows` marks each sample that has one."""

    rows: np.ndarray
    nan: int
    inf: int
    first: tuple[int, ...]
    """(sample, position within the sample...) of the first non-finite value; () if none."""

    @property
    def count(self) -> int:
        return int(self.rows.sum())

    @classmethod
    def scan(cls, array: np.ndarray) -> NonFinite:
        n = len(array)
        rows = np.zeros(n, dtype=bool)
        if array.dtype.kind not in "fc" or n == 0:
            return cls(rows, 0, 0, ())
        per_sample = max(1, array[:1].nbytes)
        step = max(1, SLICE_BYTES // per_sample)
        nan = inf = 0
        first: tuple[int, ...] = ()
        for start in range(0, n, step):
            part = np.asarray(array[start : start + step])
            bad = ~np.isfinite(part)
            if not bad.any():
                continue
            nans = np.isnan(part)
            nan += int(nans.sum())
            inf += int((bad & ~nans).sum())
            rows[start : start + len(part)] = bad.reshape(len(part), -1).any(axis=1)
            if not first:
                first = tuple(int(i) for i in np.argwhere(bad)[0])
                first = (first[0] + start, *first[1:])
        return cls(rows, nan, inf, first)

    def describe(self, total: int) -> str:
        """`2 NaN and 1 infinite value(s) in 3 of 60 samples (first: sample 3, column 1)`."""
        kinds = [
            f"{self.nan:,} NaN" if self.nan else "",
            f"{self.inf:,} infinite" if self.inf else "",
        ]
        values = " and ".join(k for k in kinds if k)
        where = _place(self.first)
        return f"{values} value(s) in {self.count:,} of {total:,} samples (first: {where})"


def _place(first: tuple[int, ...]) -> str:
    sample, inner = first[0], first[1:]
    if not inner:
        return f"sample {sample}"
    if len(inner) == 1:
        return f"sample {sample}, column {inner[0]}"
    return f"sample {sample}, position {inner}"
