"""NumPy files and image folders: arrays by name, no pickle, decoding, bad files named."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from backend.data import DatasetError, images, load_dataset
from backend.data.preview import preview_dataset


# ----------------------------------------------------------------- NumPy
@pytest.fixture
def arrays(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    path = tmp_path / "data.npz"
    np.savez(
        path,
        features=rng.normal(size=(60, 3)),
        labels=np.array(["cat", "dog", "eel"] * 20),
        weights=np.ones(60),
    )
    return path


def test_npz_arrays_are_picked_by_name(arrays: Path) -> None:
    data = load_dataset("numpy", {"path": str(arrays), "x": "features", "y": "labels"})
    assert data.input_shape == (3,) and data.x_train.dtype == np.float32
    assert data.task == "classification" and data.class_names == ["cat", "dog", "eel"]
    with pytest.raises(DatasetError, match=r"weights': the target has only one class \('1'\)"):
        load_dataset("numpy", {"path": str(arrays), "x": "features", "y": "weights"})
    regression = load_dataset(
        "numpy", {"path": str(arrays), "x": "features", "y": "weights", "task": "regression"}
    )
    assert regression.target_shape == (1,)


def test_npz_names_default_to_the_usual_ones(tmp_path: Path) -> None:
    path = tmp_path / "xy.npz"
    np.savez(path, y=np.arange(40) % 2, x=np.zeros((40, 5, 5, 1), dtype=np.uint8))
    data = load_dataset("numpy", {"path": str(path)})
    assert data.input_shape == (5, 5, 1) and data.num_classes == 2


def test_npy_with_a_separate_target_file(tmp_path: Path) -> None:
    np.save(tmp_path / "x.npy", np.linspace(0, 1, 80).reshape(40, 2))
    np.save(tmp_path / "y.npy", np.linspace(0, 5, 40))
    data = load_dataset(
        "numpy", {"path": str(tmp_path / "x.npy"), "y_path": str(tmp_path / "y.npy")}
    )
    assert data.task == "regression" and data.input_shape == (2,)


def test_numpy_bad_files_are_named(tmp_path: Path, arrays: Path) -> None:
    with pytest.raises(DatasetError, match=r"no array named 'nope' \(it holds: features"):
        load_dataset("numpy", {"path": str(arrays), "x": "nope"})
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = [1], [1, 2]
    np.savez(tmp_path / "obj.npz", x=ragged, y=np.array([0, 1]))
    with pytest.raises(DatasetError, match=r"obj\.npz array 'x'.*allow_pickle"):
        load_dataset("numpy", {"path": str(tmp_path / "obj.npz")})
    np.savez(tmp_path / "short.npz", x=np.zeros((5, 2)), y=np.zeros(4))
    with pytest.raises(DatasetError, match="5 samples of features but 4 targets"):
        load_dataset("numpy", {"path": str(tmp_path / "short.npz")})
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match=r"junk\.npz: not a readable \.npz"):
        load_dataset("numpy", {"path": str(tmp_path / "junk.npz")})
    with pytest.raises(DatasetError, match=r"gone\.npz does not exist"):
        load_dataset("numpy", {"path": str(tmp_path / "gone.npz")})


def test_numpy_preview_lists_the_arrays(arrays: Path) -> None:
    preview = preview_dataset("numpy", {"path": str(arrays), "x": "features", "y": "labels"})
    assert preview.arrays["features"] == ((60, 3), "float64")
    assert preview.arrays["labels"][0] == (60,)
    assert preview.kind == "table" and sum(preview.class_counts) == preview.sizes[0]


# ----------------------------------------------------------------- image folders
def png_bytes(pixels: np.ndarray) -> bytes:
    """A valid PNG of an 8-bit grey (h, w) or RGB (h, w, 3) array, without any imaging library."""
    height, width = pixels.shape[:2]
    colour = 2 if pixels.ndim == 3 else 0
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def make_folder(root: Path, classes: dict[str, int], size: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for name, count in classes.items():
        (root / name).mkdir(parents=True)
        for i in range(count):
            base = 200 if name.startswith("b") else 30
            pixels = np.clip(rng.normal(base, 20, (size, size, 3)), 0, 255).astype(np.uint8)
            (root / name / f"{i}.png").write_bytes(png_bytes(pixels))
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return make_folder(tmp_path / "pictures", {"bright": 10, "dark": 10, "other": 5})


def test_image_folder_decodes_resizes_and_stratifies(folder: Path) -> None:
    params = {"path": str(folder), "height": 8, "width": 6, "color_mode": "grayscale"}
    data = load_dataset("image_folder", params, 0.2, 0.2, seed=1)
    assert data.class_names == ["bright", "dark", "other"]
    assert data.input_shape == (8, 6, 1)
    assert (data.size("train"), data.size("val"), data.size("test")) == (15, 5, 5)
    assert np.bincount(data.y_val).tolist() == [2, 2, 1]
    bright = data.x_train[data.y_train == 0].mean()
    dark = data.x_train[data.y_train == 1].mean()
    assert 0.0 <= dark < 0.3 < 0.6 < bright <= 1.0  # rescaled to 0..1
    rgb = load_dataset("image_folder", {"path": str(folder), "height": 4, "width": 4})
    assert rgb.input_shape == (4, 4, 3)


def test_image_folder_preview_samples_each_class(folder: Path) -> None:
    preview = preview_dataset("image_folder", {"path": str(folder), "height": 8, "width": 8})
    assert preview.kind == "images" and preview.x is not None
    assert preview.x.shape[1:] == (8, 8, 3)
    assert sum(preview.class_counts) == preview.sizes[0]


def test_a_file_that_is_not_an_image_is_named(folder: Path) -> None:
    (folder / "dark" / "broken.png").write_bytes(b"this is not a png at all")
    with pytest.raises(DatasetError, match=r"broken\.png: cannot be decoded as an image"):
        load_dataset("image_folder", {"path": str(folder), "height": 8, "width": 8})


def test_a_big_folder_checks_signatures_before_streaming(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(images, "IN_MEMORY_IMAGES", 0)
    (folder / "dark" / "broken.jpg").write_bytes(b"GIF? no, text")
    with pytest.raises(DatasetError, match=r"not an image: .*broken\.jpg"):
        load_dataset("image_folder", {"path": str(folder), "height": 8, "width": 8})


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        ({}, "has no class sub-folders"),
        ({"only": 3}, "only one class sub-folder ('only')"),
        ({"a": 0, "b": 0}, "no images"),
    ],
)
def test_bad_folders_are_named(tmp_path: Path, layout: dict[str, int], message: str) -> None:
    root = tmp_path / "pics"
    root.mkdir()
    for name, count in layout.items():
        make_folder(root, {name: count})
    (root / "readme.txt").write_text("loose file", encoding="utf-8")
    with pytest.raises(DatasetError, match="pics") as caught:
        load_dataset("image_folder", {"path": str(root)})
    assert message in str(caught.value)


def test_a_vanished_folder_says_so(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"gone does not exist .*moved or deleted"):
        load_dataset("image_folder", {"path": str(tmp_path / "gone")})


def test_separate_validation_and_test_folders(tmp_path: Path, folder: Path) -> None:
    val = make_folder(tmp_path / "val", {"dark": 2, "bright": 3})
    test = make_folder(tmp_path / "test", {"other": 1})
    params = {"path": str(folder), "height": 4, "width": 4}
    data = load_dataset("image_folder", {**params, "val_path": str(val), "test_path": str(test)})
    assert (data.size("train"), data.size("val"), data.size("test")) == (25, 5, 1)
    assert sorted(data.y_val.tolist()) == [0, 0, 0, 1, 1]  # bright is class 0 in training
    assert data.y_test.tolist() == [2]
    odd = make_folder(tmp_path / "odd", {"bright": 1, "zebra": 1})
    with pytest.raises(DatasetError, match=r"zebra: class 'zebra' is not a class of the training"):
        load_dataset("image_folder", {**params, "val_path": str(odd)})
