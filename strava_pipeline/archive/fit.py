"""Read a FIT activity file (bytes) into a stream table with fitdecode, keeping whatever precedes damage.

Rules, all taken from real files (see the reference NOTES.md):
- Frames are streamed; a parse error or EOF part way (Strava-app FIT, nick.fit) ends the read and
  keeps every record already decoded: damaged=True plus a warning.
- Records with the same timestamp next to each other are merged field by field when they do not
  contradict each other (the Strava app writes each second as one record with the position and
  one with the distance); contradicting ones stay two points with the same time.
- A record whose timestamp is implausible (before 1990, or a month from the file's median) is a
  corrupt record (the Strava file's last record decodes to 2085 with 38.9 m/s) and is dropped;
  records without any timestamp are dropped too: a stream point needs a time.
- Positions are semicircles; enhanced_* fields win over the plain ones.
- Developer fields only fill in for a native series that is missing or 0 everywhere (the indoor
  rower writes native distance 0 and the real distance in a developer field "Distance").
- Swims keep heart rate in separate `hr` messages; each record gets the latest sample at or
  before its time (within HR_MAX_AGE_S).
"""

from __future__ import annotations

import io
import re
import struct
from datetime import UTC, datetime

import fitdecode
import numpy as np
from fitdecode.types import DevField

from strava_pipeline.archive.fit_records import dev_key, split_records
from strava_pipeline.archive.streams import build_track, implausible_times
from strava_pipeline.archive.types import TrackResult, failed

SEMICIRCLE_TO_DEG = 180.0 / 2**31

# Native record fields we read, in preference order per output column.
_NATIVE = {
    "lat": ("position_lat",),
    "lng": ("position_long",),
    "altitude": ("enhanced_altitude", "altitude"),
    "distance": ("distance",),
    "speed": ("enhanced_speed", "speed"),
    "heartrate": ("heart_rate",),
    "cadence": ("cadence",),
    "watts": ("power",),
    "temp": ("temperature",),
}
_WANTED = {name for names in _NATIVE.values() for name in names}

# A swim's `hr` sample older than this is not used for a record (the strap was out of range).
HR_MAX_AGE_S = 10.0

# activity.local_timestamp - timestamp is only an offset if it looks like one (Zwift writes the FIT epoch).
_MAX_OFFSET_S = 14 * 3600


# FIT date_time: seconds since 1989-12-31T00:00:00Z; values below 0x10000000 are device-relative
FIT_EPOCH_UNIX = 631065600
_FIT_MIN_ABSOLUTE = 0x10000000


def _epoch(value) -> float | None:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # FIT times are UTC; fitdecode is tz-aware, be safe anyway
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    if isinstance(value, int) and not isinstance(value, bool) and value >= _FIT_MIN_ABSOLUTE:
        # some files leave record.timestamp as a bare number (NOTES: antfs-dump.63.fit)
        return float(value + FIT_EPOCH_UNIX)
    return None


def _num(value) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _sport_name(fields: dict) -> str | None:
    sport = fields.get("sport")
    if sport is None:
        return None
    sub = fields.get("sub_sport")
    sport = str(sport)
    # "cycling/virtual_activity", "fitness_equipment/indoor_rowing"; generic adds nothing
    return f"{sport}/{sub}" if sub not in (None, "generic") else sport


def _at(exc: Exception, removed: int) -> str:
    """fitdecode's message, its "@ offset" moved back to the original file (the fast path took records out)."""
    text = str(exc)
    if not removed:
        return text
    return re.sub(r"@ (\d+)$", lambda m: f"@ {int(m.group(1)) + removed}", text)


def _add_record(records: list[dict], rec: dict) -> None:
    prev = records[-1] if records else None
    if prev is not None and prev["_t"] == rec["_t"] and all(prev.get(k, v) == v for k, v in rec.items()):
        # one second split over two records (Strava app: position in one, distance in the other): fill the gaps
        # of the first. Records of the same second that disagree are both kept (two points, same time).
        for k, v in rec.items():
            prev.setdefault(k, v)
    else:
        records.append(rec)


