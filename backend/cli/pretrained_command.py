"""`new --pretrained NAME` and `pretrained`: transfer-learning projects from the terminal.

    main.py pretrained                           the backbones, their size, whether cached
    main.py pretrained --download NAME [--size N] its ImageNet weights, into the Keras cache
    main.py new -o P.dcproj.json --pretrained MobileNetV2 [--weights imagenet|FILE]
            [--download] [--classes N | --data FOLDER] [--input-shape H,W,C]

`--weights imagenet` reads Keras' published file from the Keras cache; it is downloaded only
with `--download` (progress on stderr, Ctrl+C cancels and keeps nothing). Without `--weights`
the backbone is untrained, and the command says so. `--data FOLDER` uses an image folder (one
sub-folder per class) at raw 0-255 pixels, sized to the input, and counts its classes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.cli.output import print_json, say, table
from backend.document.project import DatasetChoice
from backend.exchange.pretrained import PretrainedError
from backend.exchange.pretrained_catalog import (
    BACKBONES,
    Backbone,
    UnknownBackboneError,
    backbone,
)
from backend.exchange.pretrained_project import (
    IMAGENET,
    image_folder_choice,
    new_pretrained_project,
)
from backend.exchange.pretrained_weights import (
    DownloadCancelled,
    WeightsDownloadError,
    cached_weights,
    download_weights,
    format_size,
)
from backend.workflow.session import Workflow

EXIT_OK, EXIT_FAILED, EXIT_STOPPED = 0, 1, 130
HELP = "list the pretrained backbones (keras.applications), their download size, if cached"


def add_arguments(new: argparse.ArgumentParser) -> None:
    """The `new` command's pretrained options."""
    new.add_argument("--pretrained", metavar="NAME", help="start from a backbone (`pretrained`)")
    new.add_argument(
        "--weights", metavar="imagenet|FILE", help="its weights: ImageNet's, or a weights file"
    )
    new.add_argument(
        "--download", action="store_true", help="download the ImageNet weights if not cached"
    )
    new.add_argument("--classes", type=_class_count, help="classes of the new head (default: 2)")
    new.add_argument("--data", metavar="FOLDER", help="an image folder, one sub-folder per class")
    new.add_argument("--input-shape", metavar="H,W,C", help="image size (default 224,224,3)")


def add_list_arguments(sub: argparse.ArgumentParser) -> None:
    """The `pretrained` command's options."""
    sub.add_argument("--json", action="store_true", help="one JSON object per backbone")
    sub.add_argument(
        "--download", metavar="NAME", help="download NAME's ImageNet weights into the Keras cache"
    )
    sub.add_argument(
        "--size", type=_image_side, help="the image size they are for (default: the backbone's own)"
    )
    sub.set_defaults(project=None, output=None)


def run_list(args: argparse.Namespace) -> int:
    if args.download is not None:  # "" is an unknown name, not the list
        return _download_only(args)
    if args.size is not None:
        args.parser.error("--size goes with --download NAME")
    rows = []
    for entry in BACKBONES.values():
        cached = cached_weights(entry, entry.default_size) is not None
        if args.json:
            print_json(
                {
                    "name": entry.name,
                    "params": entry.params,
                    "download_bytes": entry.download_bytes,
                    "min_size": entry.min_size,
                    "cached": cached,
                    "file": entry.weights_file,
                }
            )
        rows.append(
            (
                entry.name,
                f"{entry.params / 1e6:.1f} M",
                format_size(entry.download_bytes),
                "yes" if cached else "no",
            )
        )
    if not args.json:
        table(("name", "parameters", "download", "cached"), rows)
        say("start one: main.py new -o P.dcproj.json --pretrained NAME --weights imagenet")
    return EXIT_OK


