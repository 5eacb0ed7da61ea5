"""Open a Strava bulk-export archive (the .zip or its unpacked folder) and read its members safely.

Members are read into memory, never extracted, so a hostile name cannot write anywhere; names
from activities.csv are normalised and refused when they leave the archive root. `.gz` members
(and any member that starts with the gzip magic) are gunzipped; a truncated or corrupt member
gives what decompressed before the damage, flagged on the returned bytes.
"""

from __future__ import annotations

import os
import zipfile
import zlib
from pathlib import Path, PurePosixPath

CSV_NAME = "activities.csv"
GZIP_MAGIC = b"\x1f\x8b"

# A member that inflates past this is cut there (damaged): nothing real comes close (the
# biggest activity files are tens of MB), a gzip or zip bomb does.
MAX_MEMBER_BYTES = 1 << 30
# ... and so is one that inflates more than MAX_RATIO times its compressed size once past RATIO_FROM_BYTES
# (real FIT/GPX/TCX compress 3-30x; a bomb of zeros compresses ~1000x)
MAX_RATIO = 200
RATIO_FROM_BYTES = 8 << 20
_READ_CHUNK = 1 << 16

# Folders that zip tools add next to the real content and that never hold the export.
_JUNK_TOP_LEVEL = {"__MACOSX"}


class ArchiveError(Exception):
    """The path cannot be used as a Strava export; the message says what to do."""


class MemberBytes(bytes):
    """The bytes of one member, plus where they came from and whether they are complete.

    A bytes subclass so it can go straight to parse_<fmt>(data); `damaged` is True when the
    member could not be read or decompressed to its end (the bytes are what came before).
    """

    name: str
    damaged: bool
    warnings: list[str]

    def __new__(cls, data: bytes, name: str, damaged: bool = False, warnings: list[str] | None = None):
        obj = super().__new__(cls, data)
        obj.name = name
        obj.damaged = damaged
        obj.warnings = list(warnings or [])
        return obj


def gunzip(data: bytes, limit: int = MAX_MEMBER_BYTES) -> tuple[bytes, bool, list[str]]:
    """Decompress gzip bytes, keeping what came out before any damage.

    Returns (data, damaged, warnings). Handles concatenated gzip members; a truncated stream or
    a corrupt block ends the output there with damaged=True instead of raising.
    """
    out: list[bytes] = []
    total = 0
    pos = 0
    warnings: list[str] = []
    while pos < len(data):
        d = zlib.decompressobj(wbits=31)  # 31: gzip header and trailer
        i = pos
        while i < len(data) and not d.eof:
            chunk = data[i : i + _READ_CHUNK]
            saved = d.copy()
            try:
                piece = d.decompress(chunk, max(limit - total, 1))
            except zlib.error as exc:
                # the failing call returns nothing: replay this chunk in small steps from the
                # saved state to keep the output up to the corrupt byte
                out.append(_salvage(saved, chunk))
                total = sum(map(len, out))
                warnings.append(f"gzip data is corrupt ({exc}); kept the {total} bytes decompressed before")
                return b"".join(out), True, warnings
            consumed = len(chunk) - len(d.unconsumed_tail) if d.unconsumed_tail else len(chunk)
            out.append(piece)
            total += len(piece)
            if total >= limit and not d.eof:
                warnings.append(f"gzip member inflates past {limit} bytes; cut there")
                return b"".join(out), True, warnings
            i += consumed
        if not d.eof:
            try:
                out.append(d.flush())
            except zlib.error:
                pass
            warnings.append(f"gzip data is truncated; kept the {sum(map(len, out))} bytes decompressed before")
            return b"".join(out), True, warnings
        pos = i - len(d.unused_data)
        rest = data[pos:]
        if not rest.startswith(GZIP_MAGIC):
            if rest.strip(b"\x00"):
                warnings.append(f"{len(rest)} bytes of trailing garbage after the gzip data ignored")
            break
    return b"".join(out), False, warnings


def _salvage(d, chunk: bytes, step: int = 64) -> bytes:
    """Feed chunk in `step`-byte pieces until zlib fails; what came out before is returned."""
    out = []
    for j in range(0, len(chunk), step):
        try:
            out.append(d.decompress(chunk[j : j + step]))
        except zlib.error:
            break
    return b"".join(out)


def _clean_relpath(relpath: str) -> str | None:
    """Normalise a member path from the CSV; None when it is absolute or climbs out of the root."""
    rel = relpath.strip().replace("\\", "/")
    if not rel or rel.startswith("/") or (len(rel) > 1 and rel[1] == ":"):
        return None
    parts = [p for p in PurePosixPath(rel).parts if p not in ("", ".")]
    if not parts or any(p == ".." for p in parts):
        return None
    return "/".join(parts)


