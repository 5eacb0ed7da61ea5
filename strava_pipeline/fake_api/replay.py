"""Replay mode: the real recorded athlete (strava-reference/api) served under the same rules as the generated one.

The 1,132 recorded summaries are served unchanged; recorded detail/laps/zones/streams are served for the activities
they belong to, and plausible ones are synthesized from the summary for every other activity.
"""

from __future__ import annotations

import copy
import json
import os
import re
from pathlib import Path

from strava_pipeline.fake_api.metrics import MILE_M, Derived, Zones, iso, suffer_score
from strava_pipeline.fake_api.store import Dataset, Record, parse_time
from strava_pipeline.fake_api.streams import StreamCache, synthesize_from_summary

STATS_VISIBILITY = ("heart_rate", "pace", "power", "speed", "calories")


def reference_dir() -> Path:
    """The shared strava-reference folder: $STRAVA_REFERENCE_DIR, else ../shared/strava-reference next to the repo."""
    env = os.environ.get("STRAVA_REFERENCE_DIR")
    path = Path(env) if env else Path(__file__).resolve().parents[2].parent / "shared" / "strava-reference"
    if not (path / "api" / "activities_page_001.json").is_file():
        raise FileNotFoundError(
            f"Strava reference recordings not found in {path} (expected api/activities_page_001.json); "
            "set STRAVA_REFERENCE_DIR to the strava-reference folder"
        )
    return path


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def _recorded_activity_id(api: Path, name: str) -> int | None:
    """The activity a recording belongs to, from the request path in its .meta.json."""
    meta = api / f"{name}.meta.json"
    if not meta.is_file():
        return None
    m = re.search(r"/activities/(\d+)", _load(meta)["request"]["path"])
    return int(m.group(1)) if m else None


