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
