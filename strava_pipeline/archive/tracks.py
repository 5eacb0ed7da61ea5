"""Pick the parser for an activity file from its content (then its name) and run it."""

from __future__ import annotations

from strava_pipeline.archive.fit import parse_fit
from strava_pipeline.archive.gpx import parse_gpx
from strava_pipeline.archive.tcx import parse_tcx
from strava_pipeline.archive.types import TrackResult, failed
from strava_pipeline.archive.xmltext import root_name

PARSERS = {"fit": parse_fit, "gpx": parse_gpx, "tcx": parse_tcx}


def detect_format(data: bytes, name: str | None = None) -> str | None:
    """'fit', 'gpx', 'tcx' or None. The content decides first: the real export lists a
    `.bin.gz` (older 2024 export), so extensions cannot be trusted; the name is the fallback
    for content too damaged to recognise."""
    if len(data) >= 12 and data[8:12] == b".FIT":
        return "fit"
    root = root_name(data[:4096].decode("utf-8", errors="ignore").lstrip("\ufeff"))
    if root == "TrainingCenterDatabase":
        return "tcx"
    if root == "gpx":
        return "gpx"
    if name:
        stem = name.lower()
        if stem.endswith(".gz"):
            stem = stem[:-3]
        ext = stem.rsplit(".", 1)[-1] if "." in stem else ""
        if ext in PARSERS:
            return ext
    return None


def parse_track(data: bytes, name: str | None = None, summary: bool = False) -> TrackResult:
    """Detect the format and parse; an unrecognised file gives an empty damaged result.

    summary=True: GPX totals are measured too (FIT and TCX declare theirs; see TrackResult.summary).

    When data is a reader.MemberBytes that was cut short, the result is damaged too and
    carries the archive's warnings first.
    """
    fmt = detect_format(data, name)
    if fmt is None:
        result = failed(f"not a FIT, GPX or TCX file{f' ({name})' if name else ''}")
    else:
        result = parse_gpx(data, summary=True) if fmt == "gpx" and summary else PARSERS[fmt](data)
    member_warnings = getattr(data, "warnings", None)
    if member_warnings:
        result.warnings = list(member_warnings) + result.warnings
    if getattr(data, "damaged", False):
        result.damaged = True
    return result
