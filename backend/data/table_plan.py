"""Settings of a table source, and the first pass over the file that plans its use.

`scan_table` reads the file once in chunks, never whole: it fixes each column's type (from the
first chunk, then checks every later value), counts missing values, collects the categories of
text columns and one class code per row for the target. `plan_split` turns that into the task,
the class names, the rows used and a seeded, stratified train/validation/test assignment.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import (
    BLOCK_SAMPLES,
    CLASSIFICATION,
    REGRESSION,
    DatasetError,
    ParamSpec,
    SplitSettings,
    class_counts,
    split_indices,
    split_membership,
)
from backend.data.table_reader import (
    CHUNK_ROWS,
    DELIMITERS,
    Categories,
    Chunk,
    give_back_memory,
)

NUMERIC = "numeric"
CATEGORICAL = "categorical"
TASKS = ("auto", CLASSIFICATION, REGRESSION)
MAX_AUTO_CLASSES = 20
"""A numeric target with at most this many distinct whole numbers is taken as class labels."""
MAX_CLASSES = 1000
MAX_CATEGORIES = 1000
NUMERIC_SHARE = 0.8
"""A column whose first chunk is at least this share numbers is numeric; other text is an error."""

TABLE_PARAMS = (
    ParamSpec("path", "File", "", "file", help="a CSV, TSV or Parquet file with a header row"),
    ParamSpec("delimiter", "Delimiter", "auto", "choice", choices=tuple(DELIMITERS)),
    ParamSpec("header", "First row names the columns", True, "bool"),
    ParamSpec("target", "Target column(s)", [], "columns", help="none ticked: the last column"),
    ParamSpec("features", "Feature columns", [], "columns", help="none ticked: all the others"),
    ParamSpec("task", "Task", "auto", "choice", choices=TASKS),
    ParamSpec("categorical", "Text columns as", "onehot", "choice", choices=("onehot", "index")),
    ParamSpec("missing", "Missing values", "drop", "choice", choices=("drop", "fill")),
    ParamSpec("standardize", "Standardise numbers (fit on training rows)", True, "bool"),
    ParamSpec(
        "column_types",
        "Columns of categories",
        {},
        "column_types",
        help="ticked: categories even where they look like numbers (codes, ids)",
    ),
    ParamSpec("val_path", "Validation file (optional)", "", "file"),
    ParamSpec("test_path", "Test file (optional)", "", "file"),
)


@dataclass
class TableSettings:
    path: Path
    delimiter: str = "auto"
    header: bool = True
    target: list[str] = field(default_factory=list)
    features: list[str] = field(default_factory=list)
    task: str = "auto"
    categorical: str = "onehot"
    missing: str = "drop"
    standardize: bool = True
    column_types: dict[str, str] = field(default_factory=dict)
    val_path: Path | None = None
    test_path: Path | None = None

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> TableSettings:
        path = params.get("path")
        if not isinstance(path, str) or not path:
            raise DatasetError("choose a data file first")
        choices = {"task": TASKS, "categorical": ("onehot", "index"), "missing": ("drop", "fill")}
        for key, allowed in choices.items():
            if params.get(key, allowed[0]) not in allowed:
                raise DatasetError(f"{key} must be one of {', '.join(allowed)}")
        for key in ("target", "features"):
            value = params.get(key, [])
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise DatasetError(f"{key} must be a list of column names")
        types = params.get("column_types", {})
        if not isinstance(types, dict) or not set(types.values()) <= {NUMERIC, CATEGORICAL}:
            raise DatasetError("column_types maps column names to 'numeric' or 'categorical'")
        _check_switches_and_splits(params, path)
        return cls(
            path=Path(path),
            delimiter=str(params.get("delimiter", "auto")),
            header=bool(params.get("header", True)),
            target=list(params.get("target", [])),
            features=list(params.get("features", [])),
            task=str(params.get("task", "auto")),
            categorical=str(params.get("categorical", "onehot")),
            missing=str(params.get("missing", "drop")),
            standardize=bool(params.get("standardize", True)),
            column_types=dict(types),
            val_path=Path(params["val_path"]) if params.get("val_path") else None,
            test_path=Path(params["test_path"]) if params.get("test_path") else None,
        )

    def resolve_columns(self, columns: list[str], where: Path) -> tuple[list[str], list[str]]:
        """(targets, features), with the defaults filled in and every name checked."""
        known = set(columns)
        targets = self.target or [columns[-1]]
        for name in [*targets, *self.features, *self.column_types]:
            if name not in known:
                raise DatasetError(
                    f"{where} has no column {name!r} (its columns: {', '.join(columns)})"
                )
        both = set(targets) & set(self.features)
        if both:
            raise DatasetError(f"column {sorted(both)[0]!r} is both a target and a feature")
        features = self.features or [c for c in columns if c not in targets]
        if not features:
            raise DatasetError(f"{where}: no feature columns left besides the target")
        return targets, features


def _check_switches_and_splits(params: dict[str, Any], path: str) -> None:
    """On/off settings are true or false (2 or "yes" were read as on); a validation or test
    file that is the training file itself would score the rows the model trains on."""
    for key in ("header", "standardize"):
        if not isinstance(params.get(key, True), bool):
            raise DatasetError(f"{key} must be true or false, got {params[key]!r}")
    for key in ("val_path", "test_path"):
        other = params.get(key)
        if isinstance(other, str) and other and _same_file(path, other):
            raise DatasetError(
                f"{key} {other} is the training file itself: its scores would be on the rows "
                f"the model trains on; choose another file, or leave {key} empty to split "
                f"{Path(path).name}"
            )


def _same_file(a: str, b: str) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one is missing: its loader says so
        return Path(a).resolve() == Path(b).resolve()


def decide_kinds(chunk: Chunk, columns: list[str], declared: dict[str, str]) -> dict[str, str]:
    """Numeric when most cells of the first chunk are numbers, else categorical."""
    kinds: dict[str, str] = {}
    for name in columns:
        if name in declared:
            kinds[name] = declared[name]
            continue
        _numbers, missing, bad = chunk.numbers(name)
        present = int((~missing).sum())
        numeric = present - int(bad.sum())
        kinds[name] = NUMERIC if present == 0 or numeric >= NUMERIC_SHARE * present else CATEGORICAL
    return kinds


def not_a_number(path: Path, chunk: Chunk, index: int, column: str) -> DatasetError:
    value = chunk.value(column, index)
    return DatasetError(
        f"{path} {chunk.where(index)}, column {column!r}: {value!r} is not a number, "
        "but the column holds numbers: fix the value, leave the cell empty to mark it missing, "
        "or treat the column as categories (Columns of categories, column_types)"
    )


def numeric_values(path: Path, chunk: Chunk, column: str) -> tuple[np.ndarray, np.ndarray]:
    """(floats, missing mask) of a numeric column; text is an error naming line and column."""
    numbers, missing, bad = chunk.numbers(column)
    if bad.any():
        raise not_a_number(path, chunk, int(np.flatnonzero(bad)[0]), column)
    return numbers, missing


@dataclass
class TableScan:
    """What one pass over the file found. What it keeps per row, chunk by chunk (whether the
    row has every feature and a target, one bit each; its class code) is `plan_split`'s to
    take, once (`take_rows`)."""

    path: Path
    columns: list[str]
    targets: list[str]
    features: list[str]
    kinds: dict[str, str] = field(default_factory=dict)
    rows: int = 0
    missing: Counter[str] = field(default_factory=Counter)
    categories: dict[str, Counter[str]] = field(default_factory=dict)
    complete: list[np.ndarray] = field(default_factory=list)  # packed bits
    labelled: list[np.ndarray] = field(default_factory=list)  # packed bits
    codes: list[np.ndarray] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)
    keys: dict[Any, int] = field(default_factory=dict)
    too_many_keys: bool = False

    def add(self, chunk: Chunk) -> None:
        n = len(chunk)
        self.rows += n
        feature_missing = np.zeros(n, dtype=bool)
        for name in self.features:
            feature_missing |= self._cells(chunk, name)[1]
        target_missing = np.zeros(n, dtype=bool)
        keys: np.ndarray | Categories | None = None
        for name in self.targets:
            keys, missing = self._cells(chunk, name)
            target_missing |= missing
        self.complete.append(np.packbits(~feature_missing))
        self.labelled.append(np.packbits(~target_missing))
        self.lengths.append(n)
        if len(self.targets) == 1 and keys is not None:
            self.codes.append(self._code(keys, target_missing))

    def take_rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rows with a target, rows with every feature, class code per row) of the whole
        file; the chunks' lists are emptied."""
        codes = np.concatenate(self.codes) if self.codes else np.zeros(0, dtype=np.int8)
        self.codes.clear()
        return self._unpacked(self.labelled), self._unpacked(self.complete), codes

    def _unpacked(self, chunks: list[np.ndarray]) -> np.ndarray:
        rows = np.empty(self.rows, dtype=bool)
        start = 0
        for bits, n in zip(chunks, self.lengths, strict=True):
            rows[start : start + n] = np.unpackbits(bits, count=n).view(bool)
            start += n
        chunks.clear()
        return rows

    def _cells(self, chunk: Chunk, name: str) -> tuple[np.ndarray | Categories, np.ndarray]:
        values: np.ndarray | Categories
        if self.kinds[name] == NUMERIC:
            values, missing = numeric_values(self.path, chunk, name)
        else:
            values = chunk.categories(name)
            missing = values.missing
            if name in self.features:
                self._count(name, values)
        self.missing[name] += int(missing.sum())
        return values, missing

    def _count(self, name: str, values: Categories) -> None:
        counts = self.categories.setdefault(name, Counter())
        present = values.codes[~values.missing]
        count = np.bincount(present, minlength=len(values.uniques))
        counts.update({values.uniques[i]: int(count[i]) for i in np.flatnonzero(count)})
        if len(counts) > MAX_CATEGORIES:
            raise DatasetError(
                f"{self.path}, column {name!r}: more than {MAX_CATEGORIES:,} different values; "
                "it looks like an identifier or free text: leave it out of the features"
            )

    def _code(self, keys: np.ndarray | Categories, missing: np.ndarray) -> np.ndarray:
        """The class key id of each row (-1: none), one byte a row while there are at most
        127 keys (joined chunks take the widest type), two up to `MAX_CLASSES`."""
        if self.too_many_keys:
            return np.full(len(missing), -1, dtype=np.int8)
        if isinstance(keys, Categories):  # text: the chunk's own categories, mapped
            present = np.unique(keys.codes[~missing])
            ids = np.full(len(keys.uniques), -1, dtype=np.int64)
            ids[present] = [self.keys.setdefault(keys.uniques[i], len(self.keys)) for i in present]
            inverse, found = keys.codes[~missing], len(present)
        else:
            unique, inverse = np.unique(keys[~missing], return_inverse=True)
            ids = np.array([self.keys.setdefault(k, len(self.keys)) for k in unique.tolist()])
            found = len(unique)
        if len(self.keys) > MAX_CLASSES:
            self.too_many_keys = True
            return np.full(len(missing), -1, dtype=np.int8)
        codes = np.full(len(missing), -1, dtype=np.int8 if len(self.keys) < 128 else np.int16)
        if found:
            codes[~missing] = ids[inverse]
        return codes