def parse_fit(data: bytes, fast_path: bool = True) -> TrackResult:
    """FIT bytes -> TrackResult. Never raises for bad data: damaged=True and a warning instead.

    fast_path: record messages are decoded by fit_records where it mirrors fitdecode exactly (False: fitdecode
    decodes everything, as the tests compare)."""
    if not data:
        return failed("empty file: not a FIT file")
    if len(data) < 12 or data[8:12] != b".FIT":
        return failed("not a FIT file (no .FIT signature in the header)")

    warnings: list[str] = []
    damaged = False
    records: list[dict] = []  # one dict per record: output column -> value, "_t" -> epoch, "dev_*" -> dev value
    hr_times: list[float] = []
    hr_values: list[float] = []
    sessions: list[dict] = []
    sport_msg: dict | None = None
    file_id: dict | None = None
    activity: dict | None = None
    no_timestamp = 0

    fast = split_records(data) if fast_path else None
    removed = 0
    if fast is not None:
        # the points decoded by fit_records; fitdecode reads the rest (sessions, sport, device...)
        fast_records, no_timestamp, data, removed = fast
        for rec in fast_records:
            _add_record(records, rec)

    reader = fitdecode.FitReader(
        io.BytesIO(data),
        # CRC checking costs ~35% more time and a mismatch does not lose data; damage shows as a parse error
        check_crc=fitdecode.CrcCheck.DISABLED,
        # IGNORE: proceed where possible, and no warnings.warn (global state, not thread safe)
        error_handling=fitdecode.ErrorHandling.IGNORE,
    )
    try:
        for frame in reader:
            if frame.frame_type != fitdecode.FIT_FRAME_DATA:
                continue
            name = frame.name
            if name == "record":
                if fast is not None:
                    continue  # decoded by fit_records; one left in the file only sets the hr messages' clock
                rec: dict = {}
                for fd in frame.fields:
                    value = fd.value
                    if value is None:
                        continue
                    fname = fd.name
                    if fname == "timestamp":
                        rec["_t"] = _epoch(value)
                    elif isinstance(fd.field, DevField):
                        key = dev_key(fd.field.name)
                        if key and _num(value) is not None:
                            rec.setdefault("dev_" + key, float(value))
                    elif fname in _WANTED and _num(value) is not None:
                        rec[fname] = float(value)
                if rec.get("_t") is None:
                    no_timestamp += 1
                    continue
                _add_record(records, rec)
            elif name == "hr":
                _collect_hr(frame, hr_times, hr_values)
            elif name == "session":
                sessions.append({fd.name: fd.value for fd in frame.fields})
            elif name == "sport" and sport_msg is None:
                sport_msg = {fd.name: fd.value for fd in frame.fields}
            elif name == "file_id" and file_id is None:
                file_id = {fd.name: fd.value for fd in frame.fields}
            elif name == "activity" and activity is None:
                activity = {fd.name: fd.value for fd in frame.fields}
    except fitdecode.FitEOFError as exc:
        damaged = True
        warnings.append(f"FIT file ends early ({_at(exc, removed)}); kept the {len(records)} records read before")
    except fitdecode.FitError as exc:
        damaged = True
        warnings.append(f"FIT file is damaged ({_at(exc, removed)}); kept the {len(records)} records read before")
    except (
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        OverflowError,
        ZeroDivisionError,
        struct.error,
        AssertionError,
    ) as exc:
        # on garbage bytes fitdecode can fail with plain Python errors, even its own internal
        # asserts (seen when fuzzing: "assert self._chunk_size <= self._body_bytes_left");
        # that is still a data problem
        damaged = True
        warnings.append(
            f"FIT decoder failed ({type(exc).__name__}: {exc}); kept the {len(records)} records read before"
        )
    finally:
        reader.close()

    if no_timestamp:
        warnings.append(f"{no_timestamp} records without a timestamp dropped")

    epoch = np.array([r["_t"] for r in records], dtype=np.float64)
    bad = implausible_times(epoch)
    if bad.any():
        warnings.append(f"{int(bad.sum())} records with an implausible timestamp dropped (corrupt records)")
        records = [r for r, b in zip(records, bad) if not b]
        epoch = epoch[~bad]

    n = len(records)
    cols = {out: _series(records, names, n) for out, names in _NATIVE.items()}
    for out in ("lat", "lng"):
        cols[out] = cols[out] * SEMICIRCLE_TO_DEG
    # FIT altitude is (raw / 5) - 500: round away the binary noise (132.20000000000005)
    cols["altitude"] = np.round(cols["altitude"], 3)

    # developer fields fill a native series that is absent or 0 everywhere, never a real one
    for key in ("distance", "speed", "heartrate", "watts", "cadence", "altitude", "temp"):
        native = cols[key]
        if _has_nonzero(native):
            continue
        dev = _series(records, ("dev_" + key,), n)
        if _has_nonzero(dev):
            cols[key] = dev
            warnings.append(f"{key} taken from a developer field (native field missing or 0)")

    if hr_times and not np.isfinite(cols["heartrate"]).any() and n:
        cols["heartrate"] = _hr_asof(epoch, np.array(hr_times), np.array(hr_values, dtype=np.float64))
        if np.isfinite(cols["heartrate"]).any():
            warnings.append("heart rate taken from separate hr messages (swim)")

    table, start = build_track(epoch=epoch, warnings=warnings, **cols)

    summary = sessions[0] if sessions else (sport_msg or {})
    sport = _sport_name(summary)
    if len({_sport_name(s) for s in sessions}) > 1:
        warnings.append(f"{len(sessions)} sessions with different sports (multisport); sport is the first")
    if start is None and sessions:
        start = sessions[0].get("start_time") if isinstance(sessions[0].get("start_time"), datetime) else None
    if n == 0:
        # not damage by itself: a strength or manual workout can be a FIT without records
        warnings.append("no usable record messages in the FIT file")

    return TrackResult(
        table=table,
        start_time_utc=start,
        sport=sport,
        device=_device(file_id),
        warnings=warnings,
        damaged=damaged,
        utc_offset_s=_utc_offset(activity),
        summary=session_summary(sessions),
    )


