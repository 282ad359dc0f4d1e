"""A chunk of table rows and its columns as NumPy, at C speed where Arrow parsed them.

`Chunk.numbers` gives a column as floats with the masks of missing and non-numeric cells,
`Chunk.categories` as codes into the chunk's own categories; both work on a column Arrow
parsed while reading (numbers, a dictionary per block), on text Arrow read as text (its
compute functions, loaded only then), and on a head chunk read by Python (tuples of strings,
Python's own reading). Missing values: empty cells and the markers of `MISSING_TOKENS`, in any
case and with any spaces around them, and non-finite numbers.
"""

from __future__ import annotations

import functools
import importlib
import os
from dataclasses import dataclass
from typing import Any

import numpy as np

MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "?")


@functools.cache
def import_pyarrow() -> Any:
    """pyarrow, imported when first read (not at start-up); cached: a chunk asks once per
    column, and a wide table has tens of thousands. Its allocations go to the C library's
    allocator, not Arrow's default mimalloc: preparing the 201 MB file of `bench_data` peaked
    10-12 MB lower (126-129 against 139 MB resident, 80-82 against 92 MB allocated), as
    fast. Chosen before the import (Arrow reads the variable when it makes its default pool,
    too late once pyarrow is loaded); a user's own setting of the variable stays."""
    choose_arrow_allocator()
    return importlib.import_module("pyarrow")


def choose_arrow_allocator() -> None:
    """Call before anything may load pyarrow (see `import_pyarrow`)."""
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


@dataclass
class Categories:
    """A column as categories: `codes[i]` indexes `uniques` (-1: empty, Parquet null)."""

    codes: np.ndarray
    uniques: list[str]
    missing: np.ndarray  # empty or a missing-value marker (MISSING_TOKENS, any case)


