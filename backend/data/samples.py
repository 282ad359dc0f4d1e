"""The small CSV that ships in `resources/data/` for the CSV example, and how it was made.

The file is generated, not measured, but modelled on the Palmer penguins (Gorman, Williams and
Fraser 2014; the `palmerpenguins` data): 344 birds of three species in the same numbers and on
the same islands, each measurement drawn from the species' and sex's own mean and spread, with
the size of a bird shared by its measurements. As in the real birds, Adelie and Chinstrap
overlap in bill depth, flipper length and body mass (only the bill's length tells them apart
well) and males are bigger. As in the real file, two birds have no measurements and some have
no recorded sex, so the example shows missing-value handling. `write_sample_csv` rewrites the
file byte for byte.
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
_MEASURES = {  # (species, sex): means and standard deviations of bill length, bill depth,
    # flipper length and body mass, as in the Palmer penguins
    ("Adelie", "female"): ((37.3, 17.6, 187.8, 3369.0), (2.0, 0.9, 5.6, 269.0)),
    ("Adelie", "male"): ((40.4, 19.1, 192.4, 4043.0), (2.3, 1.0, 6.6, 347.0)),
    ("Chinstrap", "female"): ((46.6, 17.6, 191.7, 3527.0), (3.1, 0.8, 5.8, 285.0)),
    ("Chinstrap", "male"): ((51.1, 19.3, 199.9, 3939.0), (1.6, 0.8, 6.0, 362.0)),
    ("Gentoo", "female"): ((45.6, 14.2, 212.7, 4680.0), (2.1, 0.5, 3.9, 282.0)),
    ("Gentoo", "male"): ((49.5, 15.7, 221.5, 5485.0), (2.7, 0.7, 5.7, 313.0)),
}
_ISLANDS = {  # birds per island
    "Adelie": {"Biscoe": 44, "Dream": 56, "Torgersen": 52},
    "Chinstrap": {"Dream": 68},
    "Gentoo": {"Biscoe": 124},
}
_SIZE_SHARE = 0.4
"""How much of a measurement's spread is the bird's overall size (shared by the four)."""
_NO_SEX = 0.03  # the real file lacks the sex of 11 of its 344 birds
_UNMEASURED = (3, -5)  # and has two birds with no measurement at all (rows 4 and 340)


def sample_rows(seed: int = 7) -> list[list[str]]:
    """The file's rows in a shuffled order (island, four measurements, sex, species)."""
    rng = np.random.default_rng(seed)
    out: list[list[str]] = []
    for species, islands in _ISLANDS.items():
        for island, count in islands.items():
            for i in range(count):
                sex = ("female", "male")[i % 2]
                means, spreads = _MEASURES[species, sex]
                shared = rng.normal() * np.sqrt(_SIZE_SHARE)
                own = rng.normal(size=4) * np.sqrt(1 - _SIZE_SHARE)
                values = np.array(means) + np.array(spreads) * (shared + own)
                cells = [f"{values[0]:.1f}", f"{values[1]:.1f}", f"{values[2]:.0f}"]
                cells.append(f"{round(values[3] / 25) * 25:.0f}")  # scales read to 25 g
                recorded = sex if rng.random() > _NO_SEX else ""
                out.append([island, *cells, recorded, species])
    rows = [out[i] for i in rng.permutation(len(out))]
    for index in _UNMEASURED:
        rows[index][1:6] = ["", "", "", "", ""]  # a bird seen but not measured
    return rows


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
