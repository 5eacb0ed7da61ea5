"""Activities of one athlete as the API shows them: visibility by clock and scope, paging, edits, stats and gear totals.

Both athlete sources (generated in data.py, recorded in replay.py) subclass Dataset and supply the per-activity
objects; everything that depends on which activities exist right now lives here.
"""

from __future__ import annotations

import bisect
import copy
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from strava_pipeline.fake_api.metrics import iso

# SummaryActivity keys in the order Strava sends them (SHAPES.md); power keys placed where Strava puts them
SUMMARY_KEYS = (
    "resource_state",
    "athlete",
    "name",
    "distance",
    "moving_time",
    "elapsed_time",
    "total_elevation_gain",
    "type",
    "sport_type",
    "workout_type",
    "id",
    "start_date",
    "start_date_local",
    "timezone",
    "utc_offset",
    "location_city",
    "location_state",
    "location_country",
    "achievement_count",
    "kudos_count",
    "comment_count",
    "athlete_count",
    "photo_count",
    "map",
    "trainer",
    "commute",
    "manual",
    "private",
    "visibility",
    "flagged",
    "gear_id",
    "start_latlng",
    "end_latlng",
    "average_speed",
    "max_speed",
    "average_cadence",
    "average_temp",
    "average_watts",
    "max_watts",
    "weighted_average_watts",
    "kilojoules",
    "device_watts",
    "has_heartrate",
    "average_heartrate",
    "max_heartrate",
    "heartrate_opt_out",
    "display_hide_heartrate_option",
    "elev_high",
    "elev_low",
    "upload_id",
    "upload_id_str",
    "external_id",
    "from_accepted_tag",
    "pr_count",
    "total_photo_count",
    "has_kudoed",
    "suffer_score",
)
DETAIL_EXTRA_KEYS = (
    "description",
    "calories",
    "perceived_exertion",
    "prefer_perceived_exertion",
    "segment_efforts",
    "splits_metric",
    "splits_standard",
    "laps",
    "best_efforts",
    "gear",
    "photos",
    "stats_visibility",
    "hide_from_home",
    "device_name",
    "embed_token",
    "similar_activities",
    "available_zones",
)
_KEY_RANK = {k: i for i, k in enumerate(SUMMARY_KEYS + DETAIL_EXTRA_KEYS)}
RIDE_TYPES = ("Ride", "VirtualRide", "EBikeRide", "Handcycle", "Velomobile")
RECENT_S = 28 * 86400


def parse_time(value) -> int:
    """Epoch seconds from an int/float, an aware datetime or an ISO string ("...Z")."""
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return int(value.timestamp())
    if isinstance(value, str):
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=UTC)
        return int(dt.timestamp())
    raise TypeError(f"cannot read a time from {value!r}")


@dataclass
class Record:
    id: int
    start_ts: int
    private: bool
    source: Any  # the plan (generated) or the recorded summary dict (replay)
    deleted: bool = False
    overrides: dict = field(default_factory=dict)


def _merge(base: dict, overrides: dict, allowed: set | None = None) -> dict:
    if not overrides:
        return base
    out = dict(base)
    added = False
    for k, v in overrides.items():
        if allowed is not None and k not in out and k not in allowed:
            continue
        added = added or k not in out
        out[k] = v
    if added:
        # a field the activity did not have (e.g. average_heartrate) goes where Strava would put it
        ranked = sorted(out.items(), key=lambda kv: _KEY_RANK.get(kv[0], len(_KEY_RANK)))
        out = dict(ranked)
    return out


