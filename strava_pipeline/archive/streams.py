"""Turn per-point columns read from an activity file into one Arrow table shaped like Strava's streams.

The format parsers only collect raw columns (lists or numpy arrays, None/NaN = missing); every
derived value (relative time, distance from GPS, speed from distance, the moving flag) and every
"this series is junk" rule lives here, so GPX, FIT and TCX get the same treatment.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
import pyarrow as pa

from strava_pipeline.archive.types import TRACK_SCHEMA

# Points slower than this are "not moving". Strava does not publish its rule; 0.3 m/s (about
# 1 km/h) is below a slow walk and above the drift of a GPS fix standing still.
MOVING_MIN_SPEED = 0.3

# Times before 1990 cannot come from a working GPS/FIT clock (the FIT epoch is 1989-12-31);
# Mojstrovka.gpx has 1901-12-13, i.e. -2**31 s, a broken clock.
EARLIEST_PLAUSIBLE_EPOCH = datetime(1990, 1, 1, tzinfo=UTC).timestamp()
# A point this far from the median time of its file is a corrupt timestamp (the damaged Strava
# app FIT decodes one record as 2085), not a long activity.
MAX_SPREAD_FROM_MEDIAN_S = 30 * 86400

EARTH_RADIUS_M = 6371008.8  # mean Earth radius (IUGG), what most GPS tools use for haversine

_INT32_MAX = 2**31 - 1


def as_float_array(values: Sequence, n: int) -> np.ndarray:
    """List with None (or an array) -> float64 array with NaN for missing; None/[] -> all NaN."""
    if values is None or len(values) == 0:
        return np.full(n, np.nan)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ValueError(f"column has {arr.shape} values, expected {n}")
    return arr


def implausible_times(epoch: np.ndarray) -> np.ndarray:
    """Mask of times that cannot be real: before 1990 or a month away from the file's median time."""
    bad = ~np.isfinite(epoch) | (epoch < EARLIEST_PLAUSIBLE_EPOCH)
    good = epoch[~bad]
    if good.size:
        median = float(np.median(good))
        bad |= np.abs(epoch - median) > MAX_SPREAD_FROM_MEDIAN_S
    return bad & np.isfinite(epoch)


def cumulative_haversine(lat: np.ndarray, lng: np.ndarray) -> np.ndarray:
    """Cumulative great-circle distance in metres along the points that have a fix.

    Points without a fix carry the distance reached so far (no movement is known for them) and
    points before the first fix stay NaN.
    """
    n = lat.size
    out = np.full(n, np.nan)
    has = np.isfinite(lat) & np.isfinite(lng)
    idx = np.flatnonzero(has)
    if idx.size == 0:
        return out
    phi = np.radians(lat[idx])
    lam = np.radians(lng[idx])
    dphi = np.diff(phi)
    dlam = np.diff(lam)
    a = np.sin(dphi / 2) ** 2 + np.cos(phi[:-1]) * np.cos(phi[1:]) * np.sin(dlam / 2) ** 2
    steps = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
    out[idx] = np.concatenate(([0.0], np.cumsum(steps)))
    # forward-fill across points without a fix, after the first one
    filled = np.where(np.isfinite(out), np.arange(n), -1)
    np.maximum.accumulate(filled, out=filled)
    return np.where(filled >= 0, out[np.maximum(filled, 0)], np.nan)


def derived_speed(epoch: np.ndarray, distance: np.ndarray) -> np.ndarray:
    """Speed (m/s) as a centred difference of distance over time, only where both are known.

    The centred difference smooths a little, like Strava's velocity_smooth; where the time does
    not advance (repeated timestamps, unsorted times) the speed stays unknown.
    """
    n = epoch.size
    out = np.full(n, np.nan)
    idx = np.flatnonzero(np.isfinite(epoch) & np.isfinite(distance))
    if idx.size < 2:
        return out
    t = epoch[idx]
    d = distance[idx]
    prev = np.concatenate(([0], np.arange(idx.size - 1)))
    nxt = np.concatenate((np.arange(1, idx.size), [idx.size - 1]))
    dt = t[nxt] - t[prev]
    dd = d[nxt] - d[prev]
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(dt > 0, dd / dt, np.nan)
    v[v < 0] = np.nan  # distance going backwards is bad data, not negative speed
    out[idx] = v
    return out


