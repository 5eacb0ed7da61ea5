"""Shape a loose device file (FIT, GPX, TCX) into a raw `activities` row (source 'file') with a stable id.

Ids: a file has no Strava id, so it gets a NEGATIVE one (Strava's ids are positive, so the two never collide):
- `-(start time in whole UTC seconds since 1970)` when the file has a start time. The same recording gets the same id
  whatever its file name, format or compression, and the FIT and the GPX of one ride (both start at the same second)
  are one row. Two different activities of one athlete never start in the same second. Ids run from about -1e10
  (the year 2286) to 0.
- `-(FILE_HASH_ID_OFFSET + a number from the sha256 of the decompressed bytes)` when it has none (a GPX without
  times), or when another athlete's recording already holds the start-time id (two club members pressed start in
  the same second): the same content gets the same id; these ids are below -1e11, so never a start-time id.

Values: what the file declares (FIT session totals, TCX lap totals; see TrackResult.summary) wins; what it does not
declare is measured on its points (distance along the track, moving time over points that move, elevation gain with
gpxpy's smoothing, averages over the samples). A declared 0 for heart rate, power, cadence or speed means the sensor
was not there, and a declared distance of 0 yields to a distance the points have (an indoor rower's developer field).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyarrow as pa
from gpxpy.geo import calculate_uphill_downhill

from strava_pipeline.archive.file_sports import file_sport
from strava_pipeline.archive.rows import EXTRA_COLUMN, FROM_TRACK_KEY, _iso, track_values
from strava_pipeline.archive.types import TrackResult

SOURCE = "file"
FILE_HASH_ID_OFFSET = 10**11
# a gap longer than this between two points is a pause (auto-pause off, device asleep), not moving time
MAX_MOVING_GAP_S = 30.0

# summary keys that are a measurement only when positive (0: no sensor)
_POSITIVE_ONLY = (
    "average_heartrate",
    "max_heartrate",
    "average_watts",
    "max_watts",
    "weighted_average_watts",
    "average_cadence",
    "average_speed",
    "max_speed",
    "calories",
)


def file_activity_id(track: TrackResult, sha256: str) -> int:
    """The stable negative id of a recording (see the module docstring)."""
    if track.start_time_utc is not None:
        return -int(math.floor(track.start_time_utc.timestamp()))
    return content_id(sha256)


def content_id(sha256: str) -> int:
    """The id of a recording by its content: for files without a start time, or whose start-time id is taken."""
    return -(FILE_HASH_ID_OFFSET + int(sha256[:15], 16))


def _finite(values: pa.ChunkedArray) -> np.ndarray:
    arr = values.to_numpy(zero_copy_only=False).astype(np.float64)
    return arr[np.isfinite(arr)]


def measured(track: TrackResult) -> dict[str, float]:
    """Distance, elapsed and moving time, elevation gain and speeds measured on the points."""
    t = track.table
    out: dict[str, float] = {}
    dist = _finite(t.column("distance").fill_null(np.nan))
    if dist.size:
        out["distance"] = float(dist.max())
    times = t.column("time").to_numpy(zero_copy_only=False)
    times = np.array([np.nan if v is None else v for v in times], dtype=np.float64) if times.dtype == object else times
    times = times.astype(np.float64)
    ok = np.isfinite(times)
    if ok.any():
        out["elapsed_time"] = float(np.nanmax(times))
        moving = np.asarray(t.column("moving").fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
        tt = times[ok]
        mv = moving[ok][1:]
        dt = np.diff(tt)
        out["moving_time"] = float(np.sum(dt[(dt > 0) & (dt <= MAX_MOVING_GAP_S) & mv]))
    alt = t.column("altitude").to_pylist()
    elevations = [a for a in alt if a is not None]
    if len(elevations) > 1:
        out["total_elevation_gain"] = float(calculate_uphill_downhill(elevations)[0])
    speed = _finite(t.column("velocity_smooth").fill_null(np.nan))
    if speed.size:
        out["max_speed"] = float(speed.max())
    return out


def _r(value: float | None, digits: int = 1) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def file_activity_row(track: TrackResult, fmt: str, name: str, sha256: str, athlete_id: int | None) -> dict[str, Any]:
    """The `activities` row of one parsed device file (source 'file')."""
    declared = dict(track.summary)
    for key in _POSITIVE_ONLY:
        if not declared.get(key):
            declared.pop(key, None)
    measured_values = measured(track)
    if not declared.get("distance") and measured_values.get("distance"):
        declared.pop("distance", None)
    values: dict[str, Any] = {}
    from_track: list[str] = []
    for key in ("distance", "moving_time", "elapsed_time", "total_elevation_gain", "max_speed"):
        if declared.get(key) is not None:
            values[key] = declared[key]
        elif measured_values.get(key) is not None:
            values[key] = measured_values[key]
            from_track.append(key)
        else:
            values[key] = None
    start = _iso(track.start_time_utc) if track.start_time_utc else None
    points = track_values(track, start)
    for key, value in points.items():
        if key in declared:
            values[key] = declared[key]
        else:
            values[key] = value
            if value is not None and key not in ("start_date", "start_date_local", "utc_offset"):
                from_track.append(key)
    for key in ("weighted_average_watts",):
        if key in declared:
            values[key] = declared[key]
    if values.get("average_heartrate") is not None:
        values["has_heartrate"] = True
    if values.get("elapsed_time") is None:
        values["moving_time"] = None  # no clock in the file (a GPX without times): no time at all
    elif values.get("moving_time") and values.get("elapsed_time"):
        values["moving_time"] = min(values["moving_time"], values["elapsed_time"])
    moving_time = values.get("moving_time")
    if declared.get("average_speed"):
        values["average_speed"] = declared["average_speed"]
    elif values.get("distance") and moving_time:
        values["average_speed"] = values["distance"] / moving_time
    if values.get("average_watts") and moving_time:
        values["kilojoules"] = values["average_watts"] * moving_time / 1000.0
        values["device_watts"] = True
    sport_type, legacy_type, trainer = file_sport(fmt, track.sport)
    base = name.replace("!", "/").rsplit("/", 1)[-1]  # a zip member's label is zip!member
    stem = base
    for suffix in (".gz", ".fit", ".gpx", ".tcx"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    row: dict[str, Any] = {
        "id": file_activity_id(track, sha256),
        "name": stem or "Activity file",
        "sport_type": sport_type,
        "type": legacy_type,
        "trainer": trainer,
        "manual": False,
        "external_id": base,
        "athlete_id": athlete_id,
        "source": SOURCE,
        "deleted": False,
    }
    for key, value in values.items():
        if key in ("moving_time", "elapsed_time"):
            row[key] = None if value is None else int(round(value))
        elif isinstance(value, float):
            row[key] = _r(value, 3 if key in ("average_speed", "max_speed") else 1)
        else:
            row[key] = value
    extra: dict[str, Any] = {"file": name, "sha256": sha256, "format": fmt}
    if track.sport:
        extra["file_sport"] = track.sport
    if track.device:
        extra["device"] = track.device
    if declared.get("calories"):
        extra["calories"] = round(declared["calories"])
    if from_track:
        extra[FROM_TRACK_KEY] = sorted(set(from_track))
    row[EXTRA_COLUMN] = extra
    return row
