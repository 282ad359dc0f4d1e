"""Image folders (one sub-folder per class), decoded with TensorFlow like Keras does.

The folder is indexed the way `keras.utils.image_dataset_from_directory` indexes it (class
folders in sorted order, image files below each, followed into sub-folders), then split with
the same seeded, stratified `split_indices` as every other source, which Keras' own
validation_split cannot do for three splits. Small folders are decoded into arrays up front,
naming any file that fails; big ones stream through `tf.data` (decode in parallel, cache when it
fits, prefetch), after a cheap check of every file's signature.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from backend.data.base import (
    CLASSIFICATION,
    SPLITS,
    Dataset,
    DatasetError,
    ParamSpec,
    SplitSettings,
    split_indices,
)
from backend.data.image_headers import MAX_PIXELS, read_image_size
from backend.keras_env import import_tensorflow

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
COLOR_MODES = {"grayscale": 1, "rgb": 3, "rgba": 4}
IN_MEMORY_IMAGES = 4000
CACHE_BYTES = 512 * 2**20
FOLDER_PARAMS = (
    ParamSpec("path", "Folder", "", "folder", help="one sub-folder of images per class"),
    ParamSpec("height", "Height", 64, "int", 4, 1024),
    ParamSpec("width", "Width", 64, "int", 4, 1024),
    ParamSpec("color_mode", "Colours", "rgb", "choice", choices=tuple(COLOR_MODES)),
    ParamSpec("rescale", "Scale pixels to 0..1", True, "bool"),
    ParamSpec("val_path", "Validation folder (optional)", "", "folder"),
    ParamSpec("test_path", "Test folder (optional)", "", "folder"),
)
_SPLIT_NAMES = {"val": "validation", "test": "test"}
_SIGNATURES = (b"\x89PNG", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")


def index_folder(folder: Path) -> tuple[list[str], np.ndarray, list[str]]:
    """(file paths, class ids, class names) of a folder with one sub-folder per class."""
    if not folder.exists():
        raise DatasetError(
            f"{folder} does not exist (was it moved or deleted since the project was saved?): "
            "choose the folder again in the Data panel"
        )
    if not folder.is_dir():
        raise DatasetError(
            f"{folder} is not a folder: choose a folder with one sub-folder per class"
        )
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not classes:
        raise DatasetError(
            f"{folder} has no class sub-folders: put each class's images in a folder of its "
            f"own, e.g. {folder / 'cats'} and {folder / 'dogs'}"
        )
    paths, labels = _class_images(folder, classes)
    if not paths:
        raise DatasetError(
            f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) in its sub-folders "
            f"{', '.join(classes)}"
        )
    return paths, np.asarray(labels, dtype=np.int64), classes


def _class_images(folder: Path, classes: list[str]) -> tuple[list[str], list[int]]:
    """Every image below each class folder, links followed (as Keras does) but never into a
    folder already walked (a loop, or a link to the class itself, would repeat images or never
    end), nor into another class's folder; an image reached from two classes is refused."""
    own = _owned_folders(folder, classes)
    seen: set[tuple[int, int]] = {_key(folder)}
    owner: dict[str, int] = {}
    paths: list[str] = []
    labels: list[int] = []
    for label, name in enumerate(classes):
        for root, dirs, files in os.walk(folder / name, followlinks=True):
            key = _key(Path(root))
            if key in seen:
                dirs[:] = []
                continue
            seen.add(key)
            dirs[:] = sorted(d for d in dirs if own.get(_key(Path(root, d)), label) == label)
            for file in sorted(files):
                if not file.lower().endswith(IMAGE_SUFFIXES):
                    continue
                path = os.path.join(root, file)
                real = os.path.realpath(path)
                if owner.get(real, label) != label:
                    raise DatasetError(
                        f"{real} is an image of two classes, {classes[owner[real]]!r} and "
                        f"{name!r} (through {path}): a sample has one class; remove the link"
                    )
                if real not in owner:
                    owner[real] = label
                    paths.append(path)
                    labels.append(label)
    return paths, labels