def _float_column(arr: np.ndarray) -> pa.Array:
    mask = ~np.isfinite(arr)
    return pa.array(np.where(mask, 0.0, arr), type=pa.float64(), mask=mask)


def _all_zero(arr: np.ndarray) -> bool:
    finite = arr[np.isfinite(arr)]
    return finite.size > 0 and not finite.any()


def build_track(
    *,
    epoch: Sequence,
    lat: Sequence = None,
    lng: Sequence = None,
    altitude: Sequence = None,
    distance: Sequence = None,
    speed: Sequence = None,
    heartrate: Sequence = None,
    cadence: Sequence = None,
    watts: Sequence = None,
    temp: Sequence = None,
    warnings: list[str],
) -> tuple[pa.Table, datetime | None]:
    """Build the TRACK_SCHEMA table from raw columns; returns it with the UTC time of `time == 0`.

    epoch: UTC seconds since 1970 per point (NaN/None = no time). Implausible times become null
    here (the point and its position are kept); a caller that knows a whole record is corrupt
    drops it before calling.
    """
    n = len(epoch)
    t = as_float_array(epoch, n).copy()
    bad = implausible_times(t)
    if bad.any():
        warnings.append(
            f"{int(bad.sum())} of {n} point times are implausible (before 1990 or a month "
            f"away from the rest); their time is left null"
        )
        t[bad] = np.nan

    la = as_float_array(lat, n).copy()
    lo = as_float_array(lng, n).copy()
    no_fix = (
        ~np.isfinite(la) | ~np.isfinite(lo) | (np.abs(la) > 90) | (np.abs(lo) > 180) | ((la == 0) & (lo == 0))
    )  # 0,0 is what devices write before the first fix
    la[no_fix] = np.nan
    lo[no_fix] = np.nan

    series = {}
    for name, values in (("heartrate", heartrate), ("cadence", cadence), ("watts", watts)):
        arr = as_float_array(values, n)
        # a sensor that reports 0 at every point was not there (Zwift HR, nick.fit power/cadence)
        if _all_zero(arr):
            warnings.append(f"{name} is 0 at every point: treated as missing")
            arr = np.full(n, np.nan)
        series[name] = arr

    dist = as_float_array(distance, n)
    if not np.isfinite(dist).any() or _all_zero(dist):
        # no usable distance in the file (missing, or 0 everywhere like the indoor rower): from GPS
        dist = cumulative_haversine(la, lo)

    vel = as_float_array(speed, n)
    if not np.isfinite(vel).any() or (_all_zero(vel) and np.nanmax(dist, initial=0.0) > 0):
        vel = derived_speed(t, dist)

    moving = np.isfinite(vel)
    moving_values = vel > MOVING_MIN_SPEED

    finite_t = np.isfinite(t)
    start = None
    time_col = pa.nulls(n, pa.int32())
    if finite_t.any():
        t0 = float(np.min(t[finite_t]))
        start = datetime.fromtimestamp(t0, UTC)
        rel = np.round(np.where(finite_t, t - t0, 0.0))
        too_big = rel > _INT32_MAX
        if too_big.any():  # cannot happen after the plausibility rule; kept so int32 never wraps
            warnings.append(f"{int(too_big.sum())} point times overflow int32 seconds; left null")
        mask = ~finite_t | too_big
        time_col = pa.array(np.where(mask, 0, rel).astype(np.int32), type=pa.int32(), mask=mask)

    columns = {
        "point_index": pa.array(np.arange(n, dtype=np.int32)),
        "time": time_col,
        "distance": _float_column(dist),
        "lat": _float_column(la),
        "lng": _float_column(lo),
        "altitude": _float_column(as_float_array(altitude, n)),
        "velocity_smooth": _float_column(vel),
        "heartrate": _float_column(series["heartrate"]),
        "cadence": _float_column(series["cadence"]),
        "watts": _float_column(series["watts"]),
        "temp": _float_column(as_float_array(temp, n)),
        "moving": pa.array(moving_values, type=pa.bool_(), mask=~moving),
        "grade_smooth": pa.nulls(n, pa.float64()),
    }
    table = pa.Table.from_arrays([columns[f.name] for f in TRACK_SCHEMA], schema=TRACK_SCHEMA)
    return table, start