def run_new_pretrained(args: argparse.Namespace) -> int:
    target = Path(args.output)
    try:
        entry = backbone(args.pretrained)
    except UnknownBackboneError as exc:
        args.parser.error(str(exc))
    shape = _input_shape(args)
    dataset, classes = _data(args, shape)
    if args.weights == IMAGENET and args.download and cached_weights(entry, shape[0]) is None:
        status = _download(entry, shape[0])
        if status != EXIT_OK:
            return status
    try:
        project = new_pretrained_project(entry.name, classes, shape, args.weights, target, dataset)
    except PretrainedError as exc:
        print(f"{args.parser.prog}: error: {target}: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if args.name:
        project.name = args.name
    Workflow(project).save(target)
    record = project.graph.node_by_name(entry.node_name).params["pretrained"]["weights"]
    weights = {
        "imagenet": f"ImageNet ({record.get('check')})",
        "file": f"{record.get('path')} ({record.get('check')})",
        "none": "none: the backbone is untrained and trains from scratch (not frozen)",
    }[record["kind"]]
    say(f"wrote {target}: {entry.name}, a new {classes}-class head; weights: {weights}")
    if dataset is None:
        say(f"next: main.py data {target} image_folder --param path=FOLDER")
    else:
        say(f"next: main.py train {target}")
    return EXIT_OK


MAX_CLASSES = 100_000
"""More classes than any labelled image collection has (ImageNet-21k: 21,841)."""
MAX_IMAGE_SIDE = 8192


def _class_count(text: str) -> int:
    return _whole(text, 2, MAX_CLASSES, "a classifier's classes")


def _image_side(text: str) -> int:
    return _whole(text, 1, MAX_IMAGE_SIDE, "an image side in pixels")


def _whole(text: str, least: int, most: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not least <= value <= most:
        raise argparse.ArgumentTypeError(f"{what}: from {least} to {most:,}, got {value:,}")
    return value


def _input_shape(args: argparse.Namespace) -> tuple[int, int, int]:
    if not args.input_shape:
        return (224, 224, 3)
    try:
        values = tuple(int(v) for v in args.input_shape.split(","))
    except ValueError:
        values = ()
    if len(values) != 3 or min(values) < 1 or max(values[:2]) > MAX_IMAGE_SIDE:
        args.parser.error(
            f"--input-shape wants H,W,C such as 96,96,3 (sides up to {MAX_IMAGE_SIDE:,}), "
            f"got {args.input_shape!r}"
        )
    return values  # type: ignore[return-value]


def _data(
    args: argparse.Namespace, shape: tuple[int, int, int]
) -> tuple[DatasetChoice | None, int]:
    if not args.data:
        return None, args.classes or 2
    try:
        choice, found = image_folder_choice(args.data, shape)
    except PretrainedError as exc:
        args.parser.error(f"--data {exc}")
    if args.classes and args.classes != found:
        args.parser.error(f"--classes {args.classes}, but {args.data} has {found} class folders")
    return choice, found


def _download_only(args: argparse.Namespace) -> int:
    try:
        entry = backbone(args.download)
    except UnknownBackboneError as exc:
        args.parser.error(str(exc))
    size = args.size or entry.default_size
    if size < entry.min_size:  # refused before any download
        args.parser.error(
            f"{entry.name} takes images of at least {entry.min_size} pixels, got {size}"
        )
    cached = cached_weights(entry, size)
    if cached is not None:
        say(f"{entry.name}: already in the Keras cache ({cached})")
        return EXIT_OK
    return _download(entry, size)


def _download(entry: Backbone, size: int) -> int:
    say(f"downloading {entry.weights_file_for(size)} (about {format_size(entry.download_bytes)})")

    def progress(done: int, total: int | None) -> None:
        shown = f"{done / total:6.1%}" if total else format_size(done)
        print(f"\r  {shown}", end="", file=sys.stderr, flush=True)

    try:
        origin = download_weights(entry, size, progress)
    except KeyboardInterrupt:
        print("\ndownload cancelled: nothing was kept", file=sys.stderr)
        return EXIT_STOPPED
    except (DownloadCancelled, WeightsDownloadError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(file=sys.stderr)
    say(f"saved {origin.path} ({origin.check})")
    return EXIT_OK