# session field (first present wins) -> the API's name; totals are summed over sessions (multisport), maxima maxed,
# averages weighted by each session's timer time
_SESSION_TOTALS = {
    "elapsed_time": ("total_elapsed_time",),
    "moving_time": ("total_timer_time",),
    "distance": ("total_distance",),
    "total_elevation_gain": ("total_ascent",),
    "calories": ("total_calories",),
}
_SESSION_MAXIMA = {
    "max_heartrate": ("max_heart_rate",),
    "max_watts": ("max_power",),
    "max_speed": ("enhanced_max_speed", "max_speed"),
}
_SESSION_AVERAGES = {
    "average_heartrate": ("avg_heart_rate",),
    "average_watts": ("avg_power",),
    "weighted_average_watts": ("normalized_power",),
    "average_cadence": ("avg_cadence",),
    "average_speed": ("enhanced_avg_speed", "avg_speed"),
}


def _first_number(fields: dict, names: tuple) -> float | None:
    for name in names:
        value = _num(fields.get(name))
        if value is not None:
            return value
    return None


def session_summary(sessions: list[dict]) -> dict:
    """What the FIT session messages declare, under the API's field names; {} without a session.

    The device's own totals are what the athlete saw on it: total_timer_time (the clock ran: pauses out) is the
    moving time, total_elapsed_time the elapsed time, total_ascent the elevation gain."""
    out: dict = {}
    for key, names in _SESSION_TOTALS.items():
        values = [v for v in (_first_number(s, names) for s in sessions) if v is not None]
        if values:
            out[key] = sum(values)
    for key, names in _SESSION_MAXIMA.items():
        values = [v for v in (_first_number(s, names) for s in sessions) if v is not None]
        if values:
            out[key] = max(values)
    for key, names in _SESSION_AVERAGES.items():
        pairs = [
            (v, _num(s.get("total_timer_time")) or 0.0) for s in sessions if (v := _first_number(s, names)) is not None
        ]
        if not pairs:
            continue
        weight = sum(w for _, w in pairs)
        out[key] = sum(v * w for v, w in pairs) / weight if weight > 0 else pairs[0][0]
    return out


