"""Reading CSV/TSV (and Parquet, when pyarrow is installed) in bounded chunks.

Nothing here reads a whole file into memory: `head` stops after a few rows, and `chunks` yields
blocks of `CHUNK_ROWS` rows as column arrays of strings (or floats, from Parquet). Every
problem is a `DatasetError` naming the file and the line (the header is line 1).
"""

from __future__ import annotations

import csv
import importlib.util
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import DatasetError

CHUNK_ROWS = 10_000
MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "?")
DELIMITERS = {"auto": "", "comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|"}
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq")


@dataclass
class Chunk:
    """Consecutive data rows: `cells[column]` holds one value per row, `lines` their lines.

    CSV cells are tuples of strings (numbers are parsed straight from them); `text` gives a
    column as a NumPy string array, made once when first asked.
    """

    first_row: int  # index of the first row among all data rows of the file
    cells: dict[str, Any]
    lines: np.ndarray
    _text: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)

    def text(self, column: str) -> np.ndarray:
        if column not in self._text:
            values = self.cells[column]
            if isinstance(values, np.ndarray) and values.dtype.kind == "f":
                values = np.where(np.isfinite(values), values.astype(str), "")
            self._text[column] = np.asarray(values, dtype=str)
        return self._text[column]


def parquet_available() -> bool:
    return (
        importlib.util.find_spec("pyarrow") is not None
        and importlib.util.find_spec("pyarrow.parquet") is not None
    )


def is_parquet(path: Path) -> bool:
    return path.suffix.lower() in (".parquet", ".pq")


class TableFile:
    """A delimited text file with a header row (or generated names `column_1`...)."""

    def __init__(self, path: str | Path, delimiter: str = "auto", header: bool = True) -> None:
        self.path = Path(path)
        self.header = header
        _check_file(self.path)
        self.delimiter = self._delimiter(delimiter)
        self.columns = self._read_columns()

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size

    def _delimiter(self, choice: str) -> str:
        if choice not in DELIMITERS and len(choice) != 1:
            raise DatasetError(f"delimiter must be one of {', '.join(DELIMITERS)}, got {choice!r}")
        explicit = DELIMITERS.get(choice, choice)
        if explicit:
            return explicit
        if self.path.suffix.lower() in (".tsv", ".tab"):
            return "\t"
        first = self._first_line()
        counts = {d: first.count(d) for d in (",", "\t", ";", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","

    def _first_line(self) -> str:
        try:
            with open(self.path, encoding="utf-8-sig", errors="replace", newline="") as handle:
                return handle.readline(65536)
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot be read ({exc.strerror or exc})") from exc

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, fields) of every non-blank record, header included."""
        try:
            with open(self.path, encoding="utf-8-sig", newline="") as handle:
                reader = csv.reader(handle, delimiter=self.delimiter)
                try:
                    for row in reader:
                        if row:
                            yield reader.line_num, row
                except UnicodeDecodeError as exc:
                    raise DatasetError(
                        f"{self.path} line {_undecodable_line(self.path)}: not UTF-8 text "
                        f"({exc.reason}); save the file as UTF-8"
                    ) from exc
                except csv.Error as exc:
                    raise DatasetError(f"{self.path} line {reader.line_num}: {exc}") from exc
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot be read ({exc.strerror or exc})") from exc

    def _read_columns(self) -> list[str]:
        first = next(self._rows(), None)
        if first is None:
            raise DatasetError(f"{self.path} is empty: it needs a header row and data rows")
        _line, fields = first
        if not self.header:
            return [f"column_{i + 1}" for i in range(len(fields))]
        names = [f.strip() or f"column_{i + 1}" for i, f in enumerate(fields)]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise DatasetError(f"{self.path} line 1: column {name!r} appears twice")
            seen.add(name)
        return names

    def head(self, rows: int) -> tuple[list[list[str]], bool]:
        """The first `rows` data rows (as text) and whether the file has more."""
        out: list[list[str]] = []
        width = len(self.columns)
        for index, (line, fields) in enumerate(self._data_rows()):
            if index >= rows:
                return out, True
            if len(fields) != width:
                raise _ragged(self.path, line, len(fields), width)
            out.append(fields)
        return out, False

    def _data_rows(self) -> Iterator[tuple[int, list[str]]]:
        rows = self._rows()
        if self.header:
            next(rows, None)
        return rows

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        width = len(self.columns)
        block: list[list[str]] = []
        lines: list[int] = []
        start = 0
        for line, fields in self._data_rows():
            if len(fields) != width:
                raise _ragged(self.path, line, len(fields), width)
            block.append(fields)
            lines.append(line)
            if len(block) == rows:
                yield self._chunk(start, block, lines)
                start += len(block)
                block, lines = [], []
        if block:
            yield self._chunk(start, block, lines)
        elif start == 0:
            raise DatasetError(f"{self.path} has a header but no data rows")

    def _chunk(self, start: int, block: list[list[str]], lines: list[int]) -> Chunk:
        cells = dict(zip(self.columns, zip(*block, strict=True), strict=True))
        return Chunk(start, cells, np.asarray(lines, dtype=np.int64))


class ParquetTable:
    """A Parquet file read in record batches through pyarrow (an optional dependency)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        _check_file(self.path)
        if not parquet_available():
            raise DatasetError(
                f"{self.path}: reading Parquet needs pyarrow, which is not installed "
                "(pip install pyarrow); or save the table as CSV"
            )
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(self.path)
        except Exception as exc:  # pyarrow raises its own error types
            raise DatasetError(f"{self.path}: not a readable Parquet file ({exc})") from exc
        self.columns = [str(n) for n in self._file.schema_arrow.names]
        self.delimiter = ""

    @property
    def size_bytes(self) -> int:
        return self.path.stat().st_size

    def head(self, rows: int) -> tuple[list[list[str]], bool]:
        out: list[list[str]] = []
        for chunk in self.chunks(rows):
            columns = [chunk.cells[c] for c in self.columns]
            out = [[_text(col[i]) for col in columns] for i in range(len(chunk))]
            return out, len(out) < self._file.metadata.num_rows
        return out, False

    def chunks(self, rows: int = CHUNK_ROWS) -> Iterator[Chunk]:
        start = 0
        for batch in self._file.iter_batches(batch_size=rows):
            cells = {name: _column_values(batch.column(i)) for i, name in enumerate(self.columns)}
            lines = np.arange(start + 2, start + 2 + batch.num_rows, dtype=np.int64)
            yield Chunk(start, cells, lines)
            start += batch.num_rows
        if start == 0:
            raise DatasetError(f"{self.path} has columns but no data rows")


def _column_values(column: Any) -> np.ndarray:
    values = column.to_numpy(zero_copy_only=False)
    if values.dtype.kind in "iufb":
        return values.astype(np.float64)
    return np.array(["" if v is None else str(v) for v in values], dtype=str)


def _text(value: Any) -> str:
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value)