def _owned_folders(folder: Path, classes: list[str]) -> dict[tuple[int, int], int]:
    """(device, inode) of every real folder under each class folder, links not followed."""
    own: dict[tuple[int, int], int] = {}
    for label, name in enumerate(classes):
        for root, _dirs, _files in os.walk(folder / name):
            own.setdefault(_key(Path(root)), label)
    return own


def _key(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:  # a dangling link: never walked, so any key will do
        return (-1, hash(str(path)))
    return (info.st_dev, info.st_ino)


def check_signatures(paths: list[str]) -> None:
    """Every file starts like an image and claims a size decoding can hold: catches text,
    truncated files and decompression bombs without decoding (for big, streamed folders)."""
    bad = []
    for path in paths:
        try:
            with open(path, "rb") as handle:
                head = handle.read(12)
        except OSError:
            head = b""
        if not head.startswith(_SIGNATURES) and not (head[:4] == b"RIFF" and head[8:] == b"WEBP"):
            bad.append(path)
        check_size(path)
    if bad:
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        raise DatasetError(f"not an image: {', '.join(bad[:3])}{more}: remove or replace them")


def check_size(path: str) -> None:
    """DatasetError for an image whose header claims more than `MAX_PIXELS`: a small file can
    decode to gigabytes (and a resize makes them floats)."""
    size = read_image_size(path)
    if size is not None and size[0] * size[1] > MAX_PIXELS:
        width, height = size
        raise DatasetError(
            f"{path}: {width} x {height} pixels ({width * height / 1e6:,.0f} megapixels) is "
            f"more than DeepCanvas decodes ({MAX_PIXELS / 1e6:,.0f} megapixels: one image "
            "would take gigabytes of memory): shrink it, or remove it"
        )


class ImageDecoder:
    """Decodes and resizes files with the settings of a folder source."""

    def __init__(self, params: dict[str, Any]) -> None:
        mode = params.get("color_mode", "rgb")
        if not isinstance(mode, str) or mode not in COLOR_MODES:
            raise DatasetError(f"color_mode must be one of {', '.join(COLOR_MODES)}, got {mode!r}")
        self.channels = COLOR_MODES[mode]
        self.size = (int(params.get("height", 64)), int(params.get("width", 64)))
        if min(self.size) < 1:
            raise DatasetError(f"image size must be positive, got {self.size}")
        self.scale = 1.0 / 255.0 if params.get("rescale", True) else 1.0

    @property
    def shape(self) -> tuple[int, int, int]:
        return (*self.size, self.channels)

    def graph_decode(self, path: Any) -> Any:
        tf = import_tensorflow()
        image = tf.io.decode_image(
            tf.io.read_file(path), channels=self.channels, expand_animations=False
        )
        image = tf.image.resize(image, self.size)  # float32, as Keras' loader returns
        image.set_shape(self.shape)
        return image * self.scale

    def decode(self, path: str) -> np.ndarray:
        check_size(path)
        tf = import_tensorflow()
        try:
            return np.asarray(self.graph_decode(tf.constant(path)), dtype=np.float32)
        except (tf.errors.InvalidArgumentError, tf.errors.NotFoundError) as exc:
            reason = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else ""
            raise DatasetError(f"{path}: cannot be decoded as an image ({reason})") from exc

    def decode_many(self, paths: list[str]) -> np.ndarray:
        out = np.zeros((len(paths), *self.shape), dtype=np.float32)
        for i, path in enumerate(paths):
            out[i] = self.decode(path)
        return out


class ImageStream:
    """Splits of a big image folder as `tf.data` pipelines of decoded, resized images."""

    def __init__(
        self,
        decoder: ImageDecoder,
        files: dict[str, tuple[list[str], np.ndarray]],
        seed: int,
    ) -> None:
        self.decoder = decoder
        self.files = files
        self.seed = seed

    def size(self, split: str) -> int:
        return len(self.files[split][0])

    def make(self, split: str, batch_size: int) -> Any:
        tf = import_tensorflow()
        paths, labels = self.files[split]
        n = len(paths)
        data = tf.data.Dataset.from_tensor_slices((paths, labels))
        fits = n * math.prod(self.decoder.shape) * 4 <= CACHE_BYTES
        if split == "train" and not fits:
            data = data.shuffle(max(n, 1), seed=self.seed)  # paths are cheap to shuffle
        data = data.map(
            lambda p, y: (self.decoder.graph_decode(p), y), num_parallel_calls=tf.data.AUTOTUNE
        )
        if fits:
            data = data.cache()
            if split == "train":
                data = data.shuffle(max(n, 1), seed=self.seed)
        data = data.batch(batch_size)
        data = data.apply(tf.data.experimental.assert_cardinality(math.ceil(n / batch_size)))
        return data.prefetch(tf.data.AUTOTUNE)


def _same_classes(folder: Path, classes: list[str]) -> tuple[list[str], np.ndarray]:
    """A separate validation or test folder, labelled with the training folder's classes."""
    paths, labels, names = index_folder(folder)
    unknown = [n for n in names if n not in classes]
    if unknown:
        raise DatasetError(
            f"{folder / unknown[0]}: class {unknown[0]!r} is not a class of the training folder "
            f"({', '.join(classes)})"
        )
    remap = np.array([classes.index(n) for n in names], dtype=np.int64)
    return paths, remap[labels]


def load_folder(name: str, params: dict[str, Any], split: SplitSettings) -> Dataset:
    decoder = ImageDecoder(params)
    path = params.get("path")
    if not isinstance(path, str) or not path:
        raise DatasetError("choose a folder of images first")
    paths, labels, classes = index_folder(Path(path))
    if len(classes) < 2:
        raise DatasetError(
            f"{path} has only one class sub-folder ({classes[0]!r}): classification needs two"
        )
    extra = {s: params.get(f"{s}_path") or "" for s in ("val", "test")}
    val = 0.0 if extra["val"] else split.val_fraction  # a separate folder gives that split
    test = 0.0 if extra["test"] else split.test_fraction
    indices = split_indices(len(paths), val, test, split.seed, labels)
    if len(indices[0]) == 0:
        raise DatasetError(f"{path}: no images left for training: lower the split fractions")
    files = {
        s: ([paths[i] for i in idx], labels[idx]) for s, idx in zip(SPLITS, indices, strict=True)
    }
    training = {os.path.realpath(p) for p in paths}
    for split_name, folder in extra.items():
        if folder:
            files[split_name] = _same_classes(Path(str(folder)), classes)
            shared = sum(os.path.realpath(p) in training for p in files[split_name][0])
            if shared:
                raise DatasetError(
                    f"{folder}: {shared:,} images of the {_SPLIT_NAMES[split_name]} folder are "
                    f"also in the training folder {path}: the same image on both sides makes "
                    "the scores meaningless; give it images of its own"
                )
    every = [p for s in SPLITS for p in files[s][0]]
    note = f"{len(every):,} images in {len(classes)} classes, resized to {decoder.shape}"
    if len(every) > IN_MEMORY_IMAGES:
        check_signatures(every)
        stream = ImageStream(decoder, files, split.seed)
        x0 = np.zeros((0, *decoder.shape), dtype=np.float32)
        y0 = labels[:0]
        dataset = Dataset(name, CLASSIFICATION, x0, y0, x0, y0, x0, y0, stream=stream)
        note += "; streamed from disk"
    else:
        decoded = {s: decoder.decode_many(files[s][0]) for s in SPLITS}
        dataset = Dataset(
            name,
            CLASSIFICATION,
            decoded["train"],
            files["train"][1],
            decoded["val"],
            files["val"][1],
            decoded["test"],
            files["test"][1],
        )
    dataset.class_names = classes
    dataset.notes.append(note)
    return dataset
