"""Activity streams generated on demand with numpy, deterministic per activity and constructed to match its summary.

The summary fixes distance, moving_time, elapsed_time and total_elevation_gain before any stream exists (listings,
stats and gear totals need them for thousands of activities); the arrays are then built to hit those numbers
exactly: integer time steps distributed to sum to moving/elapsed time, distance increments scaled to the distance,
altitude deviations scaled (then corrected by whole decimetres) to the elevation gain. Everything else in the
summary (max speed, heart rate, power, polyline, ...) is computed from the arrays afterwards (see metrics.py).
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from strava_pipeline.fake_api import polyline

# order of the keys in a streams response: distance first (as in the recordings), then the others
STREAM_ORDER = (
    "distance",
    "altitude",
    "latlng",
    "time",
    "velocity_smooth",
    "heartrate",
    "cadence",
    "watts",
    "temp",
    "moving",
    "grade_smooth",
)
INT_STREAMS = ("time", "heartrate", "cadence", "watts", "temp")
M_PER_DEG_LAT = 111_320.0


@dataclass(frozen=True)
class StreamSpec:
    """What an activity's recording looks like; derived from its plan (generated) or its summary (replay)."""

    seed: int
    sport_type: str
    distance: float
    moving_time: int
    elapsed_time: int
    gain_dm: int  # total_elevation_gain in decimetres: the altitude stream is fitted to it exactly
    n_stops: int = 0
    smart: bool = False  # Garmin "smart recording": 1-5 s between points instead of 1 s
    gps: bool = True
    route: str = "loop"  # loop | out_back | point
    origin: tuple[float, float] | None = None
    base_alt: float = 295.0
    altitude: bool = True
    heartrate: bool = True
    cadence: bool = True
    watts: bool = False
    temp: bool = False
    hr_target: float = 145.0
    hr_max: float = 188.0
    ftp: float = 250.0
    temp_base: float = 20.0
    workout: bool = False
    n_points: int | None = None  # force the number of points (replay: the length of a recorded stream)