def scan_table(source: Any, settings: TableSettings) -> TableScan:
    targets, features = settings.resolve_columns(source.columns, source.path)
    scan = TableScan(source.path, source.columns, targets, features)
    used = [*targets, *features]
    scan.kinds = decide_kinds(source.head_chunk(CHUNK_ROWS), used, settings.column_types)
    for chunk in source.chunks(scan.kinds, used):
        scan.add(chunk)
    return scan


@dataclass
class TablePlan:
    task: str
    class_keys: list[Any]
    class_names: list[str]
    membership: np.ndarray  # per data row: 0 train, 1 validation, 2 test, 255 unused
    labels: np.ndarray | None  # class of each usable row, for stratifying
    split: SplitSettings  # with a fraction of 0 where a separate file gives that split
    notes: list[str]

    def indices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The split as `split_indices` gives it, into the usable rows (train shuffled)."""
        n = int((self.membership != UNUSED).sum())
        s = self.split
        return split_indices(n, s.val_fraction, s.test_fraction, s.seed, self.labels)


UNUSED = 255


def plan_split(scan: TableScan, settings: TableSettings, split: SplitSettings) -> TablePlan:
    task, note = _task(scan, settings)
    notes = [note]
    labelled, usable, codes = scan.take_rows()  # `usable`: rows with every feature, so far
    give_back_memory()  # the chunks' small arrays, which the heap would keep
    if settings.missing == "drop":
        usable &= labelled
    else:
        usable[:] = labelled
    del labelled  # in `codes` too (code -1: no target), where the classes need it
    labels = None
    class_keys: list[Any] = []
    names: list[str] = []
    if not usable.any():  # before the classes: an empty table has "only one class" too
        gaps = ", ".join(f"{name} {n:,}" for name, n in scan.missing.items() if n)
        raise DatasetError(
            f"{scan.path}: no rows left once rows with missing values (empty, NaN or "
            f"infinite) are dropped (missing per column: {gaps}): choose 'fill' for missing "
            "values, or leave those columns out of the features"
        )
    if task == CLASSIFICATION:
        class_keys, names, labels = _classes(scan, codes, usable)
        notes.extend(_lost_classes(names, labels))
    del codes  # let go before the split takes its work space
    notes.extend(_missing_notes(scan, settings, usable))
    val = 0.0 if settings.val_path else split.val_fraction  # a separate file gives that split
    test = 0.0 if settings.test_path else split.test_fraction
    plan_split_settings = SplitSettings(val, test, split.seed)
    membership = _membership(usable, plan_split_settings, labels)
    if not (membership == 0).any():
        raise DatasetError(f"{scan.path}: no rows left for training: lower the split fractions")
    give_back_memory()  # the work space above: the next pass would start on top of it
    return TablePlan(task, class_keys, names, membership, labels, plan_split_settings, notes)


def _membership(usable: np.ndarray, split: SplitSettings, labels: np.ndarray | None) -> np.ndarray:
    """Each row's split (`UNUSED` for rows not used), in one byte per row."""
    n = int(usable.sum())
    assigned = split_membership(n, split.val_fraction, split.test_fraction, split.seed, labels)
    if n == len(usable):  # every row used (no gaps): no second array
        return assigned
    membership = np.full(len(usable), UNUSED, dtype=np.uint8)
    membership[usable] = assigned
    return membership


