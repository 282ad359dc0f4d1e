"""Data that would train to a silently wrong result, or hang: non-finite values in arrays and
tables, arrays of the wrong rank, image folders whose links repeat or loop. Each is refused
at load with the file, the array or column, how many and what to do; nothing is written.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest

from backend.data import DatasetError, load_dataset
from backend.data.images import index_folder
from tests.faults.conftest import fingerprint, run_cli, write_project

INPUT3 = (("Input", {"shape": [3]}), ("Dense", {"units": 2, "activation": "softmax"}))


def arrays(folder: Path, x_bad: dict[tuple[int, int], float] | None = None) -> Path:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype("float32")
    for (row, col), value in (x_bad or {}).items():
        x[row, col] = value
    path = folder / "data.npz"
    np.savez(path, x=x, y=(np.arange(60) % 2))
    return path


def test_nan_features_in_an_npz_are_refused_naming_array_column_and_count(
    tmp_path: Path,
) -> None:
    data = arrays(tmp_path, {(3, 1): np.nan, (7, 1): np.nan, (9, 2): np.inf})
    project = write_project(tmp_path / "p.dcproj.json", INPUT3, "numpy", {"path": str(data)})
    before = fingerprint(tmp_path)
    for command in ("evaluate", "train"):
        result = run_cli(command, project)
        assert result.code == 1, result.err
        message = result.error
        assert str(data) in message and "'x'" in message, message
        assert "2 NaN" in message and "1 infinite" in message and "3 of 60 samples" in message
        assert "column 1" in message and "drop" in message, message
        # a refused start is no run: nothing recorded, the project file untouched
        assert fingerprint(tmp_path) == before, command
    assert "cannot train" in message and "recorded" not in result.out


def test_rows_with_non_finite_values_can_be_dropped_when_asked(tmp_path: Path) -> None:
    data = arrays(tmp_path, {(3, 1): np.nan, (9, 2): -np.inf})
    dataset = load_dataset("numpy", {"path": str(data), "missing": "drop"}, 0.0, 0.0)
    assert dataset.train_size == 58
    assert np.isfinite(dataset.x_train).all()
    assert any("2 sample(s) with NaN or infinite values dropped" in n for n in dataset.notes)


def test_nan_targets_are_refused_too(tmp_path: Path) -> None:
    x = np.zeros((40, 3), dtype="float32")
    y = np.linspace(0, 1, 40)
    y[5] = np.nan
    regression = tmp_path / "reg.npz"
    np.savez(regression, x=x, y=y)
    with pytest.raises(DatasetError, match=r"array 'y'.*1 NaN") as info:
        load_dataset("numpy", {"path": str(regression)})
    assert str(regression) in str(info.value)
    labels = tmp_path / "labels.npz"
    np.savez(labels, x=x, y=np.where(np.arange(40) == 5, np.nan, np.arange(40) % 2))
    with pytest.raises(DatasetError, match=r"array 'y'.*1 NaN"):  # not a class called 'nan'
        load_dataset("numpy", {"path": str(labels)})


def test_an_npy_pair_with_infinity_names_the_file(tmp_path: Path) -> None:
    x = np.ones((30, 4, 4), dtype="float32")
    x[2, 1, 3] = np.inf
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.arange(30) % 3)
    params = {"path": str(tmp_path / "x.npy"), "y_path": str(tmp_path / "y.npy")}
    with pytest.raises(DatasetError) as info:
        load_dataset("numpy", params)
    message = str(info.value)
    assert str(tmp_path / "x.npy") in message and "1 infinite" in message, message
    assert "sample 2" in message and "(1, 3)" in message, message


def test_a_single_number_instead_of_an_array_is_named(tmp_path: Path) -> None:
    np.savez(tmp_path / "s.npz", x=np.float32(1), y=np.int64(2))
    with pytest.raises(DatasetError, match=r"array 'x' is a single value") as info:
        load_dataset("numpy", {"path": str(tmp_path / "s.npz")})
    assert "unsized" not in str(info.value)


def test_a_table_whose_every_row_has_a_gap_says_so_not_one_class(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n" + "".join(f"{i},inf,{i % 2}\n" for i in range(30)))
    with pytest.raises(DatasetError) as info:
        load_dataset("csv", {"path": str(table)})
    message = str(info.value)
    assert "only one class" not in message, message
    assert "no rows left" in message and "b 30" in message and "fill" in message, message


def test_a_drop_that_removes_a_class_says_the_drop_did_it(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"  # every 'b' row has a gap in column x2
    rows = [f"{i},{'' if i % 3 == 2 else i},{'aab'[i % 3]}" for i in range(30)]
    table.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    with pytest.raises(DatasetError) as info:
        load_dataset("csv", {"path": str(table)})
    message = str(info.value)
    assert "dropping the 10 row(s) with missing values" in message, message
    assert "x2 10" in message and "class 'b', leaving only 'a'" in message, message
    assert "missing=fill" in message and "only one class" not in message
    filled = load_dataset("csv", {"path": str(table), "missing": "fill"}, 0.0, 0.0)
    assert filled.class_names == ["a", "b"]  # what the message advises works
    three = tmp_path / "three.csv"  # two classes left train, but 'c' has no example: said
    rows = [f"{i},{'' if i % 3 == 2 else i},{'abc'[i % 3]}" for i in range(30)]
    three.write_text("x1,x2,label\n" + "\n".join(rows) + "\n")
    notes = load_dataset("csv", {"path": str(three)}, 0.0, 0.0).notes
    assert any("removed every example of class 'c'" in n for n in notes), notes
    two = tmp_path / "two.csv"  # a file with one class stays 'only one class'
    two.write_text("x1,label\n" + "".join(f"{i},a\n" for i in range(10)))
    with pytest.raises(DatasetError, match="only one class"):
        load_dataset("csv", {"path": str(two)})
    x = np.ones((20, 2), "float32")
    x[1::2, 0] = np.nan  # every sample of class 1
    np.savez(tmp_path / "a.npz", x=x, y=np.arange(20) % 2)
    with pytest.raises(DatasetError) as info:
        load_dataset("numpy", {"path": str(tmp_path / "a.npz"), "missing": "drop"})
    message = str(info.value)
    assert "dropping the 10 sample(s) with NaN" in message and "leaving only '0'" in message


def image_folder(root: Path) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for label in ("cats", "dogs"):
        (root / label).mkdir(parents=True)
        for i in range(5):
            pixels = (rng.random((8, 8, 3)) * 255).astype("uint8")
            Image.fromarray(pixels).save(root / label / f"{i}.png")
    return root


def test_a_class_folder_linking_to_itself_counts_its_images_once(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "images")
    os.symlink(root / "cats", root / "cats" / "again")
    paths, labels, classes = index_folder(root)
    assert classes == ["cats", "dogs"]
    assert len(paths) == 10 and np.bincount(labels).tolist() == [5, 5]
    params = {"path": str(root), "height": 8, "width": 8}
    dataset = load_dataset("image_folder", params, 0.2, 0.2)
    assert dataset.train_size + dataset.size("val") + dataset.size("test") == 10


def test_a_symlink_loop_ends_at_once(tmp_path: Path) -> None:
    """Links to the folder above, twice per level: following them would never end."""
    root = image_folder(tmp_path / "images")
    os.symlink(root, root / "cats" / "up")
    os.symlink(root / "dogs", root / "dogs" / "me")
    os.symlink(root / "dogs", root / "dogs" / "me2")
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(_index(root)), daemon=True)
    worker.start()
    worker.join(timeout=30)
    assert not worker.is_alive(), "indexing the folder does not end"
    assert found == [10]


def _index(root: Path) -> int:
    return len(index_folder(root)[0])


def test_an_image_reached_from_two_classes_is_refused(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "images")
    os.symlink(root / "dogs" / "0.png", root / "cats" / "dog.png")
    with pytest.raises(DatasetError) as info:
        index_folder(root)
    message = str(info.value)
    assert "dogs/0.png" in message and "cats" in message and "dogs" in message, message


def test_a_test_folder_that_is_the_training_folder_is_refused(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "images")
    params = {"path": str(root), "test_path": str(root), "height": 8, "width": 8}
    with pytest.raises(DatasetError, match=r"10 images of the test folder are also"):
        load_dataset("image_folder", params)


def huge_png(path: Path, width: int, height: int) -> Path:
    """A valid PNG header claiming width x height, with a tiny (truncated) image: decoding it
    would allocate width * height * 3 bytes before finding out."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" * 64)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def test_an_image_too_big_to_decode_is_refused_before_decoding(tmp_path: Path) -> None:
    root = image_folder(tmp_path / "images")
    bomb = huge_png(root / "cats" / "bomb.png", 26_000, 26_000)
    params = {"path": str(root), "height": 8, "width": 8}
    with pytest.raises(DatasetError) as info:
        load_dataset("image_folder", params)
    message = str(info.value)
    assert str(bomb) in message and "26000 x 26000" in message, message


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".gif", ".bmp", ".webp"])
def test_image_sizes_are_read_from_headers_of_every_format(tmp_path: Path, suffix: str) -> None:
    from PIL import Image

    from backend.data.image_headers import read_image_size

    path = tmp_path / f"i{suffix}"
    image = Image.new("RGB", (37, 23), (200, 10, 10))
    exif = Image.Exif()
    exif[0x010E] = "x" * 5000  # a long EXIF block before the JPEG's frame header
    image.save(path, **({"exif": exif} if suffix == ".jpg" else {}))
    assert read_image_size(str(path)) == (37, 23)


