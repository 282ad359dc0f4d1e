"""CSV/TSV tables: preview, columns, task, encoding, missing values, standardisation, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.data import DatasetError, load_dataset, table_reader
from backend.data import preview as preview_module
from backend.data.preview import preview_dataset


def write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def people(tmp_path: Path) -> Path:
    """40 rows: age, income, city (text), a few gaps, bought (yes/no)."""
    rng = np.random.default_rng(1)
    rows = []
    for i in range(40):
        age = "" if i in (3, 17) else str(20 + int(rng.integers(0, 50)))
        city = "" if i == 9 else ["Paris", "Lyon", "Nice"][i % 3]
        rows.append(f"{age},{rng.normal(3000, 800):.2f},{city},{'yes' if i % 2 else 'no'}")
    return write_csv(tmp_path / "people.csv", "age,income,city,bought", rows)


def load(path: Path, **params: object) -> object:
    return load_dataset("csv", {"path": str(path), **params}, 0.2, 0.2, seed=3)


def test_a_table_loads_with_text_target_and_one_hot_city(people: Path) -> None:
    data = load(people)
    assert data.task == "classification"
    assert data.class_names == ["no", "yes"]
    assert data.feature_names == ["age", "income", "city=Lyon", "city=Nice", "city=Paris"]
    assert data.input_shape == (5,)
    assert data.size("train") + data.size("val") + data.size("test") == 37  # 3 gaps dropped
    assert any("missing values: age 2, city 1; 3 row(s) dropped" in n for n in data.notes)
    one_hot = data.x_train[:, 2:]
    assert set(np.unique(one_hot)) <= {0.0, 1.0} and np.all(one_hot.sum(axis=1) == 1)


def test_index_encoding_gives_one_column_from_one(people: Path) -> None:
    data = load(people, categorical="index")
    assert data.feature_names == ["age", "income", "city"]
    assert set(np.unique(data.x_train[:, 2])) <= {1.0, 2.0, 3.0}


def test_fill_keeps_rows_and_fills_with_the_training_mean(people: Path) -> None:
    data = load(people, missing="fill")
    assert data.size("train") + data.size("val") + data.size("test") == 40
    assert any("filled with the training mean" in n for n in data.notes)
    # standardised with the training statistics: a filled age is exactly the mean, i.e. 0
    ages = np.concatenate([data.x_train[:, 0], data.x_val[:, 0], data.x_test[:, 0]])
    assert np.sum(ages == 0.0) >= 2


def test_standardisation_is_fitted_on_the_training_rows_only(tmp_path: Path) -> None:
    rows = [f"{v},{v % 2}" for v in range(100)]
    path = write_csv(tmp_path / "line.csv", "v,label", rows)
    data = load(path)
    assert abs(float(data.x_train[:, 0].mean())) < 1e-5
    assert abs(float(data.x_train[:, 0].std()) - 1.0) < 1e-4
    both = np.concatenate([data.x_val[:, 0], data.x_test[:, 0]])
    assert abs(float(both.mean())) > 1e-4  # other rows were scaled with the training figures
    raw = load(path, standardize=False)
    values = np.concatenate([raw.x_train[:, 0], raw.x_val[:, 0], raw.x_test[:, 0]])
    assert sorted(values.tolist()) == list(range(100))


@pytest.mark.parametrize(
    ("values", "task", "classes"),
    [
        (["1", "2", "3"] * 10, "classification", 3),
        ([f"{v / 7:.3f}" for v in range(30)], "regression", 0),
        ([str(v) for v in range(30)], "regression", 0),  # 30 distinct whole numbers
    ],
)
def test_task_is_inferred_from_the_target(
    tmp_path: Path, values: list[str], task: str, classes: int
) -> None:
    rows = [f"{i},{v}" for i, v in enumerate(values)]
    data = load(write_csv(tmp_path / "t.csv", "x,y", rows))
    assert data.task == task
    assert data.num_classes == classes


def test_task_can_be_overridden(tmp_path: Path) -> None:
    rows = [f"{i},{i % 3}" for i in range(30)]
    path = write_csv(tmp_path / "t.csv", "x,y", rows)
    data = load(path, task="regression")
    assert data.task == "regression" and data.target_shape == (1,)
    assert data.y_train.dtype == np.float32


def test_features_and_several_regression_targets(tmp_path: Path) -> None:
    rows = [f"{i},{i * 2},{i * 3},{i % 5}.5" for i in range(30)]
    path = write_csv(tmp_path / "t.csv", "a,b,c,d", rows)
    data = load(path, target=["c", "d"], features=["a"])
    assert data.feature_names == ["a"]
    assert data.task == "regression" and data.target_shape == (2,)
    with pytest.raises(DatasetError, match="classification takes one target column"):
        load(path, target=["c", "d"], task="classification")


def test_tsv_and_semicolons_are_recognised(tmp_path: Path) -> None:
    rows = [f"{i}\t{i % 2}" for i in range(20)]
    tsv = write_csv(tmp_path / "t.tsv", "x\ty", rows)
    assert load(tsv).input_shape == (1,)
    semi = write_csv(tmp_path / "s.csv", "x;z;y", [f"{i};{i};{i % 2}" for i in range(20)])
    assert load(semi).feature_names == ["x", "z"]


def test_separate_validation_and_test_files(tmp_path: Path, people: Path) -> None:
    text = people.read_text(encoding="utf-8").splitlines()
    val = write_csv(tmp_path / "val.csv", text[0], text[1:9])
    test = write_csv(tmp_path / "test.csv", text[0], text[9:14])
    data = load(people, val_path=str(val), test_path=str(test))
    assert data.size("val") == 7  # row 3 of the file has no age: dropped
    assert data.size("test") == 4  # and row 9 no city
    assert data.size("train") == 37


def test_a_class_unseen_in_training_is_named(tmp_path: Path, people: Path) -> None:
    val = write_csv(tmp_path / "val.csv", "age,income,city,bought", ["30,100,Paris,maybe"])
    with pytest.raises(DatasetError, match=r"val\.csv line 2, column 'bought': class 'maybe'"):
        load(people, val_path=str(val))


def test_preview_shows_the_head_and_the_class_balance(people: Path) -> None:
    preview = preview_dataset("csv", {"path": str(people)}, 0.2, 0.2, seed=3, rows=5)
    assert preview.columns == ["age", "income", "city", "bought"]
    assert len(preview.rows) == 5 and preview.rows[0][3] == "no"
    assert preview.kind == "table" and preview.complete
    assert preview.class_names == ["no", "yes"]
    assert sum(preview.class_counts) == preview.sizes[0]


def test_preview_of_a_big_file_reads_only_its_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A broken row far down the file is not reached: the preview never reads it whole."""
    rows = [f"{i},{i % 2}" for i in range(5000)] + ["1,2,3"]
    path = write_csv(tmp_path / "big.csv", "x,y", rows)
    monkeypatch.setattr(preview_module, "FULL_CHECK_BYTES", 1000)
    preview = preview_dataset("csv", {"path": str(path)}, rows=20)
    assert not preview.complete and preview.sizes is None
    assert len(preview.rows) == 20
    assert "first rows" in preview.notes[0]
    with pytest.raises(DatasetError, match="line 5002"):
        load_dataset("csv", {"path": str(path)})  # loading does read it all


