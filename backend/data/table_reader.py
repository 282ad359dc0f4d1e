"""Reading CSV/TSV and Parquet tables in bounded chunks, parsed by Arrow's C++ readers.

Nothing here reads a whole file into memory: `head` and `head_chunk` read the first rows
only (Python's `csv`, so a preview never parses past them), and `chunks` streams the file in
blocks of `BLOCK_BYTES` through `pyarrow.csv` (Parquet: record batches). A chunk keeps its
columns as Arrow arrays; `Chunk.numbers` and `Chunk.categories` turn one into NumPy at C speed.

Once the kind of each column is known, `chunks(kinds)` has Arrow parse the numeric columns as
numbers while reading, and skips the columns not used. Where Arrow refuses a cell that
Python's `float` accepts (`" 2"`, `"1_000"`) or that is no number at all, the pass goes on
from the same row with the column as text, and such a cell is converted, or named, exactly as
before. Every problem is a `DatasetError` naming the file, and the line (CSV, the header is
line 1) or the row (Parquet) and the column.
"""

from __future__ import annotations

import csv
import ctypes
import importlib.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import DatasetError
from backend.data.table_cells import (
    MISSING_TOKENS,
    Categories,
    Chunk,
    choose_arrow_allocator,
    import_pyarrow,
)

__all__ = ["Categories", "Chunk"]  # re-exported: the table modules import them from here

CHUNK_ROWS = 10_000
"""Rows of a head chunk (the one that decides each column's kind) and of a Parquet batch."""
GATHER_ROWS = 5_000
"""Rows of a chunk of a pass: Arrow's blocks gathered to about this many, so NumPy works on
fewer, larger arrays (a block a chunk spent a third of a pass on per-block overhead). The
peak follows the chunk and the block: preparing the 201 MB file of `bench_data` peaked 7-8 MB
higher with 10,000 rows of 128 KB blocks (7% faster), 3-4 MB with 10,000 rows of 64 KB
blocks; 2,500 rows took 8% more time (measured)."""
BLOCK_BYTES = 64 * 1024
"""Bytes Arrow parses at a time: about 700 rows of the benchmark's 12 columns. Arrow's I/O
thread reads blocks ahead, so memory follows the block (1 MB blocks: 60 MB more). A file of
long rows gets blocks of `ROWS_PER_BLOCK` of its first rows instead."""
ROWS_PER_BLOCK = 64
"""Rows a block holds at least: a row longer than a block makes Arrow stop and the pass start
again with larger blocks (a 20,000-column row is 128 KB), and Arrow's cost per block grows
with the columns, so a wide file is read in few, larger blocks."""
WIDTH_LINES = 8
"""Lines read to measure how long a row is."""
MAX_BLOCK_BYTES = 64 * 2**20
"""A single row longer than a block is read again with blocks up to this size."""
DELIMITERS = {"auto": "", "comma": ",", "tab": "\t", "semicolon": ";", "pipe": "|"}
TABLE_SUFFIXES = (".csv", ".tsv", ".tab", ".txt", ".parquet", ".pq")
NUMERIC_KIND = "numeric"  # as `table_plan.NUMERIC`
_NULL_SPELLINGS = sorted(
    {s for t in MISSING_TOKENS for s in (t, t.upper(), t.capitalize(), t.title())}
)
"""The missing-value markers as Arrow reads them in a numeric column (it does not ignore
case); any other spelling (`" NA "`) sends the column back to text, which does."""


