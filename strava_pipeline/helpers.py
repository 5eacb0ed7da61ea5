"""Shape Strava API payloads into raw-table rows: summaries, details, laps, efforts, zones, gear, streams as Arrow."""

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyarrow as pa

from strava_pipeline import settings

JSON_COLUMNS = ("start_latlng", "end_latlng")


def iso_from_epoch(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def epoch_from_iso(value: str) -> int:
    return int(datetime.strptime(value[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp())


def _as_float(value: Any) -> Any:
    # Strava sends 0 for 0.0 and ints for whole numbers; pin to float so dlt never splits a column into variants
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _floats(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _floats(v) for k, v in obj.items()}
    return _as_float(obj)


def activity_row(summary: dict, source: str = "api") -> dict:
    """A SummaryActivity as it came, plus athlete_id, source and the deleted flag."""
    row = dict(summary)
    athlete = row.get("athlete") or {}
    row["athlete_id"] = athlete.get("id") if isinstance(athlete, dict) else None
    for col in settings.ACTIVITY_DOUBLE_COLUMNS:
        if col in row:
            row[col] = _as_float(row[col])
    for col in JSON_COLUMNS:
        # [] for no GPS in the real data, null in the swagger example: keep one shape
        if not row.get(col):
            row[col] = None
    row["source"] = source
    row["deleted"] = False
    return row


DETAIL_FIELDS = (
    "id",
    "description",
    "calories",
    "device_name",
    "gear_id",
    "perceived_exertion",
    "prefer_perceived_exertion",
    "hide_from_home",
    "workout_type",
    "embed_token",
)
LAP_FIELDS = (
    "id",
    "name",
    "lap_index",
    "split",
    "elapsed_time",
    "moving_time",
    "start_date",
    "start_date_local",
    "distance",
    "average_speed",
    "max_speed",
    "start_index",
    "end_index",
    "total_elevation_gain",
    "average_cadence",
    "average_watts",
    "device_watts",
    "average_heartrate",
    "max_heartrate",
    "pace_zone",
)
EFFORT_FIELDS = (
    "id",
    "name",
    "elapsed_time",
    "moving_time",
    "start_date",
    "start_date_local",
    "distance",
    "pr_rank",
    "start_index",
    "end_index",
)


# counts and indexes stay integers; every other number is pinned to float
_INTEGER_FIELDS = {
    "id",
    "lap_index",
    "split",
    "start_index",
    "end_index",
    "elapsed_time",
    "moving_time",
    "pr_rank",
    "pace_zone",
    "workout_type",
}


def _pick(obj: dict, fields: Iterable[str]) -> dict:
    return {f: obj.get(f) if f in _INTEGER_FIELDS else _as_float(obj.get(f)) for f in fields}


def detail_rows(detail: dict, athlete_id: int, fetched_at: str) -> tuple[dict, list[dict], list[dict]]:
    """DetailedActivity -> (activity_details row, laps rows, best_efforts rows): laps come with the detail for free."""
    activity_id = detail["id"]
    row = _pick(detail, DETAIL_FIELDS)
    row.pop("embed_token", None)
    row.update(
        athlete_id=athlete_id,
        photo_count=(detail.get("photos") or {}).get("count"),
        total_photo_count=detail.get("total_photo_count"),
        segment_effort_count=len(detail.get("segment_efforts") or []),
        splits_metric=[_floats(s) for s in detail.get("splits_metric") or []] or None,
        splits_standard=[_floats(s) for s in detail.get("splits_standard") or []] or None,
        available_zones=detail.get("available_zones") or None,
        polyline=(detail.get("map") or {}).get("polyline"),
        fetched_at=fetched_at,
    )
    laps = [
        {**_pick(lap, LAP_FIELDS), "activity_id": activity_id, "athlete_id": athlete_id}
        for lap in detail.get("laps") or []
    ]
    efforts = [
        {**_pick(e, EFFORT_FIELDS), "activity_id": activity_id, "athlete_id": athlete_id}
        for e in detail.get("best_efforts") or []
    ]
    return row, laps, efforts


def zone_rows(zones: list, activity_id: int, athlete_id: int) -> list[dict]:
    return [
        {
            "activity_id": activity_id,
            "athlete_id": athlete_id,
            "type": z.get("type"),
            "score": _as_float(z.get("score")),
            "sensor_based": z.get("sensor_based"),
            "custom_zones": z.get("custom_zones"),
            "points": _as_float(z.get("points")),
            "distribution_buckets": [_floats(b) for b in z.get("distribution_buckets") or []],
        }
        for z in zones or []
        if isinstance(z, dict)
    ]


def athlete_row(athlete: dict, fetched_at: str) -> dict:
    row = {k: v for k, v in athlete.items() if k not in ("clubs", "bikes", "shoes")}
    row["athlete_id"] = athlete["id"]
    row["weight"] = _as_float(row.get("weight"))
    row["bikes"] = [_floats(g) for g in athlete.get("bikes") or []] or None
    row["shoes"] = [_floats(g) for g in athlete.get("shoes") or []] or None
    row["fetched_at"] = fetched_at
    return row


def stats_row(stats: dict, athlete_id: int, fetched_at: str) -> dict:
    return {"athlete_id": athlete_id, **_floats(stats), "fetched_at": fetched_at}


def gear_row(gear: dict, athlete_id: int, fetched_at: str) -> dict:
    return {**_floats(gear), "id": gear["id"], "athlete_id": athlete_id, "fetched_at": fetched_at}


def _stream_data(payload: Any) -> dict:
    """key_by_type object, or the list form of the swagger example -> {type: data}."""
    if isinstance(payload, dict):
        return {k: v.get("data") for k, v in payload.items() if isinstance(v, dict)}
    if isinstance(payload, list):
        return {s.get("type"): s.get("data") for s in payload if isinstance(s, dict)}
    return {}


_PAIR = pa.list_(pa.float64(), 2)
_FLOAT_STREAMS = ("distance", "altitude", "velocity_smooth", "heartrate", "cadence", "watts", "temp", "grade_smooth")


def _constant(value: Any, n: int, typ: pa.DataType) -> pa.Array:
    return pa.repeat(pa.scalar(value, typ), n)


def streams_table(payload: Any, activity_id: int, athlete_id: int | None, source: str = "api") -> pa.Table:
    """One Arrow table (settings.STREAM_SCHEMA) for one activity's streams; no Python object per point."""
    data = {k: v for k, v in _stream_data(payload).items() if isinstance(v, list) and v}
    n = max((len(v) for v in data.values()), default=0)

    def column(key: str, typ: pa.DataType) -> pa.Array:
        if key not in data:
            return pa.nulls(n, typ)
        arr = pa.array(data[key], type=typ)
        if len(arr) < n:  # streams of one activity share one index: pad a short one rather than misalign
            arr = pa.concat_arrays([arr, pa.nulls(n - len(arr), typ)])
        return arr.slice(0, n)

    if "latlng" in data:
        pairs = np.full((n, 2), np.nan)
        try:  # Arrow reads the pairs in C (a null pair becomes NaN, NaN); twice as fast as numpy's nested lists
            arr = pa.array(data["latlng"], type=_PAIR).values.to_numpy(zero_copy_only=False).reshape(-1, 2)
        except (pa.ArrowInvalid, pa.ArrowTypeError):  # a short pair or a stray value: the slow, forgiving path
            arr = np.array(
                [p if isinstance(p, list) and len(p) == 2 else (np.nan, np.nan) for p in data["latlng"]],
                dtype=np.float64,
            )
        pairs[: min(n, len(arr))] = arr[:n]
        mask = np.isnan(pairs).any(axis=1)
        lat, lng = pa.array(pairs[:, 0], mask=mask), pa.array(pairs[:, 1], mask=mask)
    else:
        lat = lng = pa.nulls(n, pa.float64())
    cols = {
        "athlete_id": _constant(athlete_id, n, pa.int64()),
        "activity_id": _constant(activity_id, n, pa.int64()),
        "point_index": pa.array(np.arange(n, dtype=np.int32)),
        "time": column("time", pa.int32()),
        "lat": lat,
        "lng": lng,
        "moving": column("moving", pa.bool_()),
        "source": _constant(source, n, pa.string()),
        **{key: column(key, pa.float64()) for key in _FLOAT_STREAMS},
    }
    return pa.table([cols[f.name] for f in settings.STREAM_SCHEMA], schema=settings.STREAM_SCHEMA)