def _gz_twin(rel: str) -> str:
    # a member listed as x.gpx may have been stored gzipped, or a listed .gz unpacked by the user
    return rel[:-3] if rel.lower().endswith(".gz") else rel + ".gz"


class Archive:
    """An opened export. Use open_archive(); close() or `with` releases the zip file."""

    def __init__(self, path: Path, kind: str):
        self.path = path
        self.kind = kind  # "zip" or "folder"
        self.warnings: list[str] = []

    # --- implemented by the two kinds -------------------------------------------------------
    def _exists(self, rel: str) -> bool:
        raise NotImplementedError

    def _read_raw(self, rel: str) -> tuple[bytes, bool, list[str]]:
        raise NotImplementedError

    def members(self) -> list[str]:
        """Every file in the export, as paths relative to the folder that holds activities.csv."""
        raise NotImplementedError

    def close(self) -> None:
        pass

    # --- public API -------------------------------------------------------------------------
    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def read_csv_bytes(self) -> MemberBytes:
        """The raw bytes of activities.csv (a MemberBytes: `.damaged` if it could not be read to the end)."""
        data = self.open_member(CSV_NAME)
        if data is None:  # checked by open_archive; only a folder changed underneath gets here
            raise ArchiveError(f"{CSV_NAME} disappeared from {self.path}; check the export is complete and retry.")
        return data

    def resolve(self, relpath: str | None) -> str | None:
        """The member path that relpath (a Filename from the CSV) refers to, or None when missing or unsafe."""
        if not relpath or not relpath.strip():
            return None
        rel = _clean_relpath(relpath)
        if rel is None:
            self.warnings.append(f"refused member path outside the archive: {relpath!r}")
            return None
        for candidate in (rel, _gz_twin(rel)):
            if self._exists(candidate):
                return candidate
        return None

    def open_member(self, relpath: str | None) -> MemberBytes | None:
        """The member's bytes, gunzipped when gzip; None when it is not in the archive.

        The result is a MemberBytes: `.name` is the member read, `.damaged`/`.warnings` say
        whether the zip entry or the gzip stream was cut short or corrupt.
        """
        rel = self.resolve(relpath)
        if rel is None:
            return None
        data, damaged, warnings = self._read_raw(rel)
        if data[:2] == GZIP_MAGIC:
            limit = min(MAX_MEMBER_BYTES, max(RATIO_FROM_BYTES, MAX_RATIO * len(data)))
            data, gz_damaged, gz_warnings = gunzip(data, limit)
            damaged = damaged or gz_damaged
            warnings += gz_warnings
        elif rel.lower().endswith(".gz") and data:
            warnings.append("named .gz but not gzip data; used as it is")
        return MemberBytes(data, rel, damaged, warnings)


class _ZipArchive(Archive):
    def __init__(self, path: Path, zf: zipfile.ZipFile):
        super().__init__(path, "zip")
        self._zf = zf
        infos: dict[str, zipfile.ZipInfo] = {}
        for info in zf.infolist():
            if info.is_dir():
                continue
            name = info.filename.replace("\\", "/")  # zips written on Windows may use backslashes
            infos.setdefault(name, info)
        self._prefix = _find_root(infos.keys())
        if self._prefix is None:
            zf.close()
            raise ArchiveError(
                f"{path} has no {CSV_NAME} at its root (or in a single top-level folder): pass the "
                f"export .zip exactly as Strava sent it."
            )
        self._infos = {name[len(self._prefix) :]: info for name, info in infos.items() if name.startswith(self._prefix)}
        try:
            # a zip with a broken directory can list its names and still fail on every read
            with zf.open(self._infos[CSV_NAME]) as fh:
                fh.read(1)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            zf.close()
            raise ArchiveError(
                f"{path} is a damaged zip file ({exc}): download the export again, or unpack it with "
                f"another tool and pass the folder."
            ) from exc

    def _exists(self, rel: str) -> bool:
        return rel in self._infos

    def members(self) -> list[str]:
        return sorted(self._infos)

    def _read_raw(self, rel: str) -> tuple[bytes, bool, list[str]]:
        info = self._infos[rel]
        out: list[bytes] = []
        total = 0
        try:
            with self._zf.open(info) as fh:
                while True:
                    chunk = fh.read(_READ_CHUNK)
                    if not chunk:
                        break
                    out.append(chunk)
                    total += len(chunk)
                    if total > MAX_MEMBER_BYTES:
                        warning = f"zip entry inflates past {MAX_MEMBER_BYTES} bytes; cut there"
                        return b"".join(out), True, [warning]
                    if total > RATIO_FROM_BYTES and total > MAX_RATIO * max(info.compress_size, 1):
                        warning = f"zip entry inflates more than {MAX_RATIO} times its size (a zip bomb?); cut there"
                        return b"".join(out), True, [warning]
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, RuntimeError) as exc:
            # RuntimeError: encrypted entry; NotImplementedError: unsupported compression
            return b"".join(out), True, [f"zip entry is damaged or unreadable ({exc}); kept the {total} bytes read"]
        return b"".join(out), False, []

    def close(self) -> None:
        self._zf.close()