def parquet_available() -> bool:
    choose_arrow_allocator()  # finding pyarrow.parquet loads pyarrow
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
        self._header_lines = 0
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

    def _row_bytes(self) -> int:
        """Bytes of the longest of the first lines (the header included)."""
        try:
            with open(self.path, "rb") as handle:
                return max(len(handle.readline(MAX_BLOCK_BYTES)) for _ in range(WIDTH_LINES))
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot be read ({exc.strerror or exc})") from exc

    def _rows(self) -> Iterator[tuple[int, list[str]]]:
        """(line, fields) of every non-blank record, header included (Python's csv)."""
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
        line, fields = first
        if not self.header:
            return [f"column_{i + 1}" for i in range(len(fields))]
        self._header_lines = line
        names = [f.strip() or f"column_{i + 1}" for i, f in enumerate(fields)]
        seen: set[str] = set()
        for name in names:
            if name in seen:
                raise DatasetError(f"{self.path} line 1: column {name!r} appears twice")
            seen.add(name)
        return names

    def _data_rows(self) -> Iterator[tuple[int, list[str]]]:
        rows = self._rows()
        if self.header:
            next(rows, None)
        return rows

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

    def head_chunk(self, rows: int = CHUNK_ROWS) -> Chunk:
        """The first `rows` data rows as one chunk, read no further (Python's csv)."""
        head, _more = self.head(rows)
        if not head:
            raise DatasetError(f"{self.path} has a header but no data rows")
        columns = zip(*head, strict=True)
        return Chunk(0, dict(zip(self.columns, columns, strict=True)), self)

    def place(self, row: int) -> str:
        """`line N` of data row `row` (counting from 0), found by reading up to it: only
        ever needed to name a problem."""
        for index, (line, _fields) in enumerate(self._data_rows()):
            if index == row:
                return f"line {line}"
        return f"data row {row + 1}"

    def chunks(
        self, kinds: dict[str, str] | None = None, columns: list[str] | None = None
    ) -> Iterator[Chunk]:
        """The file in chunks, read by Arrow. With `kinds` (column -> "numeric" or not), the
        numeric columns are parsed as numbers while reading; `columns` limits what is read."""
        wanted = columns or self.columns
        chosen = set(wanted)  # a list here made a wide file quadratic (20,000 columns: 6 s)
        kinds = {c: kind for c, kind in (kinds or {}).items() if c in chosen}
        block = min(max(BLOCK_BYTES, ROWS_PER_BLOCK * self._row_bytes()), MAX_BLOCK_BYTES)
        done = 0
        while True:
            try:
                for batches in _gathered(self._batches(wanted, kinds, block, skip=done)):
                    yield _chunk(done, batches, self)
                    done += sum(b.num_rows for b in batches)
                break
            except _Again as again:  # go on from row `done`, as text or in larger blocks
                if again.as_text:
                    kinds = {c: k for c, k in kinds.items() if k != NUMERIC_KIND}
                block = min(block * 8, MAX_BLOCK_BYTES) if again.larger else block
        give_back_memory()
        if done == 0:
            raise DatasetError(f"{self.path} has a header but no data rows")

    def _batches(
        self, wanted: list[str], kinds: dict[str, str], block: int, skip: int
    ) -> Iterator[Any]:
        pa = import_pyarrow()
        import pyarrow.csv as pacsv

        types = {c: _arrow_type(pa, kinds.get(c)) for c in wanted}
        try:
            reader = pacsv.open_csv(
                pa.OSFile(str(self.path)),
                read_options=pacsv.ReadOptions(
                    column_names=self.columns,
                    skip_rows=self._header_lines,
                    block_size=block,
                    use_threads=False,  # measured faster on 2 cores, and lighter
                ),
                parse_options=pacsv.ParseOptions(  # no invalid_row_handler: 40% slower
                    delimiter=self.delimiter, newlines_in_values=True
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=types,
                    include_columns=wanted,
                    null_values=_NULL_SPELLINGS,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
                memory_pool=pa.system_memory_pool(),  # measured lightest (10 MB less)
            )
            for batch in reader:
                if skip >= batch.num_rows:
                    skip -= batch.num_rows
                    continue
                yield batch.slice(skip) if skip else batch
                skip = 0
        except pa.ArrowInvalid as exc:
            typed = any(k == NUMERIC_KIND for k in kinds.values())
            raise self._problem(str(exc), typed) from exc
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot be read ({exc.strerror or exc})") from exc

    def _problem(self, text: str, typed: bool) -> Exception:
        """What an Arrow error means: read on differently (`_Again`) or a named DatasetError."""
        if "straddl" in text:  # a row longer than a block
            return _Again(larger=True)
        if typed and "conversion error to double" in text:
            return _Again(as_text=True)
        if "UTF8" in text or "utf8" in text.lower():
            return DatasetError(
                f"{self.path} line {_undecodable_line(self.path)}: not UTF-8 text; "
                "save the file as UTF-8"
            )
        width = len(self.columns)
        for line, fields in self._data_rows():  # Python's reading names the line (ragged...)
            if len(fields) != width:
                return _ragged(self.path, line, len(fields), width)
        first = text.splitlines()[0] if text else "unknown error"
        return DatasetError(f"{self.path}: cannot be read as a table ({first})")


def _gathered(batches: Iterator[Any]) -> Iterator[list[Any]]:
    """Arrow's blocks gathered into about `GATHER_ROWS` rows: NumPy then works on fewer,
    larger arrays (a third of the time of a pass went to per-block overhead)."""
    gathered: list[Any] = []
    rows = 0
    for batch in batches:
        gathered.append(batch)
        rows += batch.num_rows
        if rows >= GATHER_ROWS:
            yield gathered
            gathered, rows = [], 0
    if gathered:
        yield gathered


def _chunk(first_row: int, batches: list[Any], source: Any) -> Chunk:
    pa = import_pyarrow()
    table = pa.Table.from_batches(batches)  # every column at once (not one call per column)
    return Chunk(first_row, dict(zip(table.column_names, table.columns, strict=True)), source)


def _arrow_type(pa: Any, kind: str | None) -> Any:
    """What Arrow parses a column as: numbers, categories (a dictionary per block), or text."""
    if kind is None:
        return pa.string()
    return pa.float64() if kind == NUMERIC_KIND else pa.dictionary(pa.int32(), pa.string())


class _Again(Exception):
    """Read the rest of the file again: as text, or in larger blocks."""

    def __init__(self, as_text: bool = False, larger: bool = False) -> None:
        super().__init__("read again")
        self.as_text = as_text
        self.larger = larger


class ParquetTable:
    """A Parquet file read in record batches through pyarrow."""

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
        chunk = self.head_chunk(rows)
        columns = [chunk.cells[c].to_pylist() for c in self.columns]
        out = [[_text(col[i]) for col in columns] for i in range(len(chunk))]
        return out, len(out) < self._file.metadata.num_rows

    def head_chunk(self, rows: int = CHUNK_ROWS) -> Chunk:
        for chunk in self.chunks(rows=rows):
            return chunk
        raise DatasetError(f"{self.path} has columns but no data rows")  # pragma: no cover

    def place(self, row: int) -> str:
        return f"row {row + 1}"

    def chunks(
        self,
        kinds: dict[str, str] | None = None,
        columns: list[str] | None = None,
        rows: int = CHUNK_ROWS,
    ) -> Iterator[Chunk]:
        """Record batches of `rows` rows; `kinds` is not needed (Parquet columns are typed)."""
        start = 0
        wanted = columns or self.columns
        try:
            for batch in self._file.iter_batches(batch_size=rows, columns=wanted):
                yield Chunk(start, dict(zip(wanted, batch.columns, strict=True)), self)
                start += batch.num_rows
        except OSError as exc:
            raise DatasetError(f"{self.path}: cannot be read ({exc})") from exc
        if start == 0:
            raise DatasetError(f"{self.path} has columns but no data rows")


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
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


def give_back_memory() -> None:
    """Return what a pass freed to the system: glibc keeps freed memory for reuse, and a
    training would start on top of it (30 MB after a 200 MB file, measured). Elsewhere a
    no-op."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc
        return


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
