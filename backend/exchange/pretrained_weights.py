"""Where a backbone's ImageNet weights come from: the Keras cache, a file, or a download the
user started. Nothing here downloads unless `download_weights` is called.

The Keras cache is the folder `keras.applications` itself keeps them in (`$KERAS_HOME/models`,
by default `~/.keras/models`), under the file names it uses, so weights one tool fetched serve
the other. A file is checked against the hash the application passes to Keras' `get_file`
(MD5 or SHA-256, by length, as `get_file` decides); MobileNet V1/V2 publish none, which the
check says.

`download_weights` streams the published file into a temporary file beside its place in the
cache, reports `progress(done, total)` after every chunk, stops within one chunk when
`cancelled()` turns true, refuses a file whose hash differs, and only then renames it into
place: a cancel, a failure or a wrong hash leaves nothing behind. It never imports Qt; the
GUI runs it on a worker thread.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from backend.exchange.pretrained import WeightsOrigin
from backend.exchange.pretrained_catalog import Backbone
from backend.paths import new_file_mode

CHUNK = 256 * 1024
TIMEOUT_S = 30


class WeightsDownloadError(RuntimeError):
    """A download that did not complete, with why in words a user can act on."""


class DownloadCancelled(WeightsDownloadError):
    """The user pressed Cancel; nothing was kept."""


def keras_cache_dir() -> Path:
    """Where `keras.applications` keeps weights (`keras.utils.get_file`'s cache)."""
    home = os.environ.get("KERAS_HOME") or str(Path.home() / ".keras")
    return Path(home) / "models"


def cached_weights(entry: Backbone, size: int | None = None) -> Path | None:
    """The published weights file of `entry` in the Keras cache, if it is there."""
    path = keras_cache_dir() / entry.weights_file_for(size)
    return path if path.is_file() else None


def file_digest(path: Path, algorithm: str) -> str:
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _algorithm(published: str | None) -> str:
    """Keras' `get_file` rule: a 64-character hash is SHA-256, any other MD5."""
    return "sha256" if published is not None and len(published) == 64 else "md5"


def check_file(entry: Backbone, path: Path, size: int | None = None) -> WeightsOrigin:
    """What `path` is: Keras' published ImageNet file of `entry` (by its hash), or another
    file (fine: it is the user's), named by its digest in the project."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such weights file")
    published = entry.file_hash
    algorithm = _algorithm(published)
    digest = file_digest(path, algorithm)
    if published is None:
        is_published_name = path.name == entry.weights_file_for(size)
        kind = "imagenet" if is_published_name else "file"
        check = "Keras publishes no hash for this file"
    elif digest == published:
        kind, check = "imagenet", "matches Keras' published hash"
    else:
        kind, check = "file", "differs from Keras' published file"
    return WeightsOrigin(kind, str(path), f"{algorithm}:{digest}", check)


def cached_origin(entry: Backbone, size: int | None = None) -> WeightsOrigin | None:
    """The cached ImageNet weights of `entry` when they are there and intact; a cached file
    whose hash differs (a damaged or partial copy) raises WeightsDownloadError."""
    path = cached_weights(entry, size)
    if path is None:
        return None
    origin = check_file(entry, path, size)
    if origin.kind != "imagenet":
        raise WeightsDownloadError(
            f"{path} is not the file Keras published for {entry.name} (its hash differs: a "
            "damaged or partial copy?): download it again, or choose a weights file"
        )
    return origin


def download_weights(
    entry: Backbone,
    size: int | None = None,
    progress: Callable[[int, int | None], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
    opener: Callable[..., Any] | None = None,
    target_dir: Path | None = None,
) -> WeightsOrigin:
    """Fetch `entry`'s published ImageNet weights into the Keras cache (or `target_dir`).

    Call it only when the user asked (a Download button, `--download`). `opener` is
    `urllib.request.urlopen` unless a test passes another."""
    folder = target_dir or keras_cache_dir()
    url = entry.origin_for(size)
    target = folder / entry.weights_file_for(size)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WeightsDownloadError(f"{folder}: cannot be created ({exc.strerror or exc})") from exc
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            _stream(url, out, progress, cancelled, opener or urllib.request.urlopen)
        origin = check_file(entry, tmp, size)
        if entry.file_hash is not None and origin.kind != "imagenet":
            raise WeightsDownloadError(
                f"the file downloaded from {url} does not match Keras' published hash for "
                f"{entry.name} ({origin.digest}); it was not kept"
            )
        os.chmod(tmp, new_file_mode(target))  # mkstemp made it private
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    return WeightsOrigin("imagenet", str(target), origin.digest, origin.check)


def _stream(
    url: str,
    out: Any,
    progress: Callable[[int, int | None], None] | None,
    cancelled: Callable[[], bool] | None,
    opener: Callable[..., Any],
) -> None:
    try:
        response = opener(url, timeout=TIMEOUT_S)
    except (TimeoutError, urllib.error.URLError, OSError) as exc:
        raise WeightsDownloadError(_offline_message(url, exc)) from exc
    with response:
        length = response.headers.get("Content-Length") if response.headers else None
        total = int(length) if length and str(length).isdigit() else None
        done = 0
        if progress:
            progress(0, total)
        while True:
            if cancelled is not None and cancelled():
                raise DownloadCancelled("download cancelled: nothing was kept")
            try:
                chunk = response.read(CHUNK)
            except (TimeoutError, OSError) as exc:
                raise WeightsDownloadError(
                    f"the download from {url} broke off after {done:,} bytes ({exc}): "
                    "nothing was kept; try again"
                ) from exc
            if not chunk:
                break
            out.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
        if total is not None and done != total:
            raise WeightsDownloadError(
                f"the download from {url} ended after {done:,} of {total:,} bytes: nothing "
                "was kept; try again"
            )


def _offline_message(url: str, exc: BaseException) -> str:
    reason = getattr(exc, "reason", exc)
    host = url.split("/")[2] if "//" in url else url
    if isinstance(exc, urllib.error.HTTPError):
        return f"the server answered {exc.code} {exc.reason} for {url}"
    return (
        f"cannot reach {host} ({reason}): this computer seems to be offline. Download {url} "
        f"on a computer that is online and copy it into {keras_cache_dir()}, or choose a "
        "weights file"
    )


def format_size(count: int) -> str:
    """`9.0 MB` (decimal units, as download sizes are usually given)."""
    for unit in ("bytes", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "bytes" else f"{count:.1f} {unit}"
        count /= 1000  # type: ignore[assignment]
    return f"{count} bytes"