@dataclass
class Chunk:
    """Consecutive data rows; `cells[column]` holds the column's values: an Arrow array
    (typed as numbers or categories once the kinds are known), or, in a head chunk read by
    Python, a tuple of strings."""

    first_row: int  # index of the first row among all data rows of the file
    cells: dict[str, Any]
    source: Any  # the table: names a row as "line N" or "row N" (`place`)

    def __len__(self) -> int:
        return len(next(iter(self.cells.values()))) if self.cells else 0

    def where(self, index: int) -> str:
        """`line 12` (CSV, counting the header) or `row 11` (Parquet) of this chunk's row."""
        return str(self.source.place(self.first_row + index))

    def value(self, column: str, index: int) -> str:
        value = self.cells[column][index]
        value = value if isinstance(value, str) else value.as_py()
        return "" if value is None else str(value)

    def numbers(self, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Floats, the missing mask (markers, nulls, non-finite numbers) and the mask of cells
        that are neither numbers nor missing."""
        return _numbers(self.cells[column])

    def categories(self, column: str) -> Categories:
        return _categories(self.cells[column])


def _compute() -> Any:
    """Arrow's compute functions: only for columns read as text (about 18 MB more memory
    once loaded, which the usual path, parsed while reading, never needs)."""
    import pyarrow.compute as pc

    return pc


def _is_text(pa: Any, column: Any) -> bool:
    return bool(pa.types.is_string(column.type) or pa.types.is_large_string(column.type))


def _numbers(column: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    if isinstance(column, (list, tuple)):  # a head chunk, read by Python
        return parse_numbers(column)
    pa = import_pyarrow()
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if pa.types.is_floating(column.type):  # parsed as numbers while reading
        numbers = np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)
        return numbers, ~np.isfinite(numbers), np.zeros(len(numbers), dtype=bool)
    if not _is_text(pa, column):
        try:
            floats = column.cast(pa.float64())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            return parse_numbers(column.to_pylist())  # dates and the like: named as text
        numbers = np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)
        return numbers, ~np.isfinite(numbers), np.zeros(len(numbers), dtype=bool)
    pc = _compute()
    trimmed = pc.utf8_trim_whitespace(column)
    try:  # every cell a number: one pass in C
        floats = pc.cast(trimmed, pa.float64())
    except pa.ArrowInvalid:
        marked = pc.is_in(pc.utf8_lower(trimmed), value_set=pa.array(MISSING_TOKENS))
        try:
            floats = pc.cast(pc.if_else(marked, None, trimmed), pa.float64())
        except pa.ArrowInvalid:  # cells Arrow refuses: Python's float decides, cell by cell
            return parse_numbers(column.to_pylist())
    numbers = np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)
    return numbers, ~np.isfinite(numbers), np.zeros(len(numbers), dtype=bool)


def _categories(column: Any) -> Categories:
    if isinstance(column, (list, tuple)):  # a head chunk, read by Python
        unique, inverse = np.unique(np.asarray(column, dtype=str), return_inverse=True)
        codes, uniques = inverse.reshape(-1).astype(np.int64), [str(u) for u in unique]
    else:
        codes, uniques = _dictionary_codes(column)
    marker = _missing_markers(tuple(uniques))
    missing = (codes < 0) | np.append(marker, True)[codes]  # code -1 reads the appended True
    return Categories(codes, uniques, missing)


def _dictionary_codes(column: Any) -> tuple[np.ndarray, list[str]]:
    """(codes, uniques) of an Arrow column: a dictionary (as parsed while reading, one per
    block: unified first) or values encoded here; null is code -1."""
    pa = import_pyarrow()
    pieces = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    if not pa.types.is_dictionary(column.type):
        text = [p if _is_text(pa, p) else p.cast(pa.string()) for p in pieces]
        pieces = [p.dictionary_encode() for p in text]
    if len(pieces) > 1:
        pieces = pa.chunked_array(pieces).unify_dictionaries().chunks
    uniques = [str(v) for v in pieces[0].dictionary.to_pylist()] if pieces else []
    indices = [p.indices.to_numpy(zero_copy_only=False) for p in pieces]
    codes = np.concatenate(indices) if indices else np.zeros(0)
    if codes.dtype.kind == "f":  # nulls came out as NaN
        codes = np.where(np.isnan(codes), -1, codes)
    return codes.astype(np.int64), uniques


@functools.lru_cache(maxsize=256)
def _missing_markers(uniques: tuple[str, ...]) -> np.ndarray:
    """Which of a chunk's categories are missing-value markers (the same few every chunk)."""
    if not uniques:
        return np.zeros(0, dtype=bool)
    return missing_mask(np.asarray(uniques, dtype=str))


# ----------------------------------------------------------------- Python's reading
def missing_mask(values: Any) -> np.ndarray:
    """True where a cell is empty or a missing-value marker (NA, N/A, nan, null, none, ?)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return ~np.isfinite(values)
    unique, inverse = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    lowered = np.char.lower(np.char.strip(unique))
    return np.isin(lowered, MISSING_TOKENS)[inverse.reshape(-1)]


def parse_numbers(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Python's reading of cells as numbers (a head chunk, and what Arrow's refusals fall
    back to): floats, the missing mask (markers, None and non-finite numbers) and the mask of
    other text. All numbers is one pass; otherwise cell by cell."""
    try:
        numbers = np.fromiter(map(float, values), np.float64, count=len(values))
        return numbers, ~np.isfinite(numbers), np.zeros(len(numbers), dtype=bool)
    except (ValueError, TypeError):
        pass
    text = np.asarray(["" if v is None else str(v) for v in values], dtype=str)
    markers = missing_mask(text)
    numbers = np.full(len(text), np.nan)
    bad = np.zeros(len(text), dtype=bool)
    for i in np.flatnonzero(~markers):
        try:
            numbers[i] = float(text[i])
        except ValueError:
            bad[i] = True
    return numbers, markers | (~np.isfinite(numbers) & ~bad), bad