def _task(scan: TableScan, settings: TableSettings) -> tuple[str, str]:
    text_targets = [t for t in scan.targets if scan.kinds[t] == CATEGORICAL]
    if settings.task != "auto":
        task, why = settings.task, "as chosen"
    elif text_targets:
        task, why = CLASSIFICATION, f"inferred: {text_targets[0]!r} holds text"
    elif len(scan.targets) == 1 and not scan.too_many_keys and _few_whole(scan.keys):
        task, why = CLASSIFICATION, f"inferred: {len(scan.keys)} distinct whole numbers"
    else:
        task, why = REGRESSION, "inferred: numeric target"
    if task == REGRESSION and text_targets:
        raise DatasetError(
            f"{scan.path}: target column {text_targets[0]!r} holds text, so it cannot be a "
            "regression target: set the task to classification"
        )
    if task == CLASSIFICATION and len(scan.targets) > 1:
        raise DatasetError(
            f"{scan.path}: classification takes one target column, got {len(scan.targets)} "
            f"({', '.join(scan.targets)}); several targets are for regression"
        )
    if task == CLASSIFICATION and scan.too_many_keys:
        raise DatasetError(
            f"{scan.path}: target column {scan.targets[0]!r} has more than {MAX_CLASSES:,} "
            "different values: too many classes; set the task to regression"
        )
    return task, f"task: {task} ({why})"