class _FolderArchive(Archive):
    def __init__(self, path: Path, root: Path):
        super().__init__(path, "folder")
        self._root = root.resolve()

    def _full(self, rel: str) -> Path | None:
        full = (self._root / rel).resolve()
        # resolve() follows symlinks: a link pointing outside the export is refused too
        if not full.is_relative_to(self._root) or not full.is_file():
            return None
        return full

    def _exists(self, rel: str) -> bool:
        return self._full(rel) is not None

    def members(self) -> list[str]:
        out = []
        for dirpath, _dirs, files in os.walk(self._root):
            for f in files:
                out.append(Path(dirpath, f).relative_to(self._root).as_posix())
        return sorted(out)

    def _read_raw(self, rel: str) -> tuple[bytes, bool, list[str]]:
        full = self._full(rel)
        try:
            with open(full, "rb") as fh:
                data = fh.read(MAX_MEMBER_BYTES + 1)
        except OSError as exc:
            return b"", True, [f"cannot read {rel} ({exc.strerror or exc})"]
        if len(data) > MAX_MEMBER_BYTES:
            return data[:MAX_MEMBER_BYTES], True, [f"file is larger than {MAX_MEMBER_BYTES} bytes; cut there"]
        return data, False, []


def _find_root(names) -> str | None:
    """'' when activities.csv is at the root, 'folder/' when one top-level folder holds it, else None."""
    names = set(names)
    if CSV_NAME in names:
        return ""
    tops = {n.split("/", 1)[0] for n in names if "/" in n} - _JUNK_TOP_LEVEL
    holders = [t for t in tops if f"{t}/{CSV_NAME}" in names]
    return f"{holders[0]}/" if len(holders) == 1 else None


def open_archive(path: str | os.PathLike) -> Archive:
    """Open a Strava export given as the .zip file or the folder it was unpacked into.

    Raises ArchiveError (a one-sentence message saying what to do) when the path does not exist,
    is neither a zip nor a folder, is a corrupt zip, or holds no activities.csv at its root or in
    a single top-level folder.
    """
    p = Path(path).expanduser()
    if not p.exists():
        raise ArchiveError(
            f"{p} does not exist: pass the path of your Strava export .zip or of the folder it was unpacked into."
        )
    if p.is_dir():
        root = p
        if not (p / CSV_NAME).is_file():
            subs = [c for c in p.iterdir() if c.is_dir() and c.name not in _JUNK_TOP_LEVEL and (c / CSV_NAME).is_file()]
            if len(subs) != 1:
                raise ArchiveError(
                    f"{p} has no {CSV_NAME} (nor a single sub-folder with one): pass the folder the "
                    f"Strava export .zip was unpacked into."
                )
            root = subs[0]
        return _FolderArchive(p, root)
    if not p.is_file():
        raise ArchiveError(f"{p} is neither a file nor a folder: pass the Strava export .zip or its unpacked folder.")
    try:
        is_zip = zipfile.is_zipfile(p)
    except OSError as exc:
        raise ArchiveError(f"{p} cannot be read ({exc.strerror or exc}): check its permissions and retry.") from exc
    if not is_zip:
        with open(p, "rb") as fh:
            magic = fh.read(4)
        if magic == b"PK\x03\x04":  # starts like a zip but has no readable directory: cut short
            raise ArchiveError(
                f"{p} is a damaged or incomplete zip file: download the export again, or unpack it with "
                f"another tool and pass the folder."
            )
        raise ArchiveError(
            f"{p} is not a zip file: pass the export .zip as downloaded from Strava, or the folder it was "
            f"unpacked into."
        )
    try:
        zf = zipfile.ZipFile(p)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveError(
            f"{p} is a damaged zip file ({exc}): download the export again, or unpack it with another tool "
            f"and pass the folder."
        ) from exc
    return _ZipArchive(p, zf)