def open_table(path: str | Path, delimiter: str = "auto", header: bool = True) -> Any:
    """A `TableFile` or `ParquetTable` for `path`, by its suffix."""
    path = Path(path)
    if is_parquet(path):
        return ParquetTable(path)
    return TableFile(path, delimiter, header)


def _check_file(path: Path) -> None:
    if not path.exists():
        raise DatasetError(
            f"{path} does not exist (was it moved or deleted since the project was saved?): "
            "choose the file again in the Data panel"
        )
    if path.is_dir():
        raise DatasetError(f"{path} is a folder, not a data file")
    if path.stat().st_size == 0:
        raise DatasetError(f"{path} is empty: it needs a header row and data rows")


def _undecodable_line(path: Path) -> int:
    """The number of the first line that is not UTF-8 (read again, in binary, on failure)."""
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return 0


def _ragged(path: Path, line: int, fields: int, width: int) -> DatasetError:
    return DatasetError(
        f"{path} line {line}: {fields} field{'s' if fields != 1 else ''} where the header has "
        f"{width}: every row needs one value per column (check quotes and delimiters)"
    )


# ----------------------------------------------------------------- cell values
def missing_mask(values: Any) -> np.ndarray:
    """True where a cell is empty or a missing-value marker (NA, N/A, nan, null, none, ?)."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "f":
        return ~np.isfinite(values)
    unique, inverse = np.unique(np.asarray(values, dtype=str), return_inverse=True)
    lowered = np.char.lower(np.char.strip(unique))
    return np.isin(lowered, MISSING_TOKENS)[inverse.reshape(-1)]


def parse_numbers(values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Floats, the missing mask (markers and non-finite numbers) and the mask of cells that
    are neither numbers nor missing. The common case, all numbers, is one C-speed pass."""
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiub":
        numbers = values.astype(np.float64)
        return numbers, ~np.isfinite(numbers), np.zeros(len(numbers), dtype=bool)
    try:
        numbers = np.fromiter(map(float, values), np.float64, count=len(values))
        return numbers, ~np.isfinite(numbers), np.zeros(len(numbers), dtype=bool)
    except ValueError:
        pass
    text = np.asarray(values, dtype=str)
    markers = missing_mask(text)
    numbers = np.full(len(text), np.nan)
    bad = np.zeros(len(text), dtype=bool)
    for i in np.flatnonzero(~markers):
        try:
            numbers[i] = float(text[i])
        except ValueError:
            bad[i] = True
    return numbers, markers | (~np.isfinite(numbers) & ~bad), bad