class ReplayAthlete(Dataset):
    def __init__(self, clock, scale: float = 1.0) -> None:
        super().__init__()
        self.clock = clock
        self.dir = reference_dir()
        api = self.dir / "api"
        self.scale = scale
        pages = sorted(api.glob("activities_page_[0-9][0-9][0-9].json"))
        self.listing_order: list[int] = []
        recs = []
        for page in pages:
            for a in _load(page):
                recs.append(
                    Record(id=int(a["id"]), start_ts=parse_time(a["start_date"]), private=bool(a["private"]), source=a)
                )
                self.listing_order.append(int(a["id"]))
        self._add_records(recs)
        self._athlete = _load(api / "athlete.json")
        self.athlete_id = int(self._athlete["id"])
        self._stats = _load(api / "athlete_stats.json")
        self._athlete_zones = _load(api / "athlete_zones.json")
        self._gear_files = {g["id"]: g for g in (_load(api / "gear.json"), _load(api / "gear_bike.json"))}
        self._detail = {}
        detail = _load(api / "activity_detail.json")
        self._detail[int(detail["id"])] = detail
        self._laps = {}
        laps_id = _recorded_activity_id(api, "activity_laps")
        if laps_id:
            self._laps[laps_id] = _load(api / "activity_laps.json")
        self._zones = {}
        zones_id = _recorded_activity_id(api, "activity_zones")
        if zones_id:
            self._zones[zones_id] = _load(api / "activity_zones.json")
        self._recorded_streams = {}
        streams_id = _recorded_activity_id(api, "activity_streams")
        if streams_id:
            self._recorded_streams[streams_id] = _load(api / "activity_streams.json")
        hr = [z["min"] for z in self._athlete_zones["heart_rate"]["zones"]]
        pace = (0.0, 2.964, 3.443, 3.835, 4.097, 4.358)
        for z in self._zones.values():
            for dist in z:
                if dist.get("type") == "pace":
                    pace = tuple(float(b["min"]) for b in dist["distribution_buckets"])
        self.zones = Zones(hr_mins=tuple(hr), pace_mins=pace)
        self._stream_cache = StreamCache(32)
        self._added = 0

    # ------------------------------------------------------------------ per activity
    def base_summary(self, rec: Record) -> dict:
        return rec.source

    def base_value(self, rec: Record, key: str):
        return rec.source.get(key)

    def recorded_streams(self, activity_id: int) -> dict | None:
        return self._recorded_streams.get(activity_id)

    def streams_for(self, rec: Record) -> dict | None:
        summary = self.summary(rec)
        if summary.get("manual"):
            return None
        recorded = self._recorded_streams.get(rec.id, {}).get("distance", {}).get("data")

        def make():
            return synthesize_from_summary(summary, self.scale, recorded_distance=recorded)

        return self._stream_cache.get(rec.id, make)

    def _ctx(self, rec: Record, summary: dict) -> dict:
        return {
            "activity_id": rec.id,
            "visibility": summary["visibility"],
            "athlete_id": self.athlete_id,
            "start_ts": rec.start_ts,
            "utc_offset": summary["utc_offset"],
            "lap_id_base": 60_000_000_000 + (rec.id % 100_000_000) * 100,
            "effort_id_base": 80_000_000_000 + (rec.id % 100_000_000) * 20,
        }

    def _derived(self, rec: Record, summary: dict) -> Derived | None:
        streams = self.streams_for(rec)
        if streams is None:
            return None
        return Derived(streams, self.zones, summary.get("sport_type", ""), summary.get("type", ""))

    def laps_for(self, rec: Record) -> list:
        if rec.id in self._laps:
            return copy.deepcopy(self._laps[rec.id])
        if rec.id in self._detail and "laps" in self._detail[rec.id]:
            return copy.deepcopy(self._detail[rec.id]["laps"])
        summary = self.summary(rec)
        der = self._derived(rec, summary)
        return der.laps(None, self._ctx(rec, summary)) if der is not None else []

    def zones_for(self, rec: Record) -> list:
        if rec.id in self._zones:
            return copy.deepcopy(self._zones[rec.id])
        summary = self.summary(rec)
        der = self._derived(rec, summary)
        if der is None:
            return []
        return der.zone_distributions(summary.get("suffer_score"))

    def detail_for(self, rec: Record) -> dict:
        if rec.id in self._detail:
            return copy.deepcopy(self._detail[rec.id])
        summary = self.summary(rec)
        d = copy.deepcopy(summary)
        d["resource_state"] = 3
        streams = self.streams_for(rec)
        d["map"] = {
            "id": summary["map"]["id"],
            "polyline": summary["map"].get("summary_polyline") or "",
            "resource_state": 3,
            "summary_polyline": summary["map"].get("summary_polyline") or "",
        }
        d["description"] = None
        hours = (summary.get("moving_time") or 0) / 3600.0
        d["calories"] = float(round(hours * (650 if summary.get("type") == "Run" else 450)))
        d["perceived_exertion"] = None
        d["prefer_perceived_exertion"] = None
        d["segment_efforts"] = []
        der = self._derived(rec, summary)
        ctx = self._ctx(rec, summary)
        if der is not None and (summary.get("distance") or 0) > 0 and summary.get("type") != "Swim":
            d["splits_metric"] = der.splits(1000.0)
            d["splits_standard"] = der.splits(MILE_M)
        if der is not None:
            d["laps"] = der.laps(None, ctx)
        if summary.get("type") == "Run":
            d["best_efforts"] = der.best_efforts(ctx) if der is not None else []
        gear = self._gear_summary(summary.get("gear_id"))
        if gear is not None:
            d["gear"] = gear
        d["photos"] = {"primary": None, "count": int(summary.get("total_photo_count") or 0)}
        d["stats_visibility"] = [{"type": t, "visibility": "everyone"} for t in STATS_VISIBILITY]
        d["hide_from_home"] = False
        if not summary.get("manual"):
            d["device_name"] = "Garmin Forerunner 945"
        d["embed_token"] = "REDACTED"
        zones = []
        if summary.get("has_heartrate"):
            zones.append("heartrate")
        if summary.get("type") == "Run":
            zones.append("pace")
        d["available_zones"] = zones
        if streams is not None and summary.get("has_heartrate") and "suffer_score" not in d:
            d["suffer_score"] = suffer_score(streams, self.zones)
        return d

    # ------------------------------------------------------------------ athlete, gear
    def _gear_summary(self, gear_id: str | None) -> dict | None:
        if not gear_id:
            return None
        for g in self._athlete.get("shoes", []) + self._athlete.get("bikes", []):
            if g["id"] == gear_id:
                return copy.deepcopy(g)
        full = self.gear(gear_id, self.clock.now())
        if full is None:
            return None
        return {
            k: full[k]
            for k in (
                "id",
                "primary",
                "name",
                "nickname",
                "resource_state",
                "retired",
                "distance",
                "converted_distance",
            )
        } | {"resource_state": 2}

    def gear(self, gear_id: str, now: float) -> dict | None:
        if gear_id in self._gear_files:
            return copy.deepcopy(self._gear_files[gear_id])
        for g in self._athlete.get("shoes", []) + self._athlete.get("bikes", []):
            if g["id"] == gear_id:
                name = g["name"]
                brand, _, model = name.partition(" ")
                out = dict(g)
                out["resource_state"] = 3
                out.update({"brand_name": brand, "model_name": model or name, "description": None})
                if gear_id.startswith("g"):
                    out["notification_distance"] = 0
                return out
        used = any(r.source.get("gear_id") == gear_id for r in self._records.values())
        if not used:
            return None
        # gear that only appears on activities (retired): rebuilt from them
        dist = self.gear_distance(gear_id, now)
        shoe = gear_id.startswith("g")
        out = {
            "id": gear_id,
            "primary": False,
            "name": "Retired shoes" if shoe else "Retired bike",
            "nickname": "",
            "resource_state": 3,
            "retired": True,
            "distance": dist,
            "converted_distance": round(dist / 1609.344, 1),
            "brand_name": None,
            "model_name": None,
        }
        if shoe:
            out.update({"description": None, "notification_distance": 0})
        else:
            out.update({"frame_type": None, "description": None, "weight": None})
        return out

    def athlete(self, now: float) -> dict:
        return copy.deepcopy(self._athlete)

    def athlete_summary(self) -> dict:
        keys = (
            "id",
            "username",
            "resource_state",
            "firstname",
            "lastname",
            "city",
            "state",
            "country",
            "sex",
            "premium",
            "summit",
            "created_at",
            "updated_at",
            "badge_type_id",
            "profile_medium",
            "profile",
            "friend",
            "follower",
        )
        out = {k: self._athlete.get(k) for k in keys}
        out["resource_state"] = 2
        return out

    def athlete_zones(self) -> dict:
        return copy.deepcopy(self._athlete_zones)

    def stats(self, now: float) -> dict:
        # the recorded stats (the recording's totals include activities outside the recorded listing)
        return copy.deepcopy(self._stats)

    def new_record(self, now: float, overrides: dict) -> tuple[Record, dict]:
        self._added += 1
        sport = overrides.pop("sport_type", None) or overrides.get("type") or "Run"
        template = next(
            (r.source for r in reversed(self._sorted()[0]) if r.source.get("sport_type") == sport),
            self._sorted()[0][-1].source,
        )
        s = copy.deepcopy(template)
        new_id = max(self._records) + 1000 * self._added
        start = (
            parse_time(overrides.pop("start_date"))
            if "start_date" in overrides
            else int(now) - int(s["elapsed_time"]) - 60
        )
        s.update(
            {
                "id": new_id,
                "start_date": iso(start),
                "start_date_local": iso(start + int(s["utc_offset"])),
                "sport_type": sport,
                "kudos_count": 0,
                "comment_count": 0,
                "achievement_count": 0,
            }
        )
        s["map"] = dict(s["map"], id=f"a{new_id}")
        if s.get("upload_id") is not None:
            s["upload_id"] = s["upload_id"] + 1000 * self._added
            s["upload_id_str"] = str(s["upload_id"])
        rec = Record(id=new_id, start_ts=start, private=bool(s.get("private")), source=s)
        return rec, overrides
