"""Numbers derived from streams: summary metrics, splits, laps, best efforts, zone distributions (shared by modes)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from strava_pipeline.fake_api import polyline

# Strava's best-effort names and distances (names as in activity_detail.json)
BEST_EFFORTS = (
    ("400m", 400),
    ("1/2 mile", 805),
    ("1K", 1000),
    ("1 mile", 1609),
    ("2 mile", 3219),
    ("5K", 5000),
    ("10K", 10000),
    ("15K", 15000),
    ("10 mile", 16090),
    ("20K", 20000),
    ("Half-Marathon", 21097),
    ("30K", 30000),
    ("Marathon", 42195),
)
# relative-effort points per hour in each heart-rate zone (calibrated on the recorded marathon: 656 points)
EFFORT_PER_HOUR = (25.0, 60.0, 110.0, 170.0, 220.0)
SUMMARY_POLYLINE_POINTS = 150
FULL_POLYLINE_POINTS = 1500
MILE_M = 1609.34


@dataclass(frozen=True)
class Zones:
    """The athlete's zone boundaries (lower bounds; the last zone is open-ended)."""

    hr_mins: tuple[int, ...]  # 5 heart-rate zones
    power_mins: tuple[int, ...] = ()  # 7 power zones (empty without an FTP)
    pace_mins: tuple[float, ...] = ()  # 6 pace zones in m/s


def _dt(t: np.ndarray) -> np.ndarray:
    """Seconds attributed to each point: the step that ends at it (0 for the first)."""
    return np.concatenate([[0], np.diff(t)])


def _every(n: int, max_points: int) -> np.ndarray:
    step = max(1, math.ceil(n / max_points))
    idx = np.arange(0, n, step)
    if idx[-1] != n - 1:
        idx = np.append(idx, n - 1)
    return idx


def total_gain(altitude: np.ndarray) -> float:
    d = np.diff(altitude)
    return round(float(d[d > 0].sum()), 1)


def zone_times(values: np.ndarray, dt: np.ndarray, mins) -> np.ndarray:
    idx = np.searchsorted(np.asarray(mins[1:], dtype=np.float64), values, side="right")
    return np.bincount(idx, weights=dt, minlength=len(mins)).astype(np.float64)


def suffer_score(streams: dict, zones: Zones) -> float | None:
    if "heartrate" not in streams:
        return None
    times = zone_times(streams["heartrate"], _dt(streams["time"]), zones.hr_mins)
    return float(round(float(np.dot(times / 3600.0, EFFORT_PER_HOUR))))


def summary_metrics(streams: dict, moving_time: int, full_polyline: bool = False) -> dict:
    """Summary fields that come from the recording (only those the recording supports)."""
    m: dict = {}
    t = streams["time"]
    moving = streams["moving"]
    if "latlng" in streams and len(streams["latlng"]):
        ll = streams["latlng"]
        m["start_latlng"] = [float(ll[0, 0]), float(ll[0, 1])]
        m["end_latlng"] = [float(ll[-1, 0]), float(ll[-1, 1])]
        m["summary_polyline"] = polyline.encode(ll[_every(len(ll), SUMMARY_POLYLINE_POINTS)])
        if full_polyline:
            m["polyline"] = polyline.encode(ll[_every(len(ll), FULL_POLYLINE_POINTS)])
    if "velocity_smooth" in streams:
        m["max_speed"] = round(float(streams["velocity_smooth"].max()), 3)
    if "cadence" in streams:
        c = streams["cadence"][moving & (streams["cadence"] > 0)]
        if len(c):
            m["average_cadence"] = round(float(c.mean()), 1)
    if "temp" in streams:
        m["average_temp"] = int(round(float(streams["temp"].mean())))
    if "watts" in streams:
        w = streams["watts"][moving] if moving.any() else streams["watts"]
        avg = float(w.mean())
        m["average_watts"] = round(avg, 1)
        m["max_watts"] = int(streams["watts"].max())
        # normalized power: 30-second rolling mean, 4th power, mean, 4th root
        mean_dt = max(float(t[-1]) / max(len(t) - 1, 1), 1.0)
        win = max(1, min(len(w), int(round(30 / mean_dt))))
        roll = np.convolve(w.astype(np.float64), np.ones(win) / win, mode="valid")
        m["weighted_average_watts"] = int(round(float(np.mean(roll**4)) ** 0.25))
        m["kilojoules"] = round(m["average_watts"] * moving_time / 1000.0, 1)
        m["device_watts"] = True
    if "heartrate" in streams:
        hr = streams["heartrate"]
        m["average_heartrate"] = round(float(hr.mean()), 1)
        m["max_heartrate"] = float(hr.max())
    if "altitude" in streams:
        alt = streams["altitude"]
        m["elev_high"] = round(float(alt.max()), 1)
        m["elev_low"] = round(float(alt.min()), 1)
        m["total_elevation_gain"] = total_gain(alt)
    return m