class Dataset:
    athlete_id: int = 0

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[int, Record] = {}
        self._order: list[Record] | None = None
        self._order_ts: list[int] = []
        self._summaries: dict[int, dict] = {}

    # ---------------------------------------------------------------- implemented by the sources
    def ensure(self, now: float) -> None:
        """Make sure every activity that can be visible at `now` exists (generated mode grows with the clock)."""

    def base_summary(self, rec: Record) -> dict:
        raise NotImplementedError

    def base_value(self, rec: Record, key: str):
        raise NotImplementedError

    def detail_for(self, rec: Record) -> dict:
        raise NotImplementedError

    def streams_for(self, rec: Record) -> dict | None:
        raise NotImplementedError

    def laps_for(self, rec: Record) -> list:
        raise NotImplementedError

    def zones_for(self, rec: Record) -> list:
        raise NotImplementedError

    def athlete(self, now: float) -> dict:
        raise NotImplementedError

    def athlete_summary(self) -> dict:
        raise NotImplementedError

    def athlete_zones(self) -> dict:
        raise NotImplementedError

    def gear(self, gear_id: str, now: float) -> dict | None:
        raise NotImplementedError

    def new_record(self, now: float, overrides: dict) -> tuple[Record, dict]:
        """A new activity for add_activity: (record, overrides not consumed by generation)."""
        raise NotImplementedError

    # ---------------------------------------------------------------- shared
    def _add_records(self, recs) -> None:
        with self._lock:
            for r in recs:
                self._records[r.id] = r
            self._order = None

    def _sorted(self) -> tuple[list[Record], list[int]]:
        with self._lock:
            if self._order is None:
                self._order = sorted(
                    (r for r in self._records.values() if not r.deleted), key=lambda r: (r.start_ts, r.id)
                )
                self._order_ts = [r.start_ts for r in self._order]
            return self._order, self._order_ts

    def visible(
        self, now: float, include_private: bool = True, after: int | None = None, before: int | None = None
    ) -> list[Record]:
        """Activities started by `now` (not deleted), ascending by start_date; after/before are exclusive."""
        self.ensure(now)
        order, ts = self._sorted()
        hi = bisect.bisect_right(ts, int(now // 1))
        if before is not None:
            hi = min(hi, bisect.bisect_left(ts, before))
        lo = bisect.bisect_right(ts, after) if after is not None else 0
        recs = order[lo:hi]
        if not include_private:
            recs = [r for r in recs if not r.private]
        return recs

    def lookup(self, activity_id: int, now: float, include_private: bool) -> Record | None:
        self.ensure(now)
        rec = self._records.get(activity_id)
        if rec is None or rec.deleted or rec.start_ts > now or (rec.private and not include_private):
            return None
        return rec

    def listing(
        self, now: float, include_private: bool, after: int | None, before: int | None, page: int, per_page: int
    ) -> list[dict]:
        recs = self.visible(now, include_private, after, before)
        # Strava: oldest first when only `after` is given, newest first otherwise
        if not (after is not None and before is None):
            recs = recs[::-1]
        start = (page - 1) * per_page
        return [self.summary(r) for r in recs[start : start + per_page]]

    def summary(self, rec: Record) -> dict:
        base = self._summaries.get(rec.id)
        if base is None:
            base = self.base_summary(rec)
            self._summaries[rec.id] = base
        return _merge(base, rec.overrides, set(SUMMARY_KEYS))

    def detail(self, rec: Record) -> dict:
        return _merge(self.detail_for(rec), rec.overrides, set(SUMMARY_KEYS + DETAIL_EXTRA_KEYS))

    def value(self, rec: Record, key: str):
        if key in rec.overrides:
            return rec.overrides[key]
        return self.base_value(rec, key)

    # ---------------------------------------------------------------- edits (test helpers)
    def add(self, now: float, overrides: dict) -> dict:
        with self._lock:
            rec, rest = self.new_record(now, dict(overrides))
            if rec.id in self._records:
                raise ValueError(f"activity {rec.id} exists already")
            self._add_records([rec])
            if rest:
                self._apply_update(rec, rest)
            return copy.deepcopy(self.summary(rec))

    def update(self, activity_id: int, fields: dict) -> dict:
        with self._lock:
            rec = self._records.get(int(activity_id))
            if rec is None or rec.deleted:
                raise KeyError(f"no activity {activity_id}")
            self._apply_update(rec, dict(fields))
            return copy.deepcopy(self.summary(rec))

    def _apply_update(self, rec: Record, fields: dict) -> None:
        if "visibility" in fields and "private" not in fields:
            fields["private"] = fields["visibility"] == "only_me"
        if "private" in fields:
            fields["private"] = bool(fields["private"])
            fields.setdefault("visibility", "only_me" if fields["private"] else "everyone")
            rec.private = fields["private"]
        if "start_date" in fields:
            rec.start_ts = parse_time(fields["start_date"])
            fields["start_date"] = iso(rec.start_ts)
            if "utc_offset" not in fields:
                # the offset in force at the new time (DST), from the IANA name after the "(GMT+01:00) " label
                label = fields.get("timezone") or self.summary(rec).get("timezone") or ""
                try:
                    off = datetime.fromtimestamp(rec.start_ts, tz=ZoneInfo(label.split(") ", 1)[-1])).utcoffset()
                    fields["utc_offset"] = float(off.total_seconds())
                except (ValueError, KeyError, ZoneInfoNotFoundError):
                    fields["utc_offset"] = self.summary(rec).get("utc_offset", 0.0)
            fields.setdefault("start_date_local", iso(rec.start_ts + int(fields["utc_offset"])))
            self._order = None
        if "sport_type" in fields and "type" not in fields:
            st = fields["sport_type"]
            fields["type"] = "Run" if st == "TrailRun" else ("Ride" if st in ("MountainBikeRide", "GravelRide") else st)
        rec.overrides.update(fields)

    def delete(self, activity_id: int) -> None:
        with self._lock:
            rec = self._records.get(int(activity_id))
            if rec is None or rec.deleted:
                raise KeyError(f"no activity {activity_id}")
            rec.deleted = True
            self._order = None

    # ---------------------------------------------------------------- aggregates
    def stats(self, now: float) -> dict:
        """athlete_stats.json shape; like Strava only activities with Everyone visibility count."""
        recs = [r for r in self.visible(now, include_private=False)]
        year_start = int(datetime(datetime.fromtimestamp(int(now), tz=UTC).year, 1, 1, tzinfo=UTC).timestamp())
        groups = {"ride": [], "run": [], "swim": []}
        for r in recs:
            t = self.value(r, "type")
            cat = "ride" if t in RIDE_TYPES else "run" if t == "Run" else "swim" if t == "Swim" else None
            if cat:
                groups[cat].append(r)

        def totals(items, with_achievements: bool) -> dict:
            if not items:
                out = {"count": 0, "distance": 0, "moving_time": 0, "elapsed_time": 0, "elevation_gain": 0}
                if with_achievements:
                    out["achievement_count"] = 0
                return out
            out = {
                "count": len(items),
                "distance": float(sum(float(self.value(r, "distance")) for r in items)),
                "moving_time": int(sum(int(self.value(r, "moving_time")) for r in items)),
                "elapsed_time": int(sum(int(self.value(r, "elapsed_time")) for r in items)),
                "elevation_gain": float(sum(float(self.value(r, "total_elevation_gain") or 0) for r in items)),
            }
            if with_achievements:
                out["achievement_count"] = int(sum(int(self.value(r, "achievement_count") or 0) for r in items))
            return out

        result = {}
        for cat in ("ride", "run", "swim"):
            result[f"recent_{cat}_totals"] = totals([r for r in groups[cat] if r.start_ts >= now - RECENT_S], True)
            result[f"all_{cat}_totals"] = totals(groups[cat], False)
        for cat in ("ride", "run", "swim"):
            result[f"ytd_{cat}_totals"] = totals([r for r in groups[cat] if r.start_ts >= year_start], False)
        return result

    def gear_distance(self, gear_id: str, now: float) -> int:
        return int(
            round(
                sum(
                    float(self.value(r, "distance") or 0)
                    for r in self.visible(now)
                    if self.value(r, "gear_id") == gear_id
                )
            )
        )

    def all_summaries(self, now: float, visible_only: bool = True) -> list[dict]:
        """Newest first; private ones included (the owner sees everything)."""
        if visible_only:
            recs = self.visible(now)
        else:
            self.ensure(now)
            recs = self._sorted()[0]
        return [copy.deepcopy(self.summary(r)) for r in reversed(recs)]
