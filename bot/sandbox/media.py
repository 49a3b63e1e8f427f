"""Files the emulated Telegram stores, and small real images made without any imaging library."""

from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from functools import cache

_FOLDERS = {
    "photo": "photos",
    "document": "documents",
    "voice": "voice",
    "sticker": "stickers",
    "video": "videos",
    "audio": "music",
    "animation": "animations",
    "video_note": "video_notes",
    "thumbnail": "thumbnails",
}
# Real file_ids start with a kind-specific prefix; keeping that makes logs look familiar.
_ID_PREFIX = {
    "photo": "AgACAgIAAxkBAAI",
    "document": "BQACAgIAAxkBAAI",
    "voice": "AwACAgIAAxkBAAI",
    "sticker": "CAACAgIAAxkBAAI",
    "video": "BAACAgIAAxkBAAI",
}


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes = field(repr=False)
    file_path: str = ""
    file_name: str | None = None
    mime_type: str | None = None
    width: int | None = None
    height: int | None = None

    @property
    def file_size(self) -> int:
        return len(self.data)


class FileStore:
    def __init__(self) -> None:
        self._by_id: dict[str, StoredFile] = {}
        self._by_path: dict[str, StoredFile] = {}
        self._counter = 0

    def add(
        self,
        data: bytes,
        kind: str,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> StoredFile:
        self._counter += 1
        n = self._counter
        ext = extension_for(data, file_name, mime_type, kind)
        stored = StoredFile(
            file_id=f"{_ID_PREFIX.get(kind, 'BQACAgIAAxkBAAI')}{n:06d}-sandbox",
            file_unique_id=f"AQAD{n:06d}",
            kind=kind,
            data=data,
            file_path=f"{_FOLDERS.get(kind, 'documents')}/file_{n}.{ext}",
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self._by_id[stored.file_id] = stored
        self._by_path[stored.file_path] = stored
        return stored

    def __len__(self) -> int:
        return self._counter

    def get(self, file_id: str) -> StoredFile | None:
        return self._by_id.get(file_id)

    def by_path(self, file_path: str) -> StoredFile | None:
        return self._by_path.get(file_path)


def image_format(data: bytes) -> str | None:
    """'jpeg', 'png', 'gif', 'webp' or 'bmp' from the magic bytes, else None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"BM"):
        return "bmp"
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) read from a PNG, GIF or JPEG header."""
    fmt = image_format(data)
    if fmt == "png" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if fmt == "gif" and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if fmt == "jpeg":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                return None
            marker = data[i + 1]
            length = struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(width), int(height)
            i += 2 + int(length)
    return None


def extension_for(data: bytes, file_name: str | None, mime_type: str | None, kind: str) -> str:
    fmt = image_format(data)
    if kind in ("photo", "thumbnail") and fmt is not None:
        return "jpg" if fmt == "jpeg" else fmt
    if kind == "voice":
        return "oga"
    if kind == "sticker":
        return "webp"
    if file_name and "." in file_name:
        return file_name.rsplit(".", 1)[1].lower()[:8] or "bin"
    if mime_type and "/" in mime_type:
        return mime_type.split("/", 1)[1].split(";")[0][:8]
    return "jpg" if fmt == "jpeg" else (fmt or "bin")


# ---- image synthesis ----------------------------------------------------------------------------


@cache  # deterministic, and encoding in pure Python costs milliseconds a picture
def make_png(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """A real RGB PNG with a diagonal gradient (different seeds give different bytes)."""
    rows = bytearray()
    for y in range(height):
        rows.append(0)  # filter type None
        for x in range(width):
            rows += bytes(((x * 4 + seed * 37) % 256, (y * 5 + seed * 11) % 256, ((x + y) * 3) % 256))

    def chunk(tag: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(bytes(rows))) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


class _BitWriter:
    """Huffman-coded bits, kept as a string of '0' and '1' and packed once: a picture is ten thousand codes."""

    def __init__(self) -> None:
        self._bits: list[str] = []

    def write(self, value: int, length: int) -> None:
        self._bits.append(format(value & ((1 << length) - 1), f"0{length}b"))

    def flush(self) -> bytes:
        bits = "".join(self._bits)
        bits += "1" * (-len(bits) % 8)  # pad the last byte with ones
        packed = int(bits, 2).to_bytes(len(bits) // 8, "big") if bits else b""
        return packed.replace(b"\xff", b"\xff\x00")  # byte stuffing


@cache  # as make_png
def make_jpeg(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    """A real baseline JPEG: a checker of flat-coloured 8x8 blocks.

    Flat blocks have only a DC coefficient, so the encoder needs no DCT: with an all-ones
    quantisation table the DC term is 8 * (level - 128), and every block's AC part is just EOB.
    """

    def segment(marker: int, body: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(body) + 2) + body

    jfif = segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    dqt = segment(0xDB, b"\x00" + b"\x01" * 64)
    sof = segment(0xC0, struct.pack(">BHHB", 8, height, width, 3) + b"\x01\x11\x00\x02\x11\x00\x03\x11\x00")
    # DC table: categories 0..11 all get 4-bit codes (0000..1011); AC table: only EOB, code "0".
    dht_dc = segment(0xC4, b"\x00" + bytes([0, 0, 0, 12] + [0] * 12) + bytes(range(12)))
    dht_ac = segment(0xC4, b"\x10" + bytes([1] + [0] * 15) + b"\x00")
    sos = segment(0xDA, b"\x03\x01\x00\x02\x00\x03\x00\x00\x3f\x00")

    writer = _BitWriter()
    previous = [0, 0, 0]
    for by in range((height + 7) // 8):
        for bx in range((width + 7) // 8):
            red = (bx * 9 + seed * 53) % 256
            green = (by * 11 + seed * 29) % 256
            blue = 200 if (bx + by) % 2 else 60
            levels = (
                0.299 * red + 0.587 * green + 0.114 * blue,
                128 - 0.168736 * red - 0.331264 * green + 0.5 * blue,
                128 + 0.5 * red - 0.418688 * green - 0.081312 * blue,
            )
            for component, level in enumerate(levels):
                dc = 8 * (round(level) - 128)
                diff = dc - previous[component]
                previous[component] = dc
                size = abs(diff).bit_length()
                writer.write(size, 4)
                if size:
                    writer.write(diff if diff > 0 else diff + (1 << size) - 1, size)
                writer.write(0, 1)  # EOB
    return b"\xff\xd8" + jfif + dqt + sof + dht_dc + dht_ac + sos + writer.flush() + b"\xff\xd9"