@pytest.mark.parametrize(
    ("name", "params", "needle"),
    [
        ("moons", {"samples": 10**9}, "samples must be at most 200,000"),
        ("trend_sequences", {"timesteps": 100_000}, "timesteps must be at most 512"),
        ("moons", {"samples": "600"}, "samples must be a number"),
        ("moons", {"noise": float("nan")}, "noise must be at most 5"),
    ],
)
def test_a_setting_beyond_its_range_is_refused_before_generating(
    name: str, params: dict[str, object], needle: str
) -> None:
    """A hand-edited project past the editor's limits: a billion moons would take 16 GB
    (the kernel's OOM killer, not an error), so the limits hold for every caller."""
    with pytest.raises(DatasetError, match=needle) as info:
        load_dataset(name, params)
    assert f"'{name}'" in str(info.value)


def npz_declaring(path: Path, names: dict[str, tuple[int, ...]]) -> Path:
    """An .npz whose members' headers claim these shapes (float32) but hold a few bytes: a
    zip bomb's worth of declared data without the bytes."""
    import io
    import zipfile

    with zipfile.ZipFile(path, "w") as archive:
        for name, shape in names.items():
            header = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                header, {"descr": "<f4", "fortran_order": False, "shape": shape}
            )
            archive.writestr(f"{name}.npy", header.getvalue() + b"\x00" * 64)
    return path


