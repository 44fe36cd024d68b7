"""What an invitation sheet holds per cadre, and the QR code of its deep link.

The QR codes are encoded in C++ (zxing-cpp) with a fixed mask, packed straight into 1-bit
PNGs, and rendered on every core for large sheets: 50,000 in a few seconds.
"""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

QR_SCALE = 3  # pixels per module: a 33-module link prints at about 2 cm, scans on a phone
# Data mask 2 (vertical stripes of three columns): any of the eight masks decodes; letting
# the encoder score all eight costs six times as long per code. The codes carry random
# letters, so no mask leaves the large blank or finder-like areas the scoring avoids.
QR_MASK = 2
POOL_MIN = 4_000  # codes below this are rendered in-process (a pool costs ~0.3 s to start)
CHUNK = 1_000  # codes per task handed to a worker process
_BIT = bytes.maketrans(bytes(range(256)), b"0" * 128 + b"1" * 128)  # a pixel > 127 is white


@dataclass(frozen=True, slots=True)
class SheetRow:
    name: str
    unit: str
    phone: str
    code: str
    link: str  # the deep link; empty when no Telegram bot name is configured


def qr_png(data: str, scale: int = QR_SCALE) -> bytes:
    """The QR code of `data` (error correction M) as a small 1-bit PNG with its quiet zone."""
    import zxingcpp

    code = zxingcpp.create_barcode(
        data, zxingcpp.BarcodeFormat.QRCode, ec_level="M", data_mask=QR_MASK
    )
    image = code.to_image(scale=1, add_quiet_zones=True)  # a byte a module
    rows, width = image.shape
    modules = memoryview(image).tobytes()  # type: ignore[arg-type]  # (stubs omit the buffer)
    # Each module row as "0"/"1" text widened `scale` times, read as one binary number: a
    # few C calls a row, as fast as numpy's packbits and without numpy's import at start.
    bits = modules.translate(_BIT).replace(b"0", b"0" * scale)
    bits = bits.replace(b"1", b"1" * scale)
    line = width * scale
    pad = b"0" * (-line % 8)
    size = (line + len(pad)) // 8
    raw = b"".join(
        (b"\0" + int(bits[y * line : (y + 1) * line] + pad, 2).to_bytes(size, "big")) * scale
        for y in range(rows)
    )  # filter type 0 before each scanline; 1 = white
    return _png_1bit(raw, line, rows * scale)


def _png_1bit(raw: bytes, width: int, height: int) -> bytes:
    """A greyscale 1-bit PNG of filtered scanlines: signature, IHDR, IDAT, IEND."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def _qr_chunk(links: list[str]) -> list[bytes]:
    return [qr_png(link) if link else b"" for link in links]


def qr_pngs(links: Sequence[str]) -> Iterator[bytes]:
    """The QR PNG of each link ("" for an empty link), in order.

    Large sheets are rendered in worker processes, a chunk at a time and at most a few chunks
    ahead of the writer, so memory stays bounded however large the county.
    """
    cores = os.cpu_count() or 1
    parts = [list(links[i : i + CHUNK]) for i in range(0, len(links), CHUNK)]
    if len(links) < POOL_MIN or cores < 2:
        for part in parts:
            yield from _qr_chunk(part)
        return
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    # spawn: the caller runs an event loop and database threads, which a fork would copy.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(cores, 8), mp_context=context) as pool:
        ahead = 2 * min(cores, 8)
        pending = [pool.submit(_qr_chunk, part) for part in parts[:ahead]]
        for index in range(len(parts)):
            yield from pending[index].result()
            pending[index] = None  # type: ignore[call-overload]
            if index + ahead < len(parts):
                pending.append(pool.submit(_qr_chunk, parts[index + ahead]))
