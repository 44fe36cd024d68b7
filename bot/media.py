"""The media directory: photos and voice messages kept as evidence, under their content's sha256.

A file is referred to as "media:<sha256>.<ext>" (what contacts.photo_refs holds: the
evidence of a contact, photos and voice messages, told apart by the extension) and lives
at MEDIA_DIR/<first two hex digits>/<sha256>.<ext>. The same photo sent twice is stored once.
Files are written to a temporary name and renamed, so a crash never leaves half a photo
under a real name. Directories are created 0700 and files 0600: household photos are
personal data.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from bot.config import ConfigError

MAX_BYTES = 10 * 1024 * 1024  # a phone photo is 1-5 MB; WeCom's own image limit is 10 MB
PREFIX = "media:"

# Extensions by the file's first bytes: what it is, not what the server says it is.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "jpg"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"BM", "bmp"),
)
# Voice messages: WeCom sends AMR (or SILK/Speex), Telegram OGG/Opus.
_AUDIO_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"#!AMR", "amr"),
    (b"#!SILK", "silk"),
    (b"\x02#!SILK", "silk"),
    (b"OggS", "ogg"),
    (b"ID3", "mp3"),
    (b"Speex", "spx"),
)
_REF = re.compile(r"^media:([0-9a-f]{64})\.(jpg|png|gif|bmp|webp|amr|silk|ogg|mp3|spx)$")


class MediaRefused(Exception):
    """The file is not a photo we keep (not an image, empty, too large)."""


def audio_extension(data: bytes, content_type: str) -> str:
    """The extension for a voice message, judged by its bytes; MediaRefused otherwise."""
    if not content_type.lower().startswith(("audio/", "voice/")):
        raise MediaRefused(f"not audio: {content_type[:40]!r}")
    for magic, ext in _AUDIO_MAGIC:
        if data.startswith(magic):
            return ext
    raise MediaRefused("unknown audio format")


def media_extension(data: bytes, content_type: str) -> str:
    """An image's or a voice message's extension; MediaRefused for anything else."""
    if content_type.lower().startswith(("audio/", "voice/")):
        return audio_extension(data, content_type)
    return image_extension(data, content_type)


def image_extension(data: bytes, content_type: str) -> str:
    """The extension for an image, judged by its bytes; MediaRefused for anything else."""
    if not content_type.lower().startswith("image/"):
        raise MediaRefused(f"not an image: {content_type[:40]!r}")
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    for magic, ext in _MAGIC:
        if data.startswith(magic):
            return ext
    raise MediaRefused("unknown image format")


class MediaStore:
    """Content-addressed photo files in one directory."""

    def __init__(self, root: str | Path, *, max_bytes: int = MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = max_bytes

    def check(self) -> None:
        """Create the directory if needed; ConfigError naming the setting if it is unusable."""
        try:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.root, prefix=".probe-"):
                pass
        except OSError as exc:
            raise ConfigError(
                f"配置错误 / bad setting BANGFU_MEDIA_DIR: {self.root} is not writable "
                f"({exc.strerror})"
            ) from None

    def path_of(self, ref: str) -> Path | None:
        """The file behind a "media:" reference, or None when `ref` is not one."""
        m = _REF.match(ref)
        if m is None:
            return None
        return self.root / m[1][:2] / f"{m[1]}.{m[2]}"

    def save(self, data: bytes, content_type: str) -> str:
        """Store an image or a voice message and return its reference; MediaRefused when it
        is not one we keep."""
        if not data:
            raise MediaRefused("empty file")
        if len(data) > self.max_bytes:
            raise MediaRefused("file too large")
        ext = media_extension(data, content_type)
        ref = f"{PREFIX}{hashlib.sha256(data).hexdigest()}.{ext}"
        path = self.path_of(ref)
        assert path is not None
        if path.exists() and path.stat().st_size == len(data):
            return ref  # the same photo again: already kept
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".part-")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o600)  # household photos are personal data: owner-only
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return ref
