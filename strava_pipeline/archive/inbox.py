"""The inbox: Strava exports and device files dropped into <data dir>/inbox/ are imported, then moved out of the way.

A watch folder a user can point Garmin Express, a Syncthing folder or a phone share at. Each top-level entry (a
file, a zip, a folder) is one item: a Strava export goes through import_archive, anything else through
import_files (all device-file items of one call in one import). Done items move to inbox/done/, items with
nothing importable to inbox/failed/ beside `<name>.why.txt`. An item still being written is left alone: names a
browser or copy tool gives partial files (.part, .crdownload...), anything changed in the last min_age_s seconds,
and anything whose size or time changes during a short settle_s look are all picked up by a later call.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from strava_pipeline.archive.fileimport import SKIP_KNOWN, FileImportSummary, find_files, import_files
from strava_pipeline.archive.importer import (
    INBOX_DONE,
    INBOX_FAILED,
    INBOX_LEDGER,
    INBOX_SUBDIR,
    ImportSummary,
    import_archive,
)
from strava_pipeline.archive.reader import ArchiveError, open_archive
from strava_pipeline.progress import Reporter

WHY_SUFFIX = ".why.txt"
# names of files still being written by a browser, a sync or a copy tool
PARTIAL_SUFFIXES = (".part", ".crdownload", ".download", ".tmp", ".partial", ".!sync", ".syncthing")
PARTIAL_PREFIXES = (".", "~", ".syncthing.")
MIN_AGE_S = 15.0
SETTLE_S = 2.0


@dataclass
class InboxItem:
    """One entry found in the inbox and what became of it; `path` is where it is now."""

    name: str
    status: str  # imported | duplicate | failed | interrupted | waiting
    path: Path
    summary: ImportSummary | FileImportSummary | None = None
    error: str | None = None


def inbox_dir(data_dir: Path) -> Path:
    return data_dir / INBOX_SUBDIR


def _is_partial(name: str) -> bool:
    low = name.lower()
    return low.startswith(PARTIAL_PREFIXES) or low.endswith(PARTIAL_SUFFIXES)


def _fingerprint(path: Path) -> tuple:
    """Sizes and times of everything in path: a copy in progress changes it."""
    if path.is_file():
        st = path.stat()
        return ((path.name, st.st_size, st.st_mtime_ns),)
    out = []
    for dirpath, _dirs, files in os.walk(path):
        for f in files:
            try:
                st = os.stat(os.path.join(dirpath, f))
            except OSError:
                continue
            out.append((os.path.join(dirpath, f), st.st_size, st.st_mtime_ns))
    return tuple(sorted(out))


def _latest_mtime(fingerprint: tuple) -> float:
    return max((m for _, _, m in fingerprint), default=0) / 1e9


def _partial_inside(path: Path) -> bool:
    if path.is_file():
        return False
    return any(_is_partial(f) for _dirpath, _dirs, files in os.walk(path) for f in files)


def _is_export(path: Path) -> bool:
    try:
        open_archive(path).close()
        return True
    except ArchiveError:
        return False


def import_inbox(
    data_dir: Path,
    reporter: Reporter | None = None,
    *,
    clock=None,
    min_age_s: float = MIN_AGE_S,
    settle_s: float = SETTLE_S,
    lock_wait_s: float | None = 600.0,
    workers: int | None = None,
    athlete_id: int | None = None,
) -> list[InboxItem]:
    """Import what waits in <data_dir>/inbox/ (see the module docstring); oldest first, each once.

    An imported export's sha256 goes into inbox/done/imported.jsonl, so the same zip dropped again moves straight
    to done/ (status 'duplicate'); device files are recognised by their content in the warehouse itself. A Ctrl-C
    leaves the item where it is; the next call completes it. `athlete_id` (`--athlete ID`): whose files these are."""
    inbox = inbox_dir(data_dir)
    if not inbox.is_dir():
        return []
    done, failed = inbox / INBOX_DONE, inbox / INBOX_FAILED
    ledger = done / INBOX_LEDGER
    known = _ledger_hashes(ledger)
    options = dict(clock=clock, lock_wait_s=lock_wait_s, holder="import_inbox", workers=workers, athlete_id=athlete_id)
    candidates = [p for p in inbox.iterdir() if p.name not in (INBOX_DONE, INBOX_FAILED) and not _is_partial(p.name)]
    before = {p: _fingerprint(p) for p in candidates}
    if settle_s > 0 and candidates:
        time.sleep(settle_s)
    now = time.time()
    items: list[InboxItem] = []
    ready: list[Path] = []
    for path in sorted(candidates, key=lambda p: (_latest_mtime(before[p]), p.name)):
        fingerprint = _fingerprint(path) if path.exists() else None
        if (
            fingerprint != before[path]
            or now - _latest_mtime(fingerprint) < min_age_s
            or _partial_inside(path)
            or not fingerprint
        ):
            items.append(InboxItem(path.name, "waiting", path))
        else:
            ready.append(path)
    device: list[Path] = []
    for path in ready:
        if not _is_export(path):
            device.append(path)
            continue
        digest = _sha256(path) if path.is_file() else None
        if digest is not None and digest in known:
            items.append(InboxItem(path.name, "duplicate", _move(path, done)))
            continue
        try:
            summary = import_archive(path, data_dir, reporter, **options)
        except ArchiveError as exc:
            items.append(_fail(path, failed, str(exc)))
            continue
        if summary.interrupted:
            items.append(InboxItem(path.name, "interrupted", path, summary))
            return items
        target = _move(path, done)
        _ledger_add(ledger, path.name, digest, activities=summary.activities, points=summary.points)
        if digest:
            known.add(digest)
        items.append(InboxItem(path.name, "imported", target, summary))
    if device:
        items += _import_device_items(device, data_dir, reporter, done, failed, options)
    return items


def _import_device_items(paths, data_dir, reporter, done, failed, options: dict) -> list[InboxItem]:
    """All device files of the inbox in one import; `options`: import_files' keyword arguments."""
    items: list[InboxItem] = []
    refs_by_path = {}
    for path in paths:
        try:
            refs, _ignored = find_files([path])
        except ArchiveError as exc:  # gone since the scan
            items.append(InboxItem(path.name, "failed", path, error=str(exc)))
            continue
        if not refs:
            items.append(_fail(path, failed, f"{path.name} is neither a Strava export nor a FIT, GPX or TCX file."))
            continue
        refs_by_path[path] = refs
    if not refs_by_path:
        return items
    all_refs = [r for refs in refs_by_path.values() for r in refs]
    summary = import_files(list(refs_by_path), data_dir, reporter, refs=all_refs, **options)
    if summary.interrupted:
        return items + [InboxItem(p.name, "interrupted", p, summary) for p in refs_by_path]
    skipped: dict[str, str] = dict(summary.skipped_files)
    for path, refs in refs_by_path.items():
        reasons = [(r.label, skipped[r.label]) for r in refs if r.label in skipped]
        bad = [(label, why) for label, why in reasons if why != SKIP_KNOWN]
        if len(bad) == len(refs):
            why = "; ".join(f"{Path(label).name}: {reason}" for label, reason in bad[:20])
            items.append(_fail(path, failed, f"nothing importable in {path.name} ({why})."))
            continue
        status = "duplicate" if len(reasons) == len(refs) else "imported"
        target = _move(path, done)
        if bad:  # a folder or zip with some unreadable files: say which beside it
            target.with_name(target.name + WHY_SUFFIX).write_text("".join(f"{lbl}: {w}\n" for lbl, w in bad))
        items.append(InboxItem(path.name, status, target, summary))
    return items


def _fail(path: Path, failed: Path, why: str) -> InboxItem:
    target = _move(path, failed)
    target.with_name(target.name + WHY_SUFFIX).write_text(f"{why}\n")
    return InboxItem(path.name, "failed", target, error=why)


def _ledger_add(ledger: Path, name: str, digest: str | None, **counts) -> None:
    ledger.parent.mkdir(parents=True, exist_ok=True)
    with open(ledger, "a") as fh:
        fh.write(json.dumps({"name": name, "sha256": digest, "imported_at": _utc_now(), **counts}) + "\n")


def _ledger_hashes(ledger: Path) -> set[str]:
    if not ledger.is_file():
        return set()
    hashes = set()
    for line in ledger.read_text().splitlines():
        try:
            digest = json.loads(line).get("sha256")
        except (ValueError, AttributeError):
            continue  # a line cut by a crash: the archive is imported again, which changes nothing
        if digest:
            hashes.add(digest)
    return hashes


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _move(path: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / path.name
    i = 2
    while target.exists() or target.with_name(target.name + WHY_SUFFIX).exists():
        stem, dot, ext = path.name.partition(".")
        target = folder / f"{stem} ({i}){dot}{ext}"
        i += 1
    shutil.move(str(path), str(target))
    return target


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