def test_arrays_declaring_more_than_memory_are_refused_before_reading(tmp_path: Path) -> None:
    from backend.keras_bridge.weights import WeightsError, load_weights

    data = npz_declaring(tmp_path / "d.npz", {"x": (10**11, 3), "y": (10**11,)})
    with pytest.raises(DatasetError, match=r"array 'x'.*GiB") as info:
        load_dataset("numpy", {"path": str(data)})
    assert "memory" in str(info.value)
    weights = npz_declaring(tmp_path / "w.weights.npz", {"dense/kernel:0": (10**11, 2)})
    with pytest.raises(WeightsError, match=r"GiB.*memory"):
        load_weights(weights)


def test_table_switches_and_a_test_file_that_is_the_training_file(tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text("a,b,label\n" + "".join(f"{i},{i * 2},{i % 2}\n" for i in range(40)))
    for key, value in (("header", 2), ("header", "yes"), ("standardize", None)):
        with pytest.raises(DatasetError, match=f"{key} must be true or false"):
            load_dataset("csv", {"path": str(table), key: value})  # read as 'on'
    alias = tmp_path / "alias.csv"
    alias.symlink_to(table)
    for key, same in (("test_path", table), ("val_path", alias)):
        with pytest.raises(DatasetError, match=f"{key} .* is the training file itself"):
            load_dataset("csv", {"path": str(table), key: str(same)})  # scored on its own rows