def _few_whole(keys: dict[Any, int]) -> bool:
    values = np.array(list(keys), dtype=np.float64)
    return 0 < len(values) <= MAX_AUTO_CLASSES and bool(np.all(values == np.round(values)))


def _classes(
    scan: TableScan, codes: np.ndarray, usable: np.ndarray
) -> tuple[list[Any], list[str], np.ndarray]:
    """Class keys in order, their names, and the usable rows' labels (one byte each up to
    127 classes); `codes`: the scan's class code of every row (-1: no target)."""
    keys = sorted(scan.keys, key=lambda k: (isinstance(k, str), k))
    order = np.array([scan.keys[k] for k in keys], dtype=np.int64)
    small = np.int8 if len(order) < 128 else np.int16  # MAX_CLASSES fits
    remap = np.full(len(order) + 1, -1, dtype=small)  # the last: code -1, no class
    remap[order] = np.arange(len(order))
    names = [_key_name(k) for k in keys]
    used = _labels_of(remap, codes, usable)
    present = np.array([c for c, _n in class_counts(used) if c >= 0], dtype=np.int64)
    if len(present) < 2:
        only = names[int(present[0])] if len(present) else "none"
        before = remap[codes[codes >= 0]]  # the rows with a target, gaps or not
        lost = sorted(set(np.unique(before[before >= 0]).tolist()) - set(present.tolist()))
        if lost and len(present) + len(lost) >= 2:
            raise DatasetError(_dropped_classes(scan, usable, only, [names[i] for i in lost]))
        raise DatasetError(
            f"{scan.path}: target column {scan.targets[0]!r} has only one class ({only!r}): "
            "classification needs at least two; pick another target or set the task to regression"
        )
    return keys, names, used