def _series(records: list[dict], names: tuple, n: int) -> np.ndarray:
    """First field of `names` present per record -> float array with NaN."""
    out = np.full(n, np.nan)
    for i, r in enumerate(records):
        for name in names:
            v = r.get(name)
            if v is not None:
                out[i] = v
                break
    return out


def _has_nonzero(arr: np.ndarray) -> bool:
    finite = arr[np.isfinite(arr)]
    return bool(finite.size and finite.any())


def _collect_hr(frame, times: list, values: list) -> None:
    """`hr` messages: filtered_bpm samples with matching event_timestamp values.

    fitdecode expands the packed event_timestamp_12 into one event_timestamp datetime per
    sample; the first message of a file instead anchors a device clock (timestamp +
    fractional_timestamp, event_timestamp as a bare number) and carries one sample.
    """
    bpm = None
    stamps: list[float] = []
    timestamp = None
    fraction = 0.0
    for fd in frame.fields:
        if fd.name == "filtered_bpm":
            bpm = fd.value
        elif fd.name == "event_timestamp" and isinstance(fd.value, datetime):
            stamps.append(fd.value.timestamp())
        elif fd.name == "timestamp":
            timestamp = _epoch(fd.value)
        elif fd.name == "fractional_timestamp" and _num(fd.value) is not None:
            fraction = float(fd.value)
    if bpm is None:
        return
    samples = list(bpm) if isinstance(bpm, (tuple, list)) else [bpm]
    if not stamps and timestamp is not None and len(samples) == 1:
        stamps = [timestamp + fraction]
    for t, v in zip(stamps, samples):
        if _num(v) is not None and v > 0:
            times.append(t)
            values.append(float(v))


def _hr_asof(epoch: np.ndarray, hr_t: np.ndarray, hr_v: np.ndarray) -> np.ndarray:
    order = np.argsort(hr_t, kind="stable")
    hr_t, hr_v = hr_t[order], hr_v[order]
    pos = np.searchsorted(hr_t, epoch, side="right") - 1
    ok = (pos >= 0) & np.isfinite(epoch)
    out = np.full(epoch.size, np.nan)
    age = epoch[ok] - hr_t[pos[ok]]
    vals = hr_v[pos[ok]]
    out[np.flatnonzero(ok)] = np.where(age <= HR_MAX_AGE_S, vals, np.nan)
    return out


def _device(file_id: dict | None) -> str | None:
    if not file_id:
        return None
    maker = file_id.get("manufacturer")
    product = None
    for key in ("garmin_product", "favero_product", "product"):
        if file_id.get(key) is not None:
            product = file_id[key]
            break
    parts = [str(p) for p in (maker, product) if p is not None]
    return " ".join(parts) or None


def _utc_offset(activity: dict | None) -> float | None:
    """activity.local_timestamp - activity.timestamp when it is a real time-zone offset."""
    if not activity:
        return None
    utc = activity.get("timestamp")
    local = activity.get("local_timestamp")
    if not isinstance(utc, datetime) or local is None:
        return None
    if isinstance(local, datetime):
        local_naive = local.replace(tzinfo=None)
    else:
        return None
    offset = (local_naive - utc.astimezone(UTC).replace(tzinfo=None)).total_seconds()
    # time zones are whole quarter hours within +-14 h; anything else is a bogus local clock
    rounded = round(offset / 900) * 900
    if abs(offset) > _MAX_OFFSET_S or abs(offset - rounded) > 60:
        return None
    return float(rounded)