def pace_zone(speed: float, zones: Zones) -> int:
    if not zones.pace_mins:
        return 0
    return int(np.searchsorted(np.asarray(zones.pace_mins[1:]), speed, side="right")) + 1


def _segments(distance: np.ndarray, unit: float) -> list[tuple[int, int]]:
    """(start_index, end_index) of consecutive pieces of `unit` metres (the last one may be shorter)."""
    n = len(distance)
    total = float(distance[-1])
    if total <= 0 or n < 2:
        return []
    full = int(total // unit)
    bounds = [k * unit for k in range(1, full + 1)]
    if total - full * unit >= 1.0 or not bounds:
        bounds.append(total)
    ends = np.minimum(np.searchsorted(distance, np.asarray(bounds), side="left"), n - 1)
    out, start = [], 0
    for e in ends:
        e = int(min(max(int(e), start + 1), n - 1))
        if e > start:
            out.append((start, e))
            start = e
    return out


class Derived:
    """Per-activity derived objects; one instance per (activity, streams)."""

    def __init__(self, streams: dict, zones: Zones, sport_type: str, activity_type: str) -> None:
        self.s = streams
        self.zones = zones
        self.sport_type = sport_type
        self.is_run = activity_type == "Run"
        t = streams["time"]
        self.t = t
        step_moving = np.concatenate([[0], np.diff(t) * streams["moving"][1:]])
        self.cum_moving = np.cumsum(step_moving)
        self.d = streams["distance"]
        self.hr_cum = np.concatenate([[0.0], np.cumsum(streams["heartrate"][1:])]) if "heartrate" in streams else None

    def moving_between(self, i0: int, i1: int) -> int:
        return int(self.cum_moving[i1] - self.cum_moving[i0])

    def _hr_mean(self, i0: int, i1: int) -> float | None:
        if self.hr_cum is None or i1 <= i0:
            return None
        return float((self.hr_cum[i1] - self.hr_cum[i0]) / (i1 - i0))

    def splits(self, unit: float) -> list[dict]:
        out = []
        alt = self.s.get("altitude")
        for k, (i0, i1) in enumerate(_segments(self.d, unit), 1):
            dist = round(float(self.d[i1] - self.d[i0]), 1)
            mov = self.moving_between(i0, i1)
            speed = dist / mov if mov > 0 else 0.0
            sp = {
                "distance": dist,
                "elapsed_time": int(self.t[i1] - self.t[i0]),
                "elevation_difference": round(float(alt[i1] - alt[i0]), 1) if alt is not None else None,
                "moving_time": mov,
                "split": k,
                "average_speed": round(speed, 2),
            }
            if self.is_run:
                grade = (float(alt[i1] - alt[i0]) / dist) if alt is not None and dist > 0 else 0.0
                sp["average_grade_adjusted_speed"] = round(speed * (1 + 3.3 * grade), 2)
            hr = self._hr_mean(i0, i1)
            if hr is not None:
                sp["average_heartrate"] = hr
            sp["pace_zone"] = pace_zone(speed, self.zones) if self.is_run else 0
            out.append(sp)
        return out

    def lap_ranges(self, lap_m: float | None) -> list[tuple[int, int]]:
        n = len(self.t)
        if not lap_m or self.d[-1] <= lap_m:
            return [(0, n - 1)]
        return _segments(self.d, lap_m) or [(0, n - 1)]

    def laps(self, lap_m: float | None, ctx: dict) -> list[dict]:
        """ctx: activity_id, visibility, athlete_id, start_ts, utc_offset, lap_id_base."""
        out = []
        alt = self.s.get("altitude")
        v = self.s.get("velocity_smooth")
        for k, (i0, i1) in enumerate(self.lap_ranges(lap_m), 1):
            dist = round(float(self.d[i1] - self.d[i0]), 2)
            mov = self.moving_between(i0, i1)
            elapsed = int(self.t[i1] - self.t[i0])
            lap = {
                "id": ctx["lap_id_base"] + k,
                "resource_state": 2,
                "name": f"Lap {k}",
                "activity": {"id": ctx["activity_id"], "visibility": ctx["visibility"], "resource_state": 1},
                "athlete": {"id": ctx["athlete_id"], "resource_state": 1},
                "elapsed_time": elapsed,
                "moving_time": mov,
                "start_date": iso(ctx["start_ts"] + int(self.t[i0])),
                "start_date_local": iso(ctx["start_ts"] + int(self.t[i0]) + int(ctx["utc_offset"])),
                "distance": dist,
                "average_speed": round(dist / mov, 2) if mov > 0 else 0.0,
                "max_speed": round(float(v[i0 : i1 + 1].max()), 3) if v is not None else 0.0,
                "lap_index": k,
                "split": k,
                "start_index": int(i0),
                "end_index": int(i1),
            }
            gain = total_gain(alt[i0 : i1 + 1]) if alt is not None else 0
            lap["total_elevation_gain"] = gain if gain else 0
            if "cadence" in self.s:
                c = self.s["cadence"][i0 : i1 + 1]
                c = c[c > 0]
                if len(c):
                    lap["average_cadence"] = round(float(c.mean()), 1)
            lap["device_watts"] = "watts" in self.s
            if "watts" in self.s:
                lap["average_watts"] = round(float(self.s["watts"][i0 : i1 + 1].mean()), 1)
            if "heartrate" in self.s:
                hr = self.s["heartrate"][i0 : i1 + 1]
                lap["average_heartrate"] = round(float(hr.mean()), 1)
                lap["max_heartrate"] = float(hr.max())
            if self.is_run:
                lap["pace_zone"] = pace_zone(dist / mov if mov else 0.0, self.zones)
            out.append(lap)
        return out

    def best_efforts(self, ctx: dict) -> list[dict]:
        """Fastest elapsed time over each standard distance the run covers (runs only)."""
        out = []
        d, t = self.d, self.t
        n = len(d)
        for k, (name, meters) in enumerate(BEST_EFFORTS):
            if d[-1] < meters:
                break
            j = np.searchsorted(d, d + meters, side="left")
            ok = j < n
            if not ok.any():
                break
            i_idx = np.nonzero(ok)[0]
            spans = t[j[ok]] - t[i_idx]
            best = int(np.argmin(spans))
            i0, i1 = int(i_idx[best]), int(j[ok][best])
            elapsed = int(spans[best])
            out.append(
                {
                    "id": ctx["effort_id_base"] + k,
                    "resource_state": 2,
                    "name": name,
                    "activity": {"id": ctx["activity_id"], "visibility": ctx["visibility"], "resource_state": 1},
                    "athlete": {"id": ctx["athlete_id"], "resource_state": 1},
                    "elapsed_time": elapsed,
                    "moving_time": elapsed,
                    "start_date": iso(ctx["start_ts"] + int(t[i0])),
                    "start_date_local": iso(ctx["start_ts"] + int(t[i0]) + int(ctx["utc_offset"])),
                    "distance": meters,
                    "pr_rank": None,
                    "achievements": [],
                    "start_index": i0,
                    "end_index": i1,
                }
            )
        return out

    def zone_distributions(self, score: float | None) -> list[dict]:
        out = []
        dt = _dt(self.t)
        if "heartrate" in self.s:
            mins = self.zones.hr_mins
            times = zone_times(self.s["heartrate"], dt, mins)
            buckets = [
                {"min": int(mins[i]), "max": int(mins[i + 1]) - 1 if i + 1 < len(mins) else -1, "time": float(times[i])}
                for i in range(len(mins))
            ]
            buckets[0]["min"] = 0
            out.append(
                {
                    "score": float(score or 0.0),
                    "distribution_buckets": buckets,
                    "type": "heartrate",
                    "resource_state": 3,
                    "sensor_based": True,
                    "points": int(round((score or 0) * 0.9)),
                    "custom_zones": False,
                }
            )
        if "watts" in self.s and self.zones.power_mins:
            mins = self.zones.power_mins
            times = zone_times(self.s["watts"], dt, mins)
            buckets = [
                {"min": int(mins[i]), "max": int(mins[i + 1]) if i + 1 < len(mins) else -1, "time": float(times[i])}
                for i in range(len(mins))
            ]
            load = float(np.dot(times / 3600.0, (20, 40, 60, 80, 110, 140, 170)))
            out.append(
                {
                    "score": int(round(load)),
                    "distribution_buckets": buckets,
                    "type": "power",
                    "resource_state": 3,
                    "sensor_based": True,
                }
            )
        if self.is_run and self.zones.pace_mins and "velocity_smooth" in self.s:
            out.append(pace_distribution(self.s["velocity_smooth"], dt, self.zones))
        return out


def pace_distribution(speed: np.ndarray, dt: np.ndarray, zones: Zones) -> dict:
    mins = zones.pace_mins
    times = zone_times(speed, dt, mins)
    buckets = [
        {
            "max": round(float(mins[i + 1]), 3) if i + 1 < len(mins) else -1,
            "min": round(float(mins[i]), 3),
            "time": int(round(times[i])),
        }
        for i in range(len(mins))
    ]
    score = int(round(float(np.dot(times / 3600.0, (1, 2, 4, 8, 12, 16)))))
    return {"score": score, "distribution_buckets": buckets, "type": "pace", "resource_state": 3, "sensor_based": True}


def iso(ts: float) -> str:
    """Epoch seconds -> "YYYY-MM-DDTHH:MM:SSZ" (also used for local wall time, as Strava does)."""
    return datetime.fromtimestamp(int(ts), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
