"""Image sizes read from file headers, without decoding: a small file can claim 26000 x 26000
pixels (a "decompression bomb"), which decoding and resizing would turn into gigabytes."""

from __future__ import annotations

import struct

MAX_PIXELS = 178_956_970
"""Pillow's limit for a decompression bomb (2 x its warning size): a 50-megapixel photo
passes; decoding and resizing one image this big already takes about 2 GB."""
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def read_image_size(path: str) -> tuple[int, int] | None:
    """`image_size` of a file: its first KiB, more only for a JPEG whose frame header comes
    after a long EXIF block (up to 64 KiB); None when unreadable or unknown."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(1024)
            size = image_size(head)
            if size is None and head.startswith(b"\xff\xd8"):
                size = image_size(head + handle.read(63 * 1024))
    except OSError:
        return None
    return size


def image_size(head: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG, GIF, BMP, WebP or JPEG from its first bytes; None if unknown."""
    if head.startswith(b"\x89PNG\r\n\x1a\n") and len(head) >= 24:
        return struct.unpack(">II", head[16:24])
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        return struct.unpack("<HH", head[6:10])
    if head.startswith(b"BM") and len(head) >= 26:
        width, height = struct.unpack("<ii", head[18:26])
        return abs(width), abs(height)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return _webp_size(head)
    if head.startswith(b"\xff\xd8"):
        return _jpeg_size(head)
    return None


def _webp_size(head: bytes) -> tuple[int, int] | None:
    kind = head[12:16]
    if kind == b"VP8X" and len(head) >= 30:
        width = int.from_bytes(head[24:27], "little") + 1
        return width, int.from_bytes(head[27:30], "little") + 1
    if kind == b"VP8 " and len(head) >= 30:
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if kind == b"VP8L" and len(head) >= 25:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return None


def _jpeg_size(head: bytes) -> tuple[int, int] | None:
    """The frame header (SOFn) among the first markers; None when not in `head`."""
    i = 2
    while i + 9 <= len(head):
        if head[i] != 0xFF:
            return None
        marker = head[i + 1]
        if marker in _JPEG_SOF:
            height, width = struct.unpack(">HH", head[i + 5 : i + 9])
            return width, height
        length = struct.unpack(">H", head[i + 2 : i + 4])[0]
        i += 2 + length
    return None
