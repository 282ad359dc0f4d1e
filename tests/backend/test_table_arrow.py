"""Tables read by Arrow: the same values and the same named errors as Python's reading, past
the first chunk too (where Arrow, not Python, reads), and Parquet like CSV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backend.data import DatasetError, load_dataset, table_reader

HEAD = table_reader.CHUNK_ROWS  # rows read by Python before Arrow streams the rest


def _load(path: Path, **params: Any) -> Any:
    return load_dataset("csv", {"path": str(path), **params}, 0.0, 0.0, seed=0)


def _rows(count: int, start: int = 0) -> list[str]:
    return [
        f"{i % 7}.5,{i % 3},{'abc'[i % 3]},{'yes' if i % 2 else 'no'}" for i in range(start, count)
    ]


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(["a,b,city,label", *lines]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("1,oops,a,yes", "column 'b': 'oops' is not a number"),
        ("1,2,a", "3 fields where the header has 4"),
        ("1,2,a,perhaps", "column 'label': class 'perhaps' does not occur in the training file"),
    ],
)
def test_a_bad_cell_far_down_names_its_line_and_column(
    tmp_path: Path, bad: str, message: str
) -> None:
    """A blank line and a quoted value over two lines come first: lines, not rows, count."""
    lines = [*_rows(HEAD + 500), "", '2.5,1,"b', 'c",no', *_rows(300)]
    lines.insert(HEAD + 700, bad)  # line HEAD + 702: the header and the quoted line break
    path = _write(tmp_path / "far.csv", lines)
    if "class" in message:  # unseen classes are named in a separate validation file
        train = _write(tmp_path / "train.csv", _rows(40))
        with pytest.raises(DatasetError) as caught:
            _load(train, val_path=str(path))
    else:
        with pytest.raises(DatasetError) as caught:
            _load(path)
    assert f"far.csv line {HEAD + 702}" in str(caught.value)
    assert message in str(caught.value)


def test_cells_arrow_refuses_read_as_python_reads_them(tmp_path: Path) -> None:
    """Padded numbers, underscores and odd missing-value spellings past the first chunk."""
    odd = [" 6.25 ,1,a,no", "1_000,2,b,yes", "3, NA ,c,no", "N/a,1,a,yes"]
    path = _write(tmp_path / "odd.csv", [*_rows(HEAD + 20), *odd])
    data = _load(path, missing="fill", standardize=False, categorical="index")
    a = data.x_train[:, 0]
    assert len(a) == HEAD + 24
    assert {6.25, 1000.0} <= set(a.tolist())
    known = [(i % 7) + 0.5 for i in range(HEAD + 20)] + [6.25, 1000.0, 3.0]
    assert np.count_nonzero(np.isclose(a, np.mean(known))) == 1  # N/a: filled with the mean


def test_text_that_is_not_utf8_far_down_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path / "latin.csv", _rows(HEAD + 50))
    with open(path, "ab") as handle:
        handle.write("1,2,caf\xe9,yes\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=rf"latin\.csv line {HEAD + 52}: not UTF-8"):
        _load(path)


def test_a_row_longer_than_a_block_is_read(tmp_path: Path) -> None:
    long = "x" * (table_reader.BLOCK_BYTES * 3)
    path = _write(tmp_path / "long.csv", [*_rows(HEAD + 10), f"1,2,{long},yes", *_rows(10)])
    data = _load(path, categorical="index")
    assert len(data.x_train) == HEAD + 21


def test_parquet_round_trip_matches_the_csv(tmp_path: Path) -> None:
    rows = [*_rows(300), ",1,b,yes"]  # a missing number
    csv_path = _write(tmp_path / "t.csv", rows)
    columns = list(zip(*(r.split(",") for r in rows), strict=True))
    table = pa.table(
        {
            "a": pa.array([float(v) if v else None for v in columns[0]]),
            "b": pa.array([int(v) for v in columns[1]], pa.int64()),
            "city": pa.array(columns[2]).dictionary_encode(),
            "label": pa.array(columns[3]),
        }
    )
    pq.write_table(table, tmp_path / "t.parquet")
    settings = {"missing": "fill"}
    from_csv = _load(csv_path, **settings)
    from_parquet = load_dataset(
        "csv", {"path": str(tmp_path / "t.parquet"), **settings}, 0.0, 0.0, seed=0
    )
    assert from_parquet.feature_names == from_csv.feature_names
    assert from_parquet.class_names == from_csv.class_names == ["no", "yes"]
    np.testing.assert_allclose(from_parquet.x_train, from_csv.x_train, rtol=1e-6)
    np.testing.assert_array_equal(from_parquet.y_train, from_csv.y_train)


def test_a_bad_parquet_cell_names_its_row_and_column(tmp_path: Path) -> None:
    values = [str(i) for i in range(20)]
    values[13] = "oops"
    pq.write_table(
        pa.table({"v": pa.array(values), "label": pa.array(["p", "q"] * 10)}),
        tmp_path / "bad.parquet",
    )
    with pytest.raises(DatasetError, match=r"bad\.parquet row 14, column 'v': 'oops' is not"):
        load_dataset("csv", {"path": str(tmp_path / "bad.parquet")}, 0.0, 0.0, seed=0)