# ----------------------------------------------------------------- bad input, named
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("a,b,label\n", "has a header but no data rows"),
        ("a,b,label\n1,2,x\n3,4\n", "line 3: 2 fields where the header has 3"),
        (
            "a,b,label\n" + "1,2,x\n" * 8 + "1,oops,y\n",
            "line 10, column 'b': 'oops' is not a number",
        ),
        ("a,b,label\n" + "1,2,same\n" * 5, "column 'label' has only one class ('same')"),
        ("a,a,label\n1,2,x\n", "column 'a' appears twice"),
    ],
)
def test_bad_tables_are_named_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DatasetError, match=r"bad\.csv") as caught:
        load_dataset("csv", {"path": str(path)})
    assert message in str(caught.value)
    with pytest.raises(DatasetError, match=r"bad\.csv"):
        preview_dataset("csv", {"path": str(path)})


def test_unknown_columns_and_non_utf8_text_are_named(tmp_path: Path, people: Path) -> None:
    with pytest.raises(DatasetError, match=r"no column 'price' \(its columns: age, income"):
        load(people, target=["price"])
    latin = tmp_path / "latin.csv"
    latin.write_bytes("a,label\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin\.csv line 2: not UTF-8"):
        load(latin)


def test_a_vanished_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"gone\.csv does not exist .*moved or deleted"):
        load(tmp_path / "gone.csv")


def test_parquet_without_pyarrow_is_a_clear_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "t.parquet"
    path.write_bytes(b"PAR1 not really")
    monkeypatch.setattr(table_reader, "parquet_available", lambda: False)
    with pytest.raises(DatasetError, match="Parquet needs pyarrow"):
        load(path)


def test_parquet_loads_like_csv(tmp_path: Path, people: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"x": [float(i) for i in range(30)], "label": ["a", "b", "c"] * 10})
    pq.write_table(table, tmp_path / "t.parquet")
    data = load(tmp_path / "t.parquet")
    assert data.class_names == ["a", "b", "c"] and data.input_shape == (1,)


def test_a_column_can_be_declared_categorical(tmp_path: Path) -> None:
    rows = [f"{['01', '02', '03'][i % 3]},{i},{i % 2}" for i in range(30)] + ["n/a,5,1", "x9,6,0"]
    path = write_csv(tmp_path / "codes.csv", "code,v,label", rows)
    with pytest.raises(DatasetError, match=r"line 33, column 'code': 'x9' is not a number"):
        load(path)
    data = load(path, column_types={"code": "categorical"})
    assert data.feature_names == ["code=01", "code=02", "code=03", "code=x9", "v"]
    assert data.size("train") + data.size("val") + data.size("test") == 31  # n/a: missing


def test_a_file_without_a_header_gets_numbered_columns(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "bare.csv", "1,2,a", [f"{i},{i * 2},{'ab'[i % 2]}" for i in range(20)]
    )
    data = load(path, header=False)
    assert data.feature_names == ["column_1", "column_2"]
    assert data.size("train") + data.size("val") + data.size("test") == 21
