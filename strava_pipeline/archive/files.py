"""Find loose device files (FIT, GPX, TCX, gzipped or not) in files, folders and zips, and read them safely.

A Garmin Connect export, a Wahoo, Zwift or COROS folder, a phone share: whatever holds activity files. Folders are
walked recursively, zips are read in memory (never extracted: a hostile member name writes nowhere), a zip inside a
folder or inside a zip (Garmin's UploadedFiles_*.zip) is opened too, one level deep. Every member is bounded: a
file that inflates past MAX_FILE_BYTES, or past MAX_RATIO times its compressed size once it is bigger than
RATIO_FROM_BYTES, is a zip or gzip bomb and is skipped with the reason, before its bytes are all in memory.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
DEVICE_SUFFIXES = (".fit", ".gpx", ".tcx")
# the biggest real activity files are tens of MB (a 24-hour FIT with every sensor); a bomb is gigabytes
MAX_FILE_BYTES = 256 << 20
# real FIT/GPX/TCX compress 3-30x; a member past RATIO_FROM_BYTES that inflates more than MAX_RATIO x is a bomb
MAX_RATIO = 200
RATIO_FROM_BYTES = 8 << 20
# a zip found inside a folder or a zip is read into memory to be opened: this bounds that
MAX_NESTED_ZIP_BYTES = 1 << 30
_CHUNK = 1 << 16

SKIP_BOMB = "inflates past a sane size (a zip or gzip bomb?)"
SKIP_EMPTY_FILE = "empty file"
SKIP_UNREADABLE_ZIP = "damaged zip entry"


class Bomb(Exception):
    """A member inflates past the bounds above."""


@dataclass(frozen=True)
class FileRef:
    """Where one candidate file is: a path on disk, or a member of a zip (itself maybe a member of a zip)."""

    path: str  # the file on disk (the outer zip for members)
    member: str | None = None  # member path in the zip at `path`
    inner: str | None = None  # member path in the zip that `member` is

    @property
    def label(self) -> str:
        return "!".join(p for p in (self.path, self.member, self.inner) if p)

    @property
    def name(self) -> str:
        return (self.inner or self.member or self.path).replace("\\", "/").rsplit("/", 1)[-1]


@dataclass
class ReadFile:
    """A candidate's decompressed bytes, or why there are none; damaged = cut short (bytes before the damage)."""

    ref: FileRef
    data: bytes = b""
    sha256: str | None = None
    damaged: bool = False
    warnings: list[str] = field(default_factory=list)
    skip: str | None = None


def is_device_name(name: str) -> bool:
    low = name.lower()
    if low.endswith(".gz"):
        low = low[:-3]
    return low.endswith(DEVICE_SUFFIXES)


def _is_zip_name(name: str) -> bool:
    return name.lower().endswith(".zip")


def scan(path: Path, *, explicit: bool = True) -> tuple[list[FileRef], int]:
    """The candidate device files under path, and how many other files were passed over.

    A file named on the command line (explicit) is a candidate whatever its name: its content decides; inside
    folders and zips only device-file names (.fit/.gpx/.tcx, optionally .gz) and zips are looked at."""
    refs: list[FileRef] = []
    ignored = 0
    if path.is_dir():
        for dirpath, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
            for f in sorted(files):
                if f.startswith("."):
                    continue
                sub, n = scan(Path(dirpath, f), explicit=False)
                refs += sub
                ignored += n
        return refs, ignored
    if _is_zip_name(path.name) or (explicit and _starts_with(path, ZIP_MAGIC)):
        try:
            with zipfile.ZipFile(path) as zf:
                for info in zf.infolist():
                    if info.is_dir():
                        continue
                    name = info.filename.replace("\\", "/")
                    if name.startswith("__MACOSX/") or name.rsplit("/", 1)[-1].startswith("."):
                        continue
                    if is_device_name(name):
                        refs.append(FileRef(str(path), info.filename))
                    elif _is_zip_name(name):
                        refs += _nested(path, zf, info)
                    else:
                        ignored += 1
        except (zipfile.BadZipFile, OSError, EOFError, ValueError):
            refs.append(FileRef(str(path)))  # read_file says why it is not usable
        return refs, ignored
    if explicit or is_device_name(path.name):
        return [FileRef(str(path))], 0
    return [], 1


def _starts_with(path: Path, magic: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(magic)) == magic
    except OSError:
        return False


