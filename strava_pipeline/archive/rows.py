"""Shape one activities.csv row and its parsed track into a raw `activities` row with the API's field names."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from strava_pipeline.archive.types import TrackResult
from strava_pipeline.source import ACTIVITY_COLUMNS

SOURCE = "archive"

# export-only values (gear name, file name, steps, calories, description...) have no SummaryActivity column: they
# are kept together in this one json column, so the API's activities table gains one column, not thirty
EXTRA_COLUMN = "archive_fields"
# inside EXTRA_COLUMN: the names of the columns this import computed from the activity file (not from the CSV)
FROM_TRACK_KEY = "from_track"

# SummaryActivity fields the CSV leaves empty that the file can tell; filled only where the CSV has no value.
# Averages are over the recorded points (zeros kept for power, left out for cadence): close to, not exactly,
# what Strava computes, and replaced by Strava's own values when the API lists the activity.
TRACK_FIELDS = (
    "start_date",
    "start_date_local",
    "utc_offset",
    "start_latlng",
    "end_latlng",
    "has_heartrate",
    "average_heartrate",
    "max_heartrate",
    "average_watts",
    "max_watts",
    "average_cadence",
    "average_temp",
    "elev_high",
    "elev_low",
)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(x: float | None, digits: int = 1) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), digits)


def _stat(table: pa.Table, column: str, fn: str, drop_zeros: bool = False) -> float | None:
    values = table.column(column)
    if drop_zeros:
        values = pc.filter(values, pc.not_equal(values, 0.0))
    if len(values) == values.null_count:
        return None
    return getattr(pc, fn)(values).as_py()


def _fix(table: pa.Table, last: bool) -> list[float] | None:
    """[lat, lng] of the first (last) real fix; (0, 0) is what some devices write before a fix."""
    lat, lng = table.column("lat"), table.column("lng")
    ok = pc.and_(pc.is_valid(lat), pc.invert(pc.and_(pc.equal(lat, 0.0), pc.equal(lng, 0.0))))
    idx = pc.indices_nonzero(pc.fill_null(ok, False))
    if len(idx) == 0:
        return None
    i = idx[-1 if last else 0].as_py()
    return [lat[i].as_py(), lng[i].as_py()]


def track_values(track: TrackResult, start_date: str | None) -> dict[str, Any]:
    """What the activity file says about the activity, under the API's field names (None: not in the file)."""
    t = track.table
    start = start_date or (_iso(track.start_time_utc) if track.start_time_utc else None)
    local = None
    if start and track.utc_offset_s is not None:
        at = datetime.strptime(start, "%Y-%m-%dT%H:%M:%SZ") + timedelta(seconds=track.utc_offset_s)
        local = at.strftime("%Y-%m-%dT%H:%M:%SZ")  # the API's local wall time, with its misleading Z
    has_hr = t.num_rows > t.column("heartrate").null_count
    return {
        "start_date": start,
        "start_date_local": local,
        "utc_offset": track.utc_offset_s,
        "start_latlng": _fix(t, last=False),
        "end_latlng": _fix(t, last=True),
        "has_heartrate": has_hr,
        "average_heartrate": _round(_stat(t, "heartrate", "mean")),
        "max_heartrate": _round(_stat(t, "heartrate", "max")),
        "average_watts": _round(_stat(t, "watts", "mean")),
        "max_watts": _round(_stat(t, "watts", "max")),
        "average_cadence": _round(_stat(t, "cadence", "mean", drop_zeros=True)),
        "average_temp": _round(_stat(t, "temp", "mean")),
        "elev_high": _round(_stat(t, "altitude", "max")),
        "elev_low": _round(_stat(t, "altitude", "min")),
    }


def activity_row(csv_row: dict, athlete_id: int | None, track: dict | None = None) -> dict:
    """An `activities` row: the CSV's API-named fields, gaps filled from the file's values (`track`, from
    track_values), everything export-only in archive_fields, plus athlete_id, source and the deleted flag."""
    row: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for key, value in csv_row.items():
        if key in ACTIVITY_COLUMNS:
            row[key] = value
        elif value is not None:
            extra[key] = value
    filled = []
    for key, value in (track or {}).items():
        if row.get(key) is None and value is not None:
            row[key] = value
            filled.append(key)
    if row.get("average_heartrate") is not None:  # the CSV's average counts even when the file has no samples
        row["has_heartrate"] = True
    if filled:
        extra[FROM_TRACK_KEY] = filled
    # no file at all is how the export shows an activity entered by hand; the API queue then asks for no streams
    row["manual"] = not csv_row.get("filename")
    row["athlete_id"] = athlete_id
    row["source"] = SOURCE
    row["deleted"] = False
    row[EXTRA_COLUMN] = extra or None
    return row


def carried_track_values(stored_row: dict) -> dict:
    """The file-derived values of an already imported activity (from its stored row), so a re-import that skips
    re-reading the file writes the same row again."""
    extra = stored_row.get(EXTRA_COLUMN) or {}
    return {k: stored_row.get(k) for k in extra.get(FROM_TRACK_KEY) or [] if k in TRACK_FIELDS}
