"""A new user's own table, headless: a CSV with a text column, missing values and a string
target goes into a project (`data ... csv`), the model is fitted to it (`data --fit`, the Data
panel's "Fit model to data"), trained, evaluated, and exported with the format read from the
file name, as the export dialog does."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from backend.document.project import load_project
from tests.journeys.conftest import Cli

SEGMENTS = ("low", "mid", "high")


def write_customers(path: Path, rows: int = 240) -> None:
    """age, income (some missing), city (text, some missing), segment (a word, from age)."""
    rng = np.random.default_rng(0)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["age", "income", "city", "segment"])
        for i in range(rows):
            age = int(rng.integers(18, 80))
            income = "" if i % 17 == 0 else f"{rng.normal(40_000, 9_000):.1f}"
            city = "" if i % 23 == 0 else str(rng.choice(["Paris", "Lyon", "Nice"]))
            out.writerow([age, income, city, SEGMENTS[min(2, (age - 18) // 21)]])


def test_own_csv_fitted_trained_evaluated_and_exported_by_file_name(
    cli: Cli, tmp_path: Path
) -> None:
    table = tmp_path / "customers.csv"
    write_customers(table)
    empty = cli("new", "-o", tmp_path / "empty.dcproj.json")  # nothing to train: what then
    assert "next: draw its layers in the app" in empty.out and "main.py train" not in empty.out
    project = tmp_path / "customers.dcproj.json"
    assert cli("new", "-o", project, "--example", "penguins_csv").code == 0

    chosen = cli("data", project, "csv", "--param", f"path={table}", "--param", "missing=fill")
    assert chosen.code == 0, chosen.err
    assert "missing values: income 15, city 11; filled with" in chosen.out  # as the Data panel
    assert "task: classification (inferred: 'segment' holds text)" in chosen.out
    assert "cannot train yet" in chosen.err and "--fit" in chosen.err  # says how to go on
    refused = cli("train", project, "--epochs", "1")
    assert refused.code == 1 and "Input 'input' takes (8,)" in refused.err

    fitted = cli("data", project, "--fit")  # the current data: the model takes its shape
    assert fitted.code == 0, fitted.err
    assert "Input 'input' takes shape (5,)" in fitted.out and "3 classes" in fitted.out
    graph = load_project(project).graph
    assert graph.nodes["input"].params["shape"] == [5]  # age, income, 3 cities one-hot
    assert "the model already fits the data; 3 classes" in cli("data", project, "--fit").out

    trained = cli("train", project, "--epochs", "25")
    assert trained.code == 0, trained.err
    evaluated = cli("evaluate", project, "--json").json()
    assert evaluated["weights_source"] == "run" and evaluated["metrics"]["accuracy"] > 0.7
    assert set(evaluated["metrics"]) == {"accuracy", "loss"}  # one output: no 'dense_1/accuracy'

    new_rows = tmp_path / "new_customers.csv"  # no target column, a gap, a city never seen
    new_rows.write_text("age,income,city\n20,41000,Paris\n75,,Lyon\n50,39000,Oslo\n")
    predicted = cli("predict", project, "--input", new_rows, "--json").json()
    rows = predicted["rows"]
    assert [r["class"] for r in rows[:2]] == ["low", "high"]  # age decides the segment
    assert len(rows) == 3 and all(0.34 < r["confidence"] <= 1.0 for r in rows)
    assert set(rows[0]["probabilities"]) == set(SEGMENTS) and predicted["weights_source"] == "run"
    said = cli("predict", project, "--input", new_rows).out
    assert "line 2: low" in said and "line 3: high" in said
    no_column = tmp_path / "no_age.csv"
    no_column.write_text("income,city\n41000,Paris\n")
    refused = cli("predict", project, "--input", no_column)
    assert refused.code == 1 and "age" in refused.err

    script = cli("export", project, "-o", tmp_path / "customers.py")  # no --format: from .py
    assert script.code == 0, script.err
    assert "Python script" in script.out and (tmp_path / "customers.py").exists()
    unknown = cli("export", project, "-o", tmp_path / "customers.h5")
    assert unknown.code == 2 and "cannot tell the format of" in unknown.err
    assert "--format" in unknown.err and not (tmp_path / "customers.h5").exists()
    wrong = cli("export", project, "--format", "onnx", "-o", tmp_path / "customers.keras")
    assert wrong.code == 2 and "an ONNX file must end in .onnx" in wrong.err
    assert cli("export", project, "-o", tmp_path / "customers.keras").code == 0
    model_as_project = cli("evaluate", tmp_path / "customers.keras")  # a model, not a project
    assert model_as_project.code == 1 and "a Keras model, not a DeepCanvas project" in (
        model_as_project.err
    )
    assert "main.py import" in model_as_project.err and "utf-8" not in model_as_project.err
