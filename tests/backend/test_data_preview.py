"""What the Data panel is given to draw: the right kind of preview and an honest balance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from backend.data import DatasetError
from backend.data import preview as preview_module
from backend.data.preview import preview_dataset
from tests.backend.test_data_files import make_folder


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("moons", "scatter"),
        ("sine", "series"),
        ("trend_sequences", "sequences"),
        ("shapes", "images"),
        ("digits", "images"),
        ("iris", "table"),
        ("diabetes", "table"),
    ],
)
def test_each_source_gets_a_fitting_preview(name: str, kind: str) -> None:
    preview = preview_dataset(name, rows=10)
    assert preview.kind == kind
    assert preview.sizes is not None and preview.complete
    assert preview.x is not None and len(preview.x) == preview.sizes[0]
    if preview.task == "classification":
        assert sum(preview.class_counts) == preview.sizes[0]
        assert len(preview.class_counts) == preview.num_classes
    if kind == "table":
        assert len(preview.rows) == 10 and preview.columns[-1] == "target"


def test_a_big_image_folder_is_previewed_from_a_sample(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = make_folder(tmp_path / "pics", {"a": 9, "b": 3}, size=5)
    monkeypatch.setattr(preview_module, "FULL_CHECK_IMAGES", 4)
    monkeypatch.setattr(preview_module, "SAMPLE_IMAGES", 5)
    preview = preview_dataset("image_folder", {"path": str(folder), "height": 5, "width": 5})
    assert not preview.complete and preview.x is not None
    assert preview.x.shape == (5, 5, 5, 3)
    assert preview.y is not None and sorted(np.asarray(preview.y).tolist()) == [0, 0, 0, 1, 1]
    assert preview.class_counts == [7, 3] and preview.sizes == (10, 1, 1)  # 15% of 3 is 0


def test_previewing_an_unchosen_file_asks_for_one() -> None:
    with pytest.raises(DatasetError, match="choose a data file first"):
        preview_dataset("csv", {})
    with pytest.raises(DatasetError, match="unknown dataset"):
        preview_dataset("nope")
