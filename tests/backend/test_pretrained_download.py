"""Downloading a backbone's weights: only when called, from a local HTTP server on 127.0.0.1
(the real urllib path), with progress, Cancel, the published hash enforced, and a clear message
with nothing left behind when the network is absent."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from backend.exchange.pretrained_catalog import SMALLEST, Backbone, backbone
from backend.exchange.pretrained_weights import (
    CHUNK,
    DownloadCancelled,
    WeightsDownloadError,
    cached_origin,
    download_weights,
)

PAYLOAD = bytes(range(256)) * (4 * CHUNK // 256 + 100)  # a bit over four chunks


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", str(len(PAYLOAD)))
        self.end_headers()
        self.wfile.write(PAYLOAD)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def served(base: str, file_hash: str | None) -> Backbone:
    entry = backbone(SMALLEST)
    return replace(entry, origin=f"{base}/{entry.weights_file}", file_hash=file_hash)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_download_reports_progress_and_lands_in_the_keras_cache(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    entry = served(server, hashlib.md5(PAYLOAD).hexdigest())
    seen: list[tuple[int, int | None]] = []

    origin = download_weights(entry, progress=lambda done, total: seen.append((done, total)))

    target = tmp_path / "keras" / "models" / entry.weights_file
    assert target.read_bytes() == PAYLOAD
    assert origin.kind == "imagenet" and origin.path == str(target)
    assert origin.check == "matches Keras' published hash"
    assert seen[0] == (0, len(PAYLOAD)) and seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _t in seen] == sorted(d for d, _t in seen) and len(seen) >= 5
    assert cached_origin(entry) == origin  # the next project finds it there
    assert leftovers(target.parent) == [target.name]


def test_cancel_stops_the_download_and_keeps_nothing(server: str, tmp_path: Path) -> None:
    entry = served(server, hashlib.md5(PAYLOAD).hexdigest())
    seen: list[int] = []

    with pytest.raises(DownloadCancelled, match="nothing was kept"):
        download_weights(
            entry,
            progress=lambda done, _total: seen.append(done),
            cancelled=lambda: len(seen) > 2,
            target_dir=tmp_path,
        )

    assert 0 < seen[-1] < len(PAYLOAD)  # stopped part-way
    assert leftovers(tmp_path) == []


def test_a_file_whose_hash_differs_is_refused(server: str, tmp_path: Path) -> None:
    entry = served(server, "0" * 32)

    with pytest.raises(WeightsDownloadError, match="does not match Keras' published hash"):
        download_weights(entry, target_dir=tmp_path)

    assert leftovers(tmp_path) == []


def test_a_sha256_published_hash_is_checked_as_sha256(server: str, tmp_path: Path) -> None:
    entry = served(server, hashlib.sha256(PAYLOAD).hexdigest())
    assert download_weights(entry, target_dir=tmp_path).digest.startswith("sha256:")


def test_without_a_network_the_message_says_so_and_nothing_is_left(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a port nobody listens on: the connection is refused
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    entry = served(f"http://127.0.0.1:{port}", None)

    with pytest.raises(WeightsDownloadError) as caught:
        download_weights(entry, target_dir=tmp_path)

    message = str(caught.value)
    assert "offline" in message and entry.origin in message  # what to fetch elsewhere
    assert leftovers(tmp_path) == []


def test_the_catalog_is_what_keras_applications_pass_to_get_file(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every application is offered; for two (one whose file depends on the input size),
    the file, URL and hash are the arguments Keras' own code gives `get_file` (recorded by a
    stand-in that stops there: nothing is fetched)."""
    from keras.src.utils import file_utils

    from backend.exchange.pretrained_catalog import BACKBONES
    from backend.keras_env import import_keras

    keras = import_keras()
    assert set(BACKBONES) == {n for n in dir(keras.applications) if n[0].isupper()}

    class Asked(Exception):
        pass

    def record(fname: str, origin: str, **kwargs: object) -> None:
        raise Asked(fname, origin, kwargs.get("file_hash"))

    monkeypatch.setattr(file_utils, "get_file", record)
    for name, size in (("MobileNetV2", 96), ("VGG16", 32)):
        entry = backbone(name)
        extra = {"include_preprocessing": False} if entry.own_preprocessing else {}
        with pytest.raises(Asked) as asked:
            getattr(keras.applications, name)(
                include_top=False, weights="imagenet", input_shape=(size, size, 3), **extra
            )
        assert asked.value.args == (
            entry.weights_file_for(size),
            entry.origin_for(size),
            entry.file_hash,
        ), name