# ------------------------------------------------------------------------------------------------ helpers
def _distribute(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers >= 1, proportional to weights, summing exactly to total (needs len(weights) <= total)."""
    m = len(weights)
    extra = total - m
    raw = weights / weights.sum() * extra
    base = np.floor(raw).astype(np.int64)
    rem = int(extra - base.sum())
    if rem > 0:
        idx = np.argsort(-(raw - base), kind="stable")[:rem]
        base[idx] += 1
    return base + 1


def _smooth(x: np.ndarray, w: int) -> np.ndarray:
    """Centred moving average (O(n) via cumulative sums), shrinking at the edges; same length as x."""
    n = len(x)
    w = int(min(w, n))
    if w <= 1:
        return x.astype(np.float64)
    c = np.concatenate([[0.0], np.cumsum(x, dtype=np.float64)])
    idx = np.arange(n) - w // 2
    lo = np.clip(idx, 0, n)
    hi = np.clip(idx + w, 0, n)
    return (c[hi] - c[lo]) / (hi - lo)


def _noise(rng: np.random.Generator, n: int, w: int) -> np.ndarray:
    """Smooth noise (std about 1): random knots every w samples, linearly interpolated."""
    if w <= 1:
        return rng.standard_normal(n)
    k = n // w + 2
    return np.interp(np.arange(n) / w, np.arange(k), rng.standard_normal(k))


def _gain(a: np.ndarray) -> float:
    d = np.diff(a)
    return float(d[d > 0].sum())


def fit_gain(dm: np.ndarray, target: int) -> np.ndarray:
    """Make the sum of positive steps of an integer (decimetre) series exactly `target` by moving local maxima.

    Raising a local maximum by r lengthens the climb into it by r (the descent after it does not count);
    lowering one by up to its height above its higher neighbour shortens that climb by the same amount.
    Flat tops are moved as a whole.
    """
    a = dm.astype(np.int64).copy()
    n = len(a)
    if n < 2:
        return a
    for _ in range(10_000):
        r = target - int(_gain(a))
        if r == 0:
            return a
        # runs of equal values: start index, end index, value
        starts = np.concatenate([[0], np.nonzero(np.diff(a))[0] + 1])
        ends = np.append(starts[1:] - 1, n - 1)
        vals = a[starts]
        m = len(vals)
        if m == 1:
            a[-1] = a[-2] + max(r, 0) if r > 0 else a[-1]
            if r < 0:
                raise AssertionError("a flat series cannot lose gain")  # pragma: no cover
            continue
        left_up = np.concatenate([[False], vals[1:] > vals[:-1]])
        right_down = np.append(vals[:-1] > vals[1:], True)
        peaks = np.nonzero(left_up & right_down)[0]
        if r > 0:
            if len(peaks):
                k = peaks[np.argmax(vals[peaks])]
                a[starts[k] : ends[k] + 1] += r
            else:
                a[-1] = a[-2] + r
            continue
        k = peaks[np.argmax(vals[peaks])]
        right = vals[k + 1] if k + 1 < m else -(1 << 62)
        room = int(vals[k] - max(vals[k - 1], right))
        a[starts[k] : ends[k] + 1] -= min(room, -r)
    raise AssertionError("could not fit the elevation gain")  # pragma: no cover


def to_latlng(origin: tuple[float, float], x: np.ndarray, y: np.ndarray) -> np.ndarray:
    lat0, lng0 = origin
    lat = lat0 + y / M_PER_DEG_LAT
    lng = lng0 + x / (M_PER_DEG_LAT * math.cos(math.radians(lat0)))
    return np.round(np.column_stack([lat, lng]), 6)


def haversine_m(latlng: np.ndarray) -> np.ndarray:
    """Distance in metres between consecutive [lat, lng] points."""
    if len(latlng) < 2:
        return np.zeros(0)
    rad = np.radians(latlng)
    dlat = np.diff(rad[:, 0])
    dlng = np.diff(rad[:, 1])
    h = np.sin(dlat / 2) ** 2 + np.cos(rad[:-1, 0]) * np.cos(rad[1:, 0]) * np.sin(dlng / 2) ** 2
    return 2 * 6_371_000.0 * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


# ------------------------------------------------------------------------------------------------ geometry
def _route(rng: np.random.Generator, kind: str, length: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A plausible route in local metres (x east, y north) starting at (0, 0): (arc length, x, y)."""
    if kind == "loop":
        # a random closed curve: a circle with a few low harmonics, squashed and rotated
        k = int(np.clip(length / 20, 64, 4000))
        th = np.linspace(0, 2 * np.pi, k)
        r = np.ones(k)
        for j in range(2, 7):
            r += rng.uniform(0, 0.3 / j) * np.cos(j * th + rng.uniform(0, 2 * np.pi))
        r = np.maximum(r, 0.25)
        x = r * np.cos(th) * rng.uniform(0.45, 1.0)
        y = r * np.sin(th)
        a = rng.uniform(0, 2 * np.pi)
        x, y = x * np.cos(a) - y * np.sin(a), x * np.sin(a) + y * np.cos(a)
        x, y = x - x[0], y - y[0]
    else:
        out = length / 2 if kind == "out_back" else length
        k = int(np.clip(out / 40, 16, 4000))
        # correlated random heading: roads bend, they do not zig-zag
        heading = rng.uniform(0, 2 * np.pi) + np.cumsum(_noise(rng, k, 6) * 0.1)
        x = np.concatenate([[0.0], np.cumsum(np.cos(heading))])
        y = np.concatenate([[0.0], np.cumsum(np.sin(heading))])
        if kind == "out_back":
            # come back on the other side of the road (4 m), so the way back is not an exact copy
            f = out / k
            x, y = x * f, y * f
            nx = np.gradient(y)
            ny = -np.gradient(x)
            norm = np.hypot(nx, ny)
            norm[norm == 0] = 1
            xb = (x + 4 * nx / norm)[::-1]
            yb = (y + 4 * ny / norm)[::-1]
            x = np.concatenate([x, xb[1:]])
            y = np.concatenate([y, yb[1:]])
    s = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
    f = length / s[-1] if s[-1] > 0 else 1.0
    s, x, y = s * f, x * f, y * f
    if kind == "loop":
        # a recorded loop rarely closes exactly: the watch is stopped a few metres from where it was started
        ang, r = rng.uniform(0, 2 * np.pi), rng.uniform(3, 25)
        frac = s / s[-1]
        x, y = x + r * np.cos(ang) * frac, y + r * np.sin(ang) * frac
        s = np.concatenate([[0.0], np.cumsum(np.hypot(np.diff(x), np.diff(y)))])
        f = length / s[-1]
        s, x, y = s * f, x * f, y * f
    return s, x, y


def _altitude_profile(rng: np.random.Generator, spec: StreamSpec) -> Callable[[np.ndarray], np.ndarray]:
    """Dimensionless terrain as a function of the position along the route (0..1); rescaled to the gain later."""
    # longer routes cross more hills: about one harmonic per 6 km, so the gain is spread over several climbs
    n_harm = int(np.clip(spec.distance / 6000.0, 4, 24))
    j = np.arange(1, n_harm + 1)
    amp = rng.uniform(0.3, 1.0, n_harm) / j**0.7
    phase = rng.uniform(0, 2 * np.pi, n_harm)
    climb = spec.sport_type in ("Hike", "TrailRun")
    trend = rng.uniform(-1, 1)
    # tabulated once on a grid fine enough for the highest harmonic, then interpolated per point
    grid = np.linspace(0.0, 1.0, 64 * n_harm + 1)
    if spec.route == "loop":
        table = np.sin(2 * np.pi * np.outer(grid, j) + phase) @ amp
    elif spec.route == "out_back":
        # the way back retraces the way out: altitude depends on the distance from the start only
        w = 1 - np.abs(1 - 2 * grid)
        table = (np.sin(np.pi * np.outer(w, j) + phase) @ amp) * (0.3 if climb else 1.0)
        if climb:
            table = table + 3.0 * w**1.4
    else:
        table = np.sin(np.pi * np.outer(grid, j) + phase) @ amp + trend * grid

    def f(u: np.ndarray) -> np.ndarray:
        return np.interp(u, grid, table)

    return f


# ------------------------------------------------------------------------------------------------ generation
def generate(spec: StreamSpec, scale: float = 1.0) -> dict[str, np.ndarray]:
    """All streams of one activity, keyed by stream type in STREAM_ORDER (only those the activity has)."""
    rng = np.random.default_rng(spec.seed)
    M, E, D = int(spec.moving_time), int(spec.elapsed_time), float(spec.distance)
    sport = spec.sport_type

    # --- time: integer steps; moving steps sum to moving_time, pauses to elapsed - moving
    gap = 2.6 if spec.smart else 1.0
    pause = E - M
    if spec.n_points:
        # as many points as asked for: more pauses when the moving seconds cannot hold them all
        n_int = max(2, min(int(spec.n_points) - 1, E))
        n_mov = int(min(M, n_int - (1 if pause > 0 else 0)))
        n_stops = int(min(n_int - n_mov, pause, max(n_mov - 1, 0)))
    else:
        n_mov = int(min(M, max(2, round(M * scale / gap))))
        n_stops = int(max(1, min(spec.n_stops, pause, n_mov - 1))) if pause > 0 and n_mov >= 2 else 0
    weights = rng.integers(1, 6, n_mov).astype(np.float64) if spec.smart else np.ones(n_mov)
    if weights.sum() > M:
        weights = np.ones(n_mov)
    dt_mov = _distribute(M, weights)
    n_int = n_mov + n_stops
    is_stop = np.zeros(n_int, dtype=bool)
    dt = np.empty(n_int, dtype=np.int64)
    if n_stops:
        after = np.sort(rng.choice(np.arange(1, n_mov), size=n_stops, replace=False))
        is_stop[after + np.arange(n_stops)] = True
        dt[is_stop] = _distribute(pause, rng.random(n_stops) + 0.3)
    dt[~is_stop] = dt_mov
    t = np.concatenate([[0], np.cumsum(dt)])
    n = len(t)
    mean_dt = M / n_mov
    te = t[1:].astype(np.float64)

    def samples(seconds: float) -> int:
        return max(1, int(round(seconds / mean_dt)))

    # --- effort: a speed shape per interval (or power first, for a trainer ride)
    watts_int = None
    shape = np.ones(n_int)
    if sport == "VirtualRide":
        p = spec.ftp * (0.62 + 0.06 * _noise(rng, n_int, samples(120)))
        if spec.workout:
            period = rng.uniform(300, 600)
            on = ((te % period) < period * 0.4) & (te > 600) & (te < M - 300)
            p = np.where(on, p * 1.45, p)
        p *= 1 + 0.1 * _noise(rng, n_int, samples(4))
        sprints = rng.random(n_int) < 0.002 * mean_dt
        p = np.where(_smooth(sprints.astype(np.float64), samples(12)) > 0, p * 2.2, p)
        watts_int = np.maximum(p, 0)
        shape = np.cbrt(np.maximum(watts_int, 20.0))
    elif sport != "WeightTraining":
        for _ in range(3):
            shape += rng.uniform(0.02, 0.06) * np.sin(2 * np.pi * te / rng.uniform(150, 1800) + rng.uniform(0, 6.3))
        if spec.workout:
            period = rng.uniform(240, 600)
            on = ((te % period) < period * 0.45) & (te > 600) & (te < M - 300)
            shape *= np.where(on, 1.18, 0.92)
        shape *= 1 - 0.1 * np.exp(-te / 240.0)
        shape *= 1 + 0.03 * _noise(rng, n_int, samples(10))
    shape = np.maximum(shape, 0.05)

    profile = _altitude_profile(rng, spec) if spec.altitude and D > 0 else None

    def distances(sh: np.ndarray) -> np.ndarray:
        inc = np.where(is_stop, 0.0, sh * dt)
        total = inc.sum()
        if D <= 0 or total <= 0:
            return np.zeros(n)
        return np.concatenate([[0.0], np.cumsum(inc * (D / total))])

    cum = distances(shape)
    grade_int = np.zeros(n_int)
    alt_scale = 0.0
    if profile is not None:
        f1 = profile(np.clip(cum / D, 0.0, 1.0))
        g1 = _gain(f1)
        alt_scale = (spec.gain_dm / 10.0) / g1 if g1 > 0 else 0.0
        # terrain slows climbs and speeds up descents (less for walkers, more on a bike)
        grade_int = np.clip(np.diff(f1 * alt_scale) / np.maximum(np.diff(cum), 0.5), -0.3, 0.3)
        if sport != "VirtualRide":
            k = 6.0 if sport in ("Ride",) else 3.5
            shape = shape * np.clip(np.exp(-k * grade_int), 0.35, 1.6)
            cum = distances(shape)
    distance = np.round(cum, 1)

    out: dict[str, np.ndarray] = {}
    out["distance"] = distance

    # --- altitude fitted to the elevation gain, exactly, in decimetres
    altitude = None
    if profile is not None:
        f = profile(np.clip(cum / D, 0.0, 1.0))
        g = _gain(f)
        k = (spec.gain_dm / 10.0) / g if g > 0 else 0.0
        dm = np.round((spec.base_alt + k * (f - f[0])) * 10).astype(np.int64)
        # valleys stay near the start's altitude (a shift keeps the gain): no rides 100 m below Ljubljana
        floor = int(round((spec.base_alt - min(40.0, 0.8 * abs(spec.base_alt))) * 10))
        if dm.min() < floor:
            dm += floor - dm.min()
        dm = fit_gain(dm, int(spec.gain_dm))
        altitude = dm / 10.0
        out["altitude"] = altitude

    if spec.gps and D > 0:
        s, x, y = _route(rng, spec.route, D)
        origin = spec.origin or (46.0569, 14.5058)
        out["latlng"] = to_latlng(origin, np.interp(cum, s, x), np.interp(cum, s, y))

    out["time"] = t

    # --- speed as the recording reports it: per point, smoothed over ~5 s, 0 while stopped
    v_pt = np.zeros(n)
    if D > 0:
        v_pt[1:] = np.where(is_stop, 0.0, np.diff(cum) / dt)
        v_pt[0] = v_pt[1] if n > 1 and not is_stop[0] else 0.0
        velocity = np.round(_smooth(v_pt, samples(5)), 3)
        velocity[1:][is_stop] = 0.0
        out["velocity_smooth"] = velocity
    moving = np.concatenate([[False], ~is_stop])
    stop_pt = np.concatenate([[False], is_stop])
    grade_pt = np.concatenate([[0.0], grade_int])

    if spec.heartrate:
        tt = t.astype(np.float64)
        if sport == "WeightTraining":
            sets = np.clip(np.sin(2 * np.pi * tt / rng.uniform(120, 200) + rng.uniform(0, 6.3)), 0, 1) ** 1.5
            hr = 92 + (spec.hr_target - 92) * 1.6 * sets + 3 * _noise(rng, n, samples(20))
        else:
            # cardiac drift: a few beats in the first hours, levelling off
            drift = rng.uniform(4, 10) * (1 - np.exp(-tt / 5400.0))
            rel_speed = np.concatenate([[1.0], shape / shape.mean()])
            hr = (
                spec.hr_target
                + drift
                + 4 * _noise(rng, n, samples(90))
                + np.clip(120 * _smooth(grade_pt, samples(30)), -10, 14)
                + np.clip(25 * (_smooth(rel_speed, samples(30)) - 1), -12, 12)
            )
            warm = 1 - np.exp(-tt / rng.uniform(120, 300))
            hr = 92 + (hr - 92) * warm
            hr = np.where(stop_pt, hr - 15, hr)
            hr += 1.2 * _noise(rng, n, samples(3))
        out["heartrate"] = np.clip(np.round(hr), 50, spec.hr_max).astype(np.int64)

    coasting = np.zeros(n, dtype=bool)
    if sport == "Ride":
        coasting = (grade_pt < -0.03) & (_noise(rng, n, samples(8)) > -0.3)
    if spec.cadence:
        if sport in ("Run", "TrailRun"):
            rel = v_pt / (D / M) if D > 0 else np.ones(n)
            cad = 81 + 6 * np.clip(rel - 1, -0.5, 0.6) + 1.5 * _noise(rng, n, samples(20))
        elif sport in ("Walk", "Hike"):
            cad = 53 + 3 * _noise(rng, n, samples(30))
        else:
            cad = 87 + 5 * _noise(rng, n, samples(20))
        cad = np.where(stop_pt | coasting, 0, cad)
        cad[0] = 0
        out["cadence"] = np.round(np.maximum(cad, 0)).astype(np.int64)

    if spec.watts:
        if watts_int is not None:
            w = np.concatenate([[0.0], watts_int])
        else:
            v = np.concatenate([[0.0], np.diff(cum) / np.maximum(dt, 1)])
            w = (0.5 * 1.225 * 0.32 * v**3 + 82 * 9.81 * v * (grade_pt + 0.005)) / 0.975
            w *= 1 + 0.08 * _noise(rng, n, samples(3))
        w = np.where(stop_pt | coasting, 0, w)
        w[0] = 0
        out["watts"] = np.clip(np.round(w), 0, 1500).astype(np.int64)

    if spec.temp:
        tmp = (
            spec.temp_base + 1.5 * np.sin(2 * np.pi * t / rng.uniform(1800, 7200)) + 0.8 * _noise(rng, n, samples(300))
        )
        out["temp"] = np.round(tmp).astype(np.int64)

    out["moving"] = moving

    if altitude is not None:
        dd = np.diff(distance)
        da = np.diff(altitude)
        g = np.where(dd > 0.5, 100 * da / np.maximum(dd, 0.5), 0.0)
        g = np.clip(_smooth(np.concatenate([[0.0], g]), samples(10)), -35, 35)
        out["grade_smooth"] = np.round(g, 1)

    return {k: out[k] for k in STREAM_ORDER if k in out}


# ------------------------------------------------------------------------------------------------ replay
def synthesize_from_summary(
    summary: dict, scale: float = 1.0, recorded_distance: list | None = None
) -> dict[str, np.ndarray] | None:
    """Plausible streams for a recorded summary that has no recorded streams: same distance, times, route."""
    if summary.get("manual"):
        return None
    route = polyline.decode(summary.get("map", {}).get("summary_polyline") or "")
    has_gps = len(route) >= 2
    moving = max(int(summary.get("moving_time") or 1), 2)
    elapsed = max(int(summary.get("elapsed_time") or moving), moving)
    spec = StreamSpec(
        seed=int(summary["id"]) % (2**63),
        sport_type=summary.get("sport_type") or summary.get("type") or "Run",
        distance=round(float(summary.get("distance") or 0.0), 1),
        moving_time=moving,
        elapsed_time=elapsed,
        gain_dm=max(int(round(float(summary.get("total_elevation_gain") or 0) * 10)), 1),
        n_stops=3,
        smart=False,
        gps=False,
        route="point",
        altitude="elev_high" in summary and has_gps,
        heartrate=bool(summary.get("has_heartrate")),
        cadence="average_cadence" in summary,
        watts=bool(summary.get("device_watts")),
        temp="average_temp" in summary,
        hr_target=float(summary.get("average_heartrate") or 140),
        hr_max=float(summary.get("max_heartrate") or 190),
        temp_base=float(summary.get("average_temp") or 20),
    )
    if recorded_distance is not None and len(recorded_distance) >= 2:
        # keep the recorded distance stream and its length; the other streams are made to fit it
        spec = replace(spec, n_points=len(recorded_distance))
    out = generate(spec, scale)
    n = len(out["time"])
    if recorded_distance is not None and len(recorded_distance) >= 2:
        rec = np.asarray(recorded_distance, dtype=np.float64)
        src = np.linspace(0, 1, len(rec))
        dst = np.linspace(0, 1, n)
        out["distance"] = np.round(np.interp(dst, src, rec), 1) if len(rec) != n else rec
    dist = out["distance"]
    if has_gps:
        pts = np.asarray(route, dtype=np.float64)
        seg = np.concatenate([[0.0], np.cumsum(haversine_m(pts))])
        frac = dist / dist[-1] if dist[-1] > 0 else np.linspace(0, 1, n)
        pos = frac * seg[-1]
        ll = np.column_stack([np.interp(pos, seg, pts[:, 0]), np.interp(pos, seg, pts[:, 1])])
        if summary.get("start_latlng"):
            ll[0] = summary["start_latlng"]
        if summary.get("end_latlng"):
            ll[-1] = summary["end_latlng"]
        out["latlng"] = np.round(ll, 6)
    if "altitude" in out and "elev_low" in summary:
        a = out["altitude"]
        lo, hi = float(summary["elev_low"]), float(summary["elev_high"])
        span = a.max() - a.min()
        out["altitude"] = np.round(lo + (a - a.min()) * ((hi - lo) / span if span > 0 else 0.0), 1)
    if "heartrate" in out and summary.get("max_heartrate"):
        hr = out["heartrate"].astype(np.float64)
        avg, mx = float(summary["average_heartrate"]), float(summary["max_heartrate"])
        top = hr.max() - hr.mean()
        hr = avg + (hr - hr.mean()) * ((mx - avg) / top if top > 0 else 0.0)
        out["heartrate"] = np.clip(np.round(hr), 40, mx).astype(np.int64)
    if "cadence" in out and summary.get("average_cadence"):
        c = out["cadence"].astype(np.float64)
        nz = c > 0
        if nz.any():
            c[nz] += float(summary["average_cadence"]) - c[nz].mean()
        out["cadence"] = np.round(np.maximum(c, 0)).astype(np.int64)
    if "temp" in out:
        tmp = out["temp"].astype(np.float64)
        out["temp"] = np.round(tmp - tmp.mean() + float(summary["average_temp"])).astype(np.int64)
    return {k: out[k] for k in STREAM_ORDER if k in out}


# ------------------------------------------------------------------------------------------------ response
def _stream_data(key: str, arr: np.ndarray) -> list:
    if key == "latlng":
        return arr.tolist()
    if key == "moving":
        return arr.astype(bool).tolist()
    if key in INT_STREAMS:
        return arr.astype(np.int64).tolist()
    return arr.astype(np.float64).tolist()


def render_streams(streams: dict[str, np.ndarray], keys: list[str] | None, key_by_type: bool):
    """The /streams body: distance always (when the activity has it); only the asked-for types besides."""
    wanted = {"distance"} | set(keys or [])
    chosen = [k for k in STREAM_ORDER if k in wanted and k in streams]
    items = []
    for k in chosen:
        data = _stream_data(k, streams[k])
        items.append((k, {"data": data, "series_type": "distance", "original_size": len(data), "resolution": "high"}))
    if key_by_type:
        return {k: v for k, v in items}
    return [{"type": k, **v} for k, v in items]


class StreamCache:
    """Small LRU of generated streams: a client asks for the streams of one activity a few times at most."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._items: OrderedDict = OrderedDict()

    def get(self, key, make: Callable[[], dict | None]):
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = make()  # outside the lock: generation of one activity must not block the others
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
