"""What preparing a big table holds per row: the split's work space and the scan's keep."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from backend.data import load_dataset, split_indices, tabular
from backend.data.base import BLOCK_SAMPLES, SplitSettings, class_counts, split_membership
from backend.data.table_plan import TableSettings, plan_split, scan_table
from backend.data.table_reader import open_table


def test_the_split_dealt_a_block_at_a_time_is_the_split_of_split_indices() -> None:
    n = 3 * BLOCK_SAMPLES + 11  # classes spread over several blocks, and a ragged last one
    labels = np.random.default_rng(1).integers(0, 3, n).astype(np.int8)
    labels[:5000] = 2  # one class denser at the start: positions fill unevenly per block
    train, val, test = split_indices(n, 0.15, 0.15, 3, labels)
    membership = split_membership(n, 0.15, 0.15, 3, labels)
    for code, idx in enumerate((train, val, test)):
        np.testing.assert_array_equal(np.flatnonzero(membership == code), np.sort(idx))


def test_the_split_of_many_rows_takes_under_4_bytes_a_row() -> None:
    """One byte a row for the answer, int32 positions of one class at a time: np.unique,
    np.flatnonzero (int64) and a permuted copy took 7 to 9 bytes a row."""
    n = 2_000_000
    labels = np.random.default_rng(0).integers(0, 3, n).astype(np.int8)
    tracemalloc.start()
    try:
        split_membership(n, 0.15, 0.15, 0, labels)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak / n < 4.0, f"{peak / n:.1f} bytes a row"


@pytest.mark.parametrize(
    "labels",
    [
        np.array([3, 0, 3, 7, 0], dtype=np.int8),
        np.array([2, -1, 2, 5]),  # a negative label: np.unique's way
        np.array(["b", "a", "b"]),
        np.array([0.5, 0.5, 2.0]),
    ],
)
def test_class_counts_are_np_unique_counts(labels: np.ndarray) -> None:
    unique, counts = np.unique(labels, return_counts=True)
    assert class_counts(labels) == list(zip(unique.tolist(), counts.tolist(), strict=True))


@pytest.fixture(scope="module")
def table(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path_factory.mktemp("memory") / "rows.csv"
    x = rng.normal(size=(20_000, 2))
    lines = ["a,b,label"] + [
        f"{a:.3f},{'' if i % 50 == 7 else f'{b:.3f}'},{'xyz'[i % 3]}" for i, (a, b) in enumerate(x)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_scan_keeps_two_bits_and_a_byte_a_row(table: Path) -> None:
    settings = TableSettings.from_params({"path": str(table)})
    scan = scan_table(open_table(table), settings)
    kept = sum(a.nbytes for a in [*scan.complete, *scan.labelled, *scan.codes])
    assert scan.rows == 20_000
    assert kept / scan.rows <= 1.26  # 2 bits + 1 byte, and a padding byte per chunk at most
    plan = plan_split(scan, settings, SplitSettings(0.2, 0.1, 0))
    assert (scan.complete, scan.labelled, scan.codes) == ([], [], [])  # taken, not copied
    assert plan.membership.dtype == np.uint8 and plan.labels is not None
    assert plan.labels.dtype == np.int8  # three classes: a byte a usable row
    assert (plan.membership == 255).sum() == 400  # the rows with a gap in b, unused


def test_a_streamed_table_keeps_one_byte_a_row_and_the_same_split(
    table: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_memory = load_dataset("csv", {"path": str(table)}, 0.2, 0.1, seed=5)
    monkeypatch.setattr(tabular, "STREAM_ABOVE_BYTES", 0)
    streamed = load_dataset("csv", {"path": str(table)}, 0.2, 0.1, seed=5)
    assert isinstance(streamed.stream, tabular.TableStream)
    assert streamed.stream.membership.nbytes == 20_000
    for split in ("train", "val", "test"):
        assert streamed.size(split) == in_memory.size(split)
    val = np.concatenate([y for _x, y in streamed.stream.chunks("val")])
    np.testing.assert_array_equal(val, in_memory.y_val)  # the same rows, in file order
