"""Read a GPX activity file (bytes) into a stream table with gpxpy.

Decisions, from the real files (see the reference NOTES.md):
- All <trk> and <trkseg> are read in file order into one stream; empty ones add nothing.
- Every <trkpt> becomes a point. A point without <time>, or with an impossible one (Mojstrovka.gpx:
  every time is 1901-12-13, a broken clock), keeps its position and gets a null `time`; times are
  never invented. Without any usable time start_time_utc is None and speed/moving stay null.
- Extensions are matched by local name, whatever the prefix or namespace (Garmin
  TrackPointExtension v1/v2 hr/cad/atemp/speed, power as <power> or <PowerInWatts>).
- distance: GPX has none, so it is the cumulative haversine along the fixes; speed is an
  extension speed if present, else derived from that distance and the times.
- sport is the first track's <type> text as written (Strava writes numbers: "9" for a run).
- A document cut short (truncated .gz) or broken part way is closed after its last complete
  <trkpt> before the error and parsed again: damaged=True, points before the damage kept.
"""

from __future__ import annotations

from datetime import UTC

import gpxpy
import gpxpy.gpx

from strava_pipeline.archive.streams import build_track
from strava_pipeline.archive.types import TrackResult, failed
from strava_pipeline.archive.xmltext import close_truncated, decode_xml, local_name, refuse_dtd, root_name

# extension element local names (lower case) -> output column
_EXTENSION_FIELDS = {
    "hr": "heartrate",
    "heartrate": "heartrate",
    "heartratebpm": "heartrate",
    "cad": "cadence",
    "cadence": "cadence",
    "runcadence": "cadence",
    "atemp": "temp",
    "temp": "temp",
    "temperature": "temp",
    "power": "watts",
    "powerinwatts": "watts",
    "watts": "watts",
    "speed": "speed",
}


def parse_gpx(data: bytes, summary: bool = False) -> TrackResult:
    """GPX bytes -> TrackResult. Never raises for bad data: damaged=True and a warning instead.

    summary=True also measures the totals GPX does not declare with gpxpy (TrackResult.summary): distance along
    each segment (no jump between tracks), moving time and elevation gain with gpxpy's smoothing. A loose file
    needs them for its activity row; an archive's CSV already has them, so the archive import skips the cost."""
    if not data or not data.strip():
        return failed("empty file: not a GPX file")
    warnings: list[str] = []
    text = decode_xml(data, warnings)
    if root_name(text[:4096]) != "gpx":
        return _failed_with(warnings, "not a GPX file (no <gpx> root element)")
    reason = refuse_dtd(text)
    if reason:
        return _failed_with(warnings, reason)

    damaged = False
    try:
        gpx = gpxpy.parse(text)
    except Exception as exc:  # gpxpy wraps XML errors, but value errors can surface raw
        repaired = close_truncated(text[: _error_offset(text, exc)], "trkpt")
        gpx = None
        if repaired is not None:
            try:
                gpx = gpxpy.parse(repaired)
            except Exception:
                gpx = None
        if gpx is None:
            return _failed_with(warnings, f"GPX cannot be parsed ({_short(exc)})")
        damaged = True
        warnings.append(f"GPX is cut short or malformed ({_short(exc)}); kept the points before the damage")

    epoch, lat, lng, ele, speed = [], [], [], [], []
    ext = {"heartrate": [], "cadence": [], "temp": [], "watts": [], "speed": []}
    empty_segments = 0
    for track in gpx.tracks:
        for segment in track.segments:
            if not segment.points:
                empty_segments += 1
            for p in segment.points:
                t = p.time
                if t is not None and t.tzinfo is None:  # GPX times are UTC when no zone is written
                    t = t.replace(tzinfo=UTC)
                epoch.append(t.timestamp() if t is not None else None)
                lat.append(p.latitude)
                lng.append(p.longitude)
                ele.append(p.elevation)
                speed.append(p.speed)
                values = _extension_values(p.extensions)
                for key, column in ext.items():
                    column.append(values.get(key))

    if not epoch:
        if gpx.routes and any(r.points for r in gpx.routes):
            warnings.append("GPX has a route but no track: routes are planned lines, not recordings; ignored")
        warnings.append("GPX has no track points")
    if empty_segments:
        warnings.append(f"{empty_segments} empty track segments skipped")
    missing_time = sum(1 for e in epoch if e is None)
    if missing_time:
        warnings.append(f"{missing_time} of {len(epoch)} points have no <time>; their time is left null")

    # GPX 1.0 <speed> and an extension speed mean the same; the element wins when both exist
    speeds = [s if s is not None else e for s, e in zip(speed, ext["speed"])]
    table, start = build_track(
        epoch=epoch,
        lat=lat,
        lng=lng,
        altitude=ele,
        speed=speeds,
        heartrate=ext["heartrate"],
        cadence=ext["cadence"],
        watts=ext["watts"],
        temp=ext["temp"],
        warnings=warnings,
    )
    sport = next((t.type.strip() for t in gpx.tracks if t.type and t.type.strip()), None)
    return TrackResult(
        table=table,
        start_time_utc=start,
        sport=sport,
        device=(gpx.creator or None),
        warnings=warnings,
        damaged=damaged,
        summary=_measured(gpx, timed=start is not None) if summary and epoch else {},
    )


def _measured(gpx, timed: bool) -> dict:
    out = {"distance": gpx.length_2d()}
    try:
        moving = gpx.get_moving_data()
        if timed and moving is not None and moving.moving_time:
            out["moving_time"] = float(moving.moving_time)
        updown = gpx.get_uphill_downhill()
        if updown is not None and any(
            p.elevation is not None for t in gpx.tracks for s in t.segments for p in s.points
        ):
            out["total_elevation_gain"] = float(updown.uphill)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError):
        pass  # a broken clock can upset gpxpy's speed maths: the row then uses what the points give
    return out


def _extension_values(extensions) -> dict:
    """Numbers found anywhere under a point's <extensions>, keyed by output column."""
    found: dict = {}
    for root in extensions or ():
        for el in root.iter():
            key = _EXTENSION_FIELDS.get(local_name(el.tag).lower())
            if key is None or key in found or el.text is None:
                continue
            try:
                found[key] = float(el.text)
            except ValueError:
                continue
    return found


def _error_offset(text: str, exc: Exception) -> int:
    """Character offset of the XML error (so a corrupt middle is cut there), else the end."""
    # gpxpy keeps the XML parser's error (with its line, column) as __cause__
    position = getattr(exc.__cause__, "position", None)
    if not position:
        return len(text)
    line, column = position
    offset = 0
    for _ in range(line - 1):
        nl = text.find("\n", offset)
        if nl < 0:
            return len(text)
        offset = nl + 1
    return min(offset + column, len(text))


def _failed_with(warnings: list[str], reason: str) -> TrackResult:
    result = failed(reason)
    result.warnings = warnings + result.warnings
    return result


def _short(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]
