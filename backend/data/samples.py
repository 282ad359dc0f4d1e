"""The small CSV that ships in `resources/data/` for the CSV example, and how it was made.

The file is generated, not measured: three made-up penguin species whose bill, flipper and
mass follow different normal distributions, on three islands, with a few cells left empty so
the example shows missing-value handling. `write_sample_csv` rewrites it byte for byte.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLE_CSV = Path(__file__).resolve().parents[2] / "resources" / "data" / "synthetic_penguins.csv"
SAMPLE_COLUMNS = [
    "island",
    "bill_length_mm",
    "bill_depth_mm",
    "flipper_length_mm",
    "body_mass_g",
    "sex",
    "species",
]
_SPECIES = {  # mean bill length, bill depth, flipper length, body mass; islands
    "Adelie": ((38.8, 18.3, 190.0, 3700.0), ("Biscoe", "Dream", "Torgersen")),
    "Chinstrap": ((48.8, 18.4, 196.0, 3730.0), ("Dream",)),
    "Gentoo": ((47.5, 15.0, 217.0, 5080.0), ("Biscoe",)),
}
_SPREAD = (2.6, 1.2, 6.5, 450.0)


def sample_rows(rows: int = 150, seed: int = 7) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    species = list(_SPECIES)
    out: list[list[str]] = []
    for i in range(rows):
        name = species[i % len(species)]
        means, islands = _SPECIES[name]
        values = rng.normal(means, _SPREAD)
        cells = [f"{values[0]:.1f}", f"{values[1]:.1f}", f"{values[2]:.0f}", f"{values[3]:.0f}"]
        if rng.random() < 0.03:
            cells[rng.integers(0, 4)] = ""  # a measurement that was not taken
        sex = str(rng.choice(["female", "male"])) if rng.random() > 0.04 else ""
        out.append([str(rng.choice(islands)), *cells, sex, name])
    return out


def write_sample_csv(path: Path = SAMPLE_CSV) -> Path:
    lines = [",".join(SAMPLE_COLUMNS), *(",".join(row) for row in sample_rows())]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")
    return path


# ----------------------------------------------------------------- the photo folder
SAMPLE_PHOTOS = SAMPLE_CSV.parent / "photos"
"""A small generated image folder (one sub-folder per class) for "Classify your own photos"."""
PHOTO_CLASSES = ("beach", "forest", "sunset")


def sample_photo(kind: str, rng: np.random.Generator, size: int = 64) -> np.ndarray:
    """One made-up 'photo' of `kind` as uint8 (size, size, 3): a sky and ground gradient with
    a feature (waves, tree trunks, a low sun) at a random place, and some sensor noise."""
    rows = np.linspace(0.0, 1.0, size)[:, None, None]
    horizon = rng.uniform(0.35, 0.65)
    upper, lower = {
        "beach": ((0.45, 0.7, 0.95), (0.9, 0.82, 0.6)),
        "forest": ((0.6, 0.75, 0.85), (0.15, 0.4, 0.15)),
        "sunset": ((0.95, 0.55, 0.25), (0.3, 0.15, 0.25)),
    }[kind]
    sky = np.array(upper) * (0.8 + 0.2 * rows / horizon)
    ground = np.array(lower) * (1.1 - 0.3 * rows)
    image = np.where(rows < horizon, sky, ground) * np.ones((size, size, 3))
    ys, xs = np.mgrid[0:size, 0:size] / size
    if kind == "beach":  # waves just below the horizon
        band = (ys > horizon) & (ys < horizon + 0.15)
        waves = 0.5 + 0.5 * np.sin(xs * rng.uniform(20, 40) + ys * 30)
        image[band] = image[band] * 0.6 + np.array([0.2, 0.45, 0.8]) * waves[band, None] * 0.4
    elif kind == "forest":  # dark trunks
        for x0 in rng.uniform(0, 1, rng.integers(3, 7)):
            trunk = (np.abs(xs - x0) < rng.uniform(0.02, 0.05)) & (ys > horizon - 0.3)
            image[trunk] = np.array([0.3, 0.2, 0.1])
    else:  # a low sun
        cx, cy, r = rng.uniform(0.2, 0.8), horizon - rng.uniform(0.05, 0.2), rng.uniform(0.08, 0.15)
        sun = (xs - cx) ** 2 + (ys - cy) ** 2 < r**2
        image[sun] = np.array([1.0, 0.9, 0.5])
    image *= rng.uniform(0.8, 1.15)
    image += rng.normal(0, 0.03, image.shape)
    return np.asarray(np.clip(image * 255, 0, 255), dtype=np.uint8)


def png_bytes(image: np.ndarray) -> bytes:
    """A PNG of an RGB uint8 array, written with the standard library only (same bytes every
    time)."""
    import struct
    import zlib

    height, width, _ = image.shape
    raw = b"".join(b"\x00" + image[row].tobytes() for row in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def write_sample_photos(folder: Path = SAMPLE_PHOTOS, per_class: int = 24, seed: int = 3) -> Path:
    """Rewrite the photo folder byte for byte."""
    rng = np.random.default_rng(seed)
    for kind in PHOTO_CLASSES:
        (folder / kind).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (folder / kind / f"{kind}_{i:02d}.png").write_bytes(png_bytes(sample_photo(kind, rng)))
    return folder