def _labels_of(remap: np.ndarray, codes: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`remap[codes[rows]]`, a block at a time: no copy of every row's code on the way."""
    labels = np.empty(int(rows.sum()), dtype=remap.dtype)
    filled = 0
    for start in range(0, len(codes), BLOCK_SAMPLES):
        block = remap[codes[start : start + BLOCK_SAMPLES][rows[start : start + BLOCK_SAMPLES]]]
        labels[filled : filled + len(block)] = block
        filled += len(block)
    return labels


def _lost_classes(names: list[str], labels: np.ndarray) -> list[str]:
    """A class every example of which was dropped (each had a gap): the model cannot learn
    it, yet it keeps an output for it. Said in the notes; two classes left can still train."""
    lost = sorted(set(range(len(names))) - {c for c, _n in class_counts(labels)})
    if not lost:
        return []
    shown = ", ".join(repr(names[i]) for i in lost[:5]) + (", ..." if len(lost) > 5 else "")
    return [
        f"warning: dropping rows with missing values removed every example of class {shown}: "
        "the model cannot learn it; set 'Missing values' to fill (missing=fill)"
    ]


def _dropped_classes(scan: TableScan, usable: np.ndarray, only: str, lost: list[str]) -> str:
    """Dropping rows with missing values removed every example of some classes: say so."""
    gaps = ", ".join(f"{name} {n:,}" for name, n in scan.missing.items() if n)
    shown = ", ".join(repr(name) for name in lost[:5]) + (", ..." if len(lost) > 5 else "")
    return (
        f"{scan.path}: dropping the {len(usable) - int(usable.sum()):,} row(s) with missing "
        f"values (empty, NaN or infinite; per column: {gaps}) removed every example of class "
        f"{shown}, leaving only {only!r}: set 'Missing values' to fill (missing=fill), or "
        "leave the columns with gaps out of the features"
    )


def _key_name(key: Any) -> str:
    if isinstance(key, float) and key.is_integer():
        return str(int(key))
    return str(key)


def _missing_notes(scan: TableScan, settings: TableSettings, usable: np.ndarray) -> list[str]:
    counts = {name: n for name, n in scan.missing.items() if n}
    if not counts:
        return ["missing values: none"]
    listed = ", ".join(f"{name} {n:,}" for name, n in counts.items())
    dropped = len(usable) - int(usable.sum())
    if settings.missing == "drop":
        action = f"{dropped:,} row(s) dropped"
    else:
        action = "filled with the training mean (numbers) or most frequent value (text)"
        if dropped:
            action += f"; {dropped:,} row(s) without a target dropped"
    return [f"missing values: {listed}; {action}"]