def _nested(path: Path, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> list[FileRef]:
    if info.file_size > MAX_NESTED_ZIP_BYTES:
        return [FileRef(str(path), info.filename)]  # read_file skips it as a bomb
    try:
        with zipfile.ZipFile(io.BytesIO(zf.read(info))) as inner:
            return [
                FileRef(str(path), info.filename, i.filename)
                for i in inner.infolist()
                if not i.is_dir() and is_device_name(i.filename)
            ]
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, zlib.error, NotImplementedError, RuntimeError):
        return []


def _bounded_read(fh, compressed_size: int | None) -> bytes:
    """Read fh to its end, raising Bomb past the bounds (the declared size of a zip member can lie)."""
    out = []
    total = 0
    while chunk := fh.read(_CHUNK):
        out.append(chunk)
        total += len(chunk)
        _check(total, compressed_size)
    return b"".join(out)


def _check(inflated: int, compressed: int | None) -> None:
    if inflated > MAX_FILE_BYTES:
        raise Bomb
    if compressed and inflated > RATIO_FROM_BYTES and inflated > MAX_RATIO * compressed:
        raise Bomb


def _gunzip(data: bytes) -> tuple[bytes, bool, list[str]]:
    """gzip bytes -> (content, damaged, warnings); Bomb past the bounds; a cut stream keeps what came before."""
    out: list[bytes] = []
    total = 0
    d = zlib.decompressobj(wbits=31)
    try:
        for pos in range(0, len(data), _CHUNK):
            buf = data[pos : pos + _CHUNK]
            while buf and not d.eof:
                # max_length bounds each step, so a bomb is caught before it is in memory
                piece = d.decompress(buf, _CHUNK * 4)
                out.append(piece)
                total += len(piece)
                _check(total, len(data))
                buf = d.unconsumed_tail
            if d.eof:
                break
    except zlib.error as exc:
        return b"".join(out), True, [f"gzip data is corrupt ({exc}); kept the {total} bytes before"]
    if not d.eof:
        return b"".join(out), True, [f"gzip data is truncated; kept the {total} bytes decompressed before"]
    return b"".join(out), False, []


def read_file(ref: FileRef) -> ReadFile:
    """The candidate's bytes, gunzipped when gzip (by content, not name), with its sha256; or why not."""
    result = ReadFile(ref)
    try:
        if ref.member is None:
            size = os.path.getsize(ref.path)
            if size > MAX_FILE_BYTES:
                raise Bomb
            with open(ref.path, "rb") as fh:
                raw = fh.read()
            if raw[:4] == ZIP_MAGIC:
                result.skip = "a zip that cannot be read (damaged, or holds no FIT, GPX or TCX file)"
                return result
        else:
            with zipfile.ZipFile(ref.path) as zf:
                info = zf.getinfo(ref.member)
                if ref.inner is None:
                    _check(info.file_size, info.compress_size)
                    with zf.open(info) as fh:
                        raw = _bounded_read(fh, info.compress_size)
                else:
                    _check(info.file_size, info.compress_size)
                    with zf.open(info) as fh:
                        outer = _bounded_read_limit(fh, MAX_NESTED_ZIP_BYTES, info.compress_size)
                    with zipfile.ZipFile(io.BytesIO(outer)) as inner_zip:
                        inner = inner_zip.getinfo(ref.inner)
                        _check(inner.file_size, inner.compress_size)
                        with inner_zip.open(inner) as fh:
                            raw = _bounded_read(fh, inner.compress_size)
    except Bomb:
        result.skip = SKIP_BOMB
        return result
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, KeyError) as exc:
        result.skip = f"{SKIP_UNREADABLE_ZIP} ({exc})"
        return result
    except OSError as exc:
        result.skip = f"cannot be read ({exc.strerror or exc})"
        return result
    if raw[:2] == GZIP_MAGIC:
        try:
            raw, result.damaged, result.warnings = _gunzip(raw)
        except Bomb:
            result.skip = SKIP_BOMB
            return result
    if not raw.strip():
        result.skip = SKIP_EMPTY_FILE
        return result
    result.data = raw
    result.sha256 = hashlib.sha256(raw).hexdigest()
    return result


def _bounded_read_limit(fh, limit: int, compressed_size: int | None) -> bytes:
    out = []
    total = 0
    while chunk := fh.read(_CHUNK):
        out.append(chunk)
        total += len(chunk)
        if total > limit or (compressed_size and total > RATIO_FROM_BYTES and total > MAX_RATIO * compressed_size):
            raise Bomb
    return b"".join(out)
