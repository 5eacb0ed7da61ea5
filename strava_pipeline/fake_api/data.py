"""The generated athlete: a deterministic, multi-year activity history from a seed that grows as the clock moves.

Each day's activities depend only on (seed, day): which days exist is decided by the clock (an activity is visible
once it has started), never by when the fake was built. Only cheap "plans" are made up front; streams, and the
summary fields computed from them, are made on first use.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from strava_pipeline.fake_api.metrics import (
    MILE_M,
    Derived,
    Zones,
    iso,
    pace_distribution,
    suffer_score,
    summary_metrics,
)
from strava_pipeline.fake_api.store import Dataset, Record, parse_time
from strava_pipeline.fake_api.streams import StreamCache, StreamSpec, generate

EPOCH_DAY = date(2000, 1, 1)
# ids: 11 digits like real ones, 10_000_000_000 + upload_day * 10 + slot; added activities come after all of them
ID_BASE = 10_000_000_000
ADDED_ID_BASE = 19_000_000_000
UPLOAD_ID_OFFSET = 1_084_000_000
MANUAL_SHARE = 0.02
PRIVATE_SHARE = 0.05
FOOT = ("Run", "TrailRun", "Walk", "Hike")

# target shares: Run 45 %, Ride 25 %, VirtualRide 5 %, Swim 8 %, WeightTraining/Hike/Walk 5 % each; weights are
# tuned so that rides turned into runs on trips (no bike) still land on those shares
SPORT_WEIGHTS = (
    ("Run", 42.5),
    ("Ride", 25.5),
    ("VirtualRide", 5),
    ("Swim", 8),
    ("WeightTraining", 5),
    ("Hike", 5),
    ("Walk", 5),
)
MONTHLY_TEMP_C = (0.5, 2.5, 7.0, 11.5, 16.0, 20.0, 22.0, 21.5, 16.5, 11.5, 6.0, 1.5)

WATCH = "Garmin Forerunner 255"
EDGE = "Garmin Edge 530"
PHONE = "Strava App"
ZWIFT = "Zwift"


@dataclass(frozen=True)
class AthleteSpec:
    """Who the fake athlete is. n_activities=N: exactly N activities ending before the clock's now at construction."""

    seed: int = 7
    first_day: date = date(2022, 1, 1)
    activities_per_week: float = 4.0
    n_activities: int | None = None
    stream_scale: float = 1.0


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lng: float
    tz: str
    alt: float


HOME = Place("Ljubljana", 46.0569, 14.5058, "Europe/Ljubljana", 295.0)
TRAILHEADS = (
    Place("Šmarna gora", 46.1262, 14.4633, "Europe/Ljubljana", 330.0),
    Place("Krim", 45.9553, 14.4433, "Europe/Ljubljana", 300.0),
    Place("Golovec", 46.0437, 14.5325, "Europe/Ljubljana", 330.0),
)
TRIPS = (
    Place("Bled", 46.3683, 14.1146, "Europe/Ljubljana", 475.0),
    Place("Piran", 45.5283, 13.5683, "Europe/Ljubljana", 5.0),
    Place("Vienna", 48.2082, 16.3738, "Europe/Vienna", 180.0),
    Place("London", 51.5072, -0.1276, "Europe/London", 20.0),
    Place("Lisbon", 38.7223, -9.1393, "Europe/Lisbon", 40.0),
    Place("New York", 40.7812, -73.9665, "America/New_York", 30.0),
    Place("Gran Canaria", 27.7606, -15.5860, "Atlantic/Canary", 20.0),
    Place("Cortina d'Ampezzo", 46.5405, 12.1357, "Europe/Rome", 1220.0),
)
CUSTOM_NAMES = {
    "Run": (
        "Tempo 8k",
        "Intervals 6x800 m",
        "Easy recovery",
        "Rožnik loop",
        "Long run along the Ljubljanica",
        "Fartlek",
        "Parkrun",
    ),
    "TrailRun": ("Šmarna gora up & down", "Trail miles", "Golovec trails"),
    "Ride": ("Coffee ride", "Hills of Polhov Gradec", "Krim loop", "Gravel exploration"),
    "Hike": ("Šmarna gora", "Krim summit", "Sunny ridge walk"),
    "Walk": ("Walk with the dog", "Tivoli park stroll"),
    "Swim": ("Tivoli pool", "Technique 4x400"),
    "WeightTraining": ("Gym: legs", "Core + mobility"),
    "VirtualRide": ("Zwift - Watopia", "Zwift - Makuri Islands", "Zwift - Group Ride"),
}
DESCRIPTIONS = (
    "Legs felt good.",
    "Windy today 🌬️",
    "Easy, conversational pace.",
    "Z Ano po Rožniku.",
    "New shoes, first run.",
    "Rain the whole way, loved it.",
)
STATS_VISIBILITY = ("heart_rate", "pace", "power", "speed", "calories")


@dataclass
class Gear:
    id: str
    kind: str  # shoe | bike
    name: str
    brand: str
    model: str
    retired: bool = False
    primary: bool = False
    power_meter: bool = False
    frame_type: int | None = None
    weight: float | None = None
    description: str | None = None


@dataclass
class Plan:
    """Everything about an activity that is decided before its streams exist."""

    id: int
    seed: int
    start_ts: int
    tz: str
    sport_type: str
    name: str
    distance: float
    moving_time: int
    elapsed_time: int
    gain_dm: int
    workout_type: int | None = None
    manual: bool = False
    trainer: bool = False
    commute: bool = False
    private: bool = False
    gear_id: str | None = None
    device: str | None = None
    smart: bool = False
    gps: bool = True
    route: str = "loop"
    origin: tuple = (HOME.lat, HOME.lng)
    base_alt: float = HOME.alt
    has_hr: bool = True
    has_cadence: bool = True
    has_power: bool = False
    has_temp: bool = True
    hr_target: float = 145.0
    temp_base: float = 20.0
    workout: bool = False
    n_stops: int = 0
    lap_m: float | None = None
    kudos_count: int = 0
    comment_count: int = 0
    achievement_count: int = 0
    athlete_count: int = 1
    pr_count: int = 0
    total_photo_count: int = 0
    external_id: str | None = None
    description: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def type(self) -> str:
        return "Run" if self.sport_type == "TrailRun" else self.sport_type


def day_index(ts: float) -> int:
    return (datetime.fromtimestamp(int(ts), tz=UTC).date() - EPOCH_DAY).days


def _poisson(rng: random.Random, mu: float) -> int:
    limit, k, p = math.exp(-mu), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


_ZONES: dict[str, ZoneInfo] = {}


def _zone(name: str) -> ZoneInfo:
    z = _ZONES.get(name)
    if z is None:
        z = _ZONES[name] = ZoneInfo(name)
    return z


def tz_fields(tz: str, ts: int) -> tuple[str, float]:
    """(timezone label, utc_offset): the label carries the zone's standard offset, utc_offset the one in force."""
    dt = datetime.fromtimestamp(ts, tz=_zone(tz))
    off = dt.utcoffset() or timedelta(0)
    std = off - (dt.dst() or timedelta(0))
    mins = int(std.total_seconds() // 60)
    sign = "+" if mins >= 0 else "-"
    label = f"(GMT{sign}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}) {tz}"
    return label, float(off.total_seconds())


def _make_gear(seed: int) -> list[Gear]:
    r = random.Random(seed * 31 + 5)
    nums = r.sample(range(10_000_000, 29_999_999), 4)
    return [
        Gear(
            f"g{nums[0]}",
            "shoe",
            "Nike Pegasus 39",
            "Nike",
            "Pegasus 39",
            retired=True,
            description="Daily trainer, retired after a good run.",
        ),
        Gear(
            f"g{nums[1]}",
            "shoe",
            "Saucony Endorphin Speed 3",
            "Saucony",
            "Endorphin Speed 3",
            primary=True,
            description="Everyday and tempo.",
        ),
        Gear(
            f"b{nums[2]}",
            "bike",
            "Canyon Ultimate CF SL 8",
            "Canyon",
            "Ultimate CF SL 8",
            primary=True,
            power_meter=True,
            frame_type=3,
            weight=8.1,
            description="Road bike with a power meter.",
        ),
        Gear(
            f"b{nums[3]}",
            "bike",
            "Specialized Diverge Comp",
            "Specialized",
            "Diverge Comp",
            frame_type=5,
            weight=9.9,
            description="Gravel and commuting.",
        ),
    ]


class GeneratedAthlete(Dataset):
    def __init__(self, spec: AthleteSpec, clock, id_offset: int = 0) -> None:
        """id_offset moves this athlete's activity ids: several athletes on one fake never share an id (Strava's are
        unique across athletes)."""
        super().__init__()
        self._id_base = ID_BASE + int(id_offset)
        self._added_id_base = ADDED_ID_BASE + int(id_offset)
        if spec.activities_per_week <= 0:
            raise ValueError("activities_per_week must be > 0")
        self.spec = spec
        self.clock = clock
        self.seed = int(spec.seed)
        self.athlete_id = 20_000_000 + (self.seed * 7_654_321) % 70_000_000
        r = random.Random(self.seed * 7 + 3)
        self.first_names = ("Ana", "Maja", "Nina", "Luka", "Jan", "Tim", "Eva", "Žiga")
        self.firstname = r.choice(self.first_names)
        self.lastname = r.choice(("Novak", "Horvat", "Kovačič", "Krajnc", "Zupančič", "Potočnik"))
        self.sex = "F" if self.firstname in ("Ana", "Maja", "Nina", "Eva") else "M"
        self.hr_max = 184 + r.randint(0, 8)
        self.ftp = 220 + r.randint(0, 60)
        self.weight = round(r.uniform(58, 78), 1)
        threshold = round(r.uniform(3.6, 4.2), 2)
        hr = [0] + [int(round(self.hr_max * f)) for f in (0.59, 0.74, 0.81, 0.88)]
        self.zones = Zones(
            hr_mins=tuple(hr),
            power_mins=tuple(int(round(self.ftp * f)) for f in (0, 0.56, 0.76, 0.91, 1.06, 1.21, 1.51)),
            pace_mins=tuple(round(threshold * f, 3) for f in (0, 0.72, 0.84, 0.935, 1.0, 1.063)),
        )
        self.gear_list = _make_gear(self.seed)
        self._gear = {g.id: g for g in self.gear_list}
        self._used_ids: set[int] = set()
        self._late_slots: dict[int, int] = {}
        self._starts: set[int] = set()
        self._stream_cache = StreamCache(32)
        self._added = 0
        now = clock.now()
        if spec.n_activities is None:
            self._first_day = (spec.first_day - EPOCH_DAY).days
            self._retire_day = self._first_day + 500
            self._next_day = self._first_day
            self._grows = True
            self.ensure(now)
        else:
            self._grows = False
            self._build_fixed(now, int(spec.n_activities))
        self.created_ts = (
            int(
                datetime.combine(
                    EPOCH_DAY + timedelta(days=self._first_day - 120), datetime.min.time(), tzinfo=UTC
                ).timestamp()
            )
            + 66_730
        )

    # ------------------------------------------------------------------ schedule
    def ensure(self, now: float) -> None:
        if not self._grows:
            return
        target = day_index(now) + 2
        if self._next_day >= target:
            return
        with self._lock:  # one lock for schedule, ids and records: no request sees half a day
            recs = []
            while self._next_day < target:
                recs.extend(self._record(p) for p in self._day(self._next_day))
                self._next_day += 1
            self._add_records(recs)

    def _build_fixed(self, now: float, n: int) -> None:
        today = day_index(now)
        per_day = self.spec.activities_per_week / 7.0
        span = int(n / per_day) + 1
        self._first_day = today - span
        self._retire_day = self._first_day + int(span * 0.6)
        chosen: list[Plan] = []
        d = today
        while len(chosen) < n and d > today - 50 * span - 400:
            plans = [p for p in self._day(d) if p.start_ts + p.elapsed_time <= now]
            chosen.extend(sorted(plans, key=lambda p: -p.start_ts))
            d -= 1
        self._first_day = d + 1
        self._add_records(self._record(p) for p in chosen[:n])

    def _record(self, p: Plan) -> Record:
        return Record(id=p.id, start_ts=p.start_ts, private=p.private, source=p)

    def _week_place(self, week: int) -> Place | None:
        r = random.Random(self.seed * 7_000_003 + week)
        if r.random() < 0.07:
            return r.choice(TRIPS)
        return None

    def _day(self, di: int) -> list[Plan]:
        d = EPOCH_DAY + timedelta(days=di)
        rng = random.Random(self.seed * 1_000_003 + di)
        weekend = d.weekday() >= 5
        mu = self.spec.activities_per_week / 7.0 * (1.3 if weekend else 0.88)
        count = min(_poisson(rng, mu), 3)
        if count == 0:
            return []
        trip = self._week_place(di // 7)
        plans: list[Plan] = []
        prev_end = None
        for _ in range(count):
            sport = rng.choices([s for s, _ in SPORT_WEIGHTS], [w for _, w in SPORT_WEIGHTS])[0]
            plan = self._make_plan(rng, d, sport, trip, prev_end, weekend)
            if plan is None:
                break
            plans.append(plan)
            prev_end = plan.start_ts + plan.elapsed_time
        # ids follow the upload, not the start: usually in order, sometimes the later activity synced first,
        # and a few are uploaded days later (manual entries more often)
        slots = list(range(len(plans)))
        if len(slots) > 1 and rng.random() < 0.15:
            rng.shuffle(slots)
        for plan, slot in zip(plans, slots):
            late = 0
            if plan.manual and rng.random() < 0.5:
                late = rng.randint(1, 7)
            elif rng.random() < 0.04:
                late = rng.randint(1, 6)
            plan.id = self._assign_id(di, slot, late)
            plan.extra["upload_id"] = None if plan.manual else plan.id + UPLOAD_ID_OFFSET
        return plans

    def _assign_id(self, di: int, slot: int, late: int) -> int:
        if late == 0:
            cand = self._id_base + di * 10 + slot
            if cand not in self._used_ids:
                self._used_ids.add(cand)
                return cand
            late = 1
        day = di + late
        while True:
            nxt = self._late_slots.get(day, 9)
            if nxt >= 4:
                self._late_slots[day] = nxt - 1
                cand = self._id_base + day * 10 + nxt
                if cand not in self._used_ids:
                    self._used_ids.add(cand)
                    return cand
                continue
            day += 1

    def _unique_start(self, ts: int) -> int:
        # the real listing is strictly ordered by start_date: no two activities share a second
        while ts in self._starts:
            ts += 1
        self._starts.add(ts)
        return ts

    def _make_plan(
        self,
        rng: random.Random,
        d: date,
        sport: str,
        trip: Place | None,
        prev_end: int | None,
        weekend: bool,
        start_ts: int | None = None,
        manual: bool | None = None,
        private: bool | None = None,
    ) -> Plan | None:
        place = trip or HOME
        if trip is not None and sport in ("Ride", "VirtualRide") and rng.random() < 0.8:
            sport = "Run"  # no bike on most trips
        tz = place.tz
        # --- when
        if start_ts is None:
            if prev_end is None:
                if weekend:
                    hour = rng.uniform(7.5, 10.5)
                else:
                    hour = rng.choices(
                        (rng.gauss(6.4, 0.4), rng.gauss(12.1, 0.3), rng.gauss(17.6, 0.9)), (0.35, 0.2, 0.45)
                    )[0]
                hour = min(max(hour, 5.0), 21.0)
                secs = int(hour * 3600) + rng.randint(0, 59)
                local = datetime(d.year, d.month, d.day, tzinfo=_zone(tz)) + timedelta(seconds=secs)
                start_ts = int(local.timestamp())
            else:
                start_ts = prev_end + rng.randint(1800, 4 * 3600)
                local_hour = datetime.fromtimestamp(start_ts, tz=_zone(tz)).hour
                if local_hour >= 21 or local_hour < 5:
                    return None
        drawn_manual = rng.random() < MANUAL_SHARE and sport in ("Run", "Ride", "Swim", "WeightTraining", "Walk")
        drawn_private = rng.random() < PRIVATE_SHARE
        manual = drawn_manual if manual is None else manual
        private = drawn_private if private is None else private
        p = Plan(
            id=0,
            seed=rng.getrandbits(62),
            start_ts=start_ts,
            tz=tz,
            sport_type=sport,
            name="",
            distance=0.0,
            moving_time=0,
            elapsed_time=0,
            gain_dm=0,
            manual=manual,
            private=private,
            origin=(place.lat, place.lng),
            base_alt=place.alt,
        )
        month = datetime.fromtimestamp(start_ts, tz=UTC).month
        outdoor_temp = MONTHLY_TEMP_C[month - 1] + (6.0 if place.name in ("Gran Canaria", "Lisbon") else 0.0)
        retired_shoe, shoe = self.gear_list[0], self.gear_list[1]
        road, gravel = self.gear_list[2], self.gear_list[3]
        use_shoe = retired_shoe.id if day_index(start_ts) < self._retire_day else shoe.id

        def near(place_: Place, radius: float = 300.0) -> tuple[float, float]:
            # start somewhere within ~radius m of the place (so privacy zones have something to hide)
            r_ = radius * math.sqrt(rng.random())
            a_ = rng.uniform(0, 2 * math.pi)
            return (
                round(place_.lat + r_ * math.sin(a_) / 111_320, 6),
                round(place_.lng + r_ * math.cos(a_) / (111_320 * math.cos(math.radians(place_.lat))), 6),
            )

        p.origin = near(place)
        speed = 3.0
        gain_per_km = 8.0
        if sport == "Run":
            if rng.random() < 0.12:
                p.sport_type = "TrailRun"
            long_run = weekend and rng.random() < 0.4
            km = rng.uniform(15, 28) if long_run else min(max(rng.lognormvariate(math.log(9), 0.3), 3), 18)
            speed = rng.uniform(2.8, 3.6) * (0.93 if long_run else 1.0)
            p.hr_target = self.hr_max * (0.78 if long_run else 0.76)
            gain_per_km = rng.uniform(4, 14)
            if p.sport_type == "TrailRun":
                speed *= 0.75
                gain_per_km = rng.uniform(30, 60)
                if trip is None and rng.random() < 0.6:
                    th = rng.choice(TRAILHEADS)
                    p.origin, p.base_alt = near(th, 150), th.alt
            roll = rng.random()
            if long_run:
                p.workout_type = 2
            elif roll < 0.03:
                p.workout_type, speed, p.hr_target = 1, speed * 1.1, self.hr_max * 0.88
            elif roll < 0.13:
                p.workout_type, p.workout, p.hr_target = 3, True, self.hr_max * 0.8
            elif roll < 0.83:
                p.workout_type = 0
            p.device = PHONE if rng.random() < 0.08 else WATCH
            p.route = rng.choices(("loop", "out_back", "point"), (0.55, 0.35, 0.10))[0]
            p.gear_id = use_shoe
            p.lap_m = 1000.0 if rng.random() < 0.7 else None
            pause = rng.randint(10, 300) if rng.random() < 0.6 else 0
            p.distance = round(km * 1000, 1)
        elif sport == "Ride":
            commute = not weekend and rng.random() < 0.25 and trip is None
            if commute:
                km, speed, bike = rng.uniform(4, 9), rng.uniform(5.5, 6.5), gravel
                p.commute, p.route = True, "point"
            else:
                bike = road if rng.random() < 0.65 else gravel
                km = rng.uniform(25, 110)
                speed = rng.uniform(7.0, 8.5) if bike is road else rng.uniform(6.0, 7.0)
                p.route = rng.choices(("loop", "out_back", "point"), (0.6, 0.3, 0.1))[0]
            p.gear_id = bike.id
            p.has_power = bike.power_meter
            p.device = EDGE
            p.smart = True
            p.hr_target = self.hr_max * 0.70
            gain_per_km = rng.uniform(5, 15)
            roll = rng.random()
            p.workout_type = 12 if roll < 0.1 else 11 if roll < 0.12 else 10 if roll < 0.82 else None
            p.workout = p.workout_type == 12
            p.lap_m = 10_000.0 if rng.random() < 0.3 else None
            pause = rng.randint(120, 1200) if rng.random() < 0.7 else 0
            p.distance = round(km * 1000, 1)
        elif sport == "VirtualRide":
            minutes = rng.uniform(40, 90)
            speed = rng.uniform(8.5, 10.0)
            p.distance = round(minutes * 60 * speed, 1)
            p.gear_id, p.trainer, p.gps, p.device = road.id, True, False, ZWIFT
            p.has_power, p.has_temp, p.hr_target = True, False, self.hr_max * 0.74
            p.workout = rng.random() < 0.4
            p.name = rng.choice(CUSTOM_NAMES["VirtualRide"])
            gain_per_km, pause = 0.0, 0
        elif sport == "Swim":
            p.distance = float(rng.randrange(1500, 3550, 50))
            speed = rng.uniform(1.0, 1.3)
            p.trainer, p.gps, p.device = True, False, WATCH
            p.has_hr, p.has_cadence, p.has_temp = rng.random() < 0.6, False, False
            p.hr_target = self.hr_max * 0.70
            gain_per_km = 0.0
            pause = int(p.distance / speed * rng.uniform(0.15, 0.35))
            p.n_stops = rng.randint(5, 12)
        elif sport == "WeightTraining":
            p.distance = 0.0
            p.trainer, p.gps, p.device = True, False, WATCH
            p.has_cadence, p.has_temp = False, False  # heart rate only
            p.hr_target = self.hr_max * 0.55
            minutes = rng.uniform(30, 70)
            gain_per_km, pause = 0.0, 0
        elif sport == "Hike":
            km = rng.uniform(6, 18)
            speed = rng.uniform(1.0, 1.35)
            gain_per_km = rng.uniform(30, 70)
            if trip is None and rng.random() < 0.6:
                th = rng.choice(TRAILHEADS)
                p.origin, p.base_alt = near(th, 150), th.alt
            p.route = "out_back" if rng.random() < 0.7 else "loop"
            p.gear_id, p.device, p.hr_target = use_shoe, WATCH, self.hr_max * 0.62
            p.distance = round(km * 1000, 1)
            pause = int(km * 1000 / speed * rng.uniform(0.15, 0.5))
            p.n_stops = rng.randint(3, 8)
        else:  # Walk
            km = rng.uniform(2, 8)
            speed = rng.uniform(1.2, 1.5)
            gain_per_km = rng.uniform(3, 10)
            p.device = PHONE if rng.random() < 0.5 else WATCH
            p.gear_id, p.hr_target = use_shoe, self.hr_max * 0.52
            p.distance = round(km * 1000, 1)
            pause = rng.randint(0, 600)
        if p.device == PHONE:
            p.has_hr = p.has_cadence = p.has_temp = False
        elif p.device in (WATCH, EDGE) and sport not in ("Swim", "WeightTraining"):
            p.has_hr = rng.random() < 0.92
            p.has_cadence = sport != "Ride" or rng.random() < 0.8
        if sport == "WeightTraining":
            p.moving_time = int(minutes * 60)
        else:
            p.moving_time = max(60, int(round(p.distance / speed)))
        p.elapsed_time = p.moving_time + pause
        if pause and not p.n_stops:
            p.n_stops = rng.randint(1, 4)
        if p.gps:
            p.gain_dm = max(10, int(round(gain_per_km * p.distance / 1000 * 10)))
        # the watch on a wrist reads warmer than the air; indoors it is room temperature
        air = 21.0 if p.trainer else outdoor_temp
        p.temp_base = air + (8.0 if p.device == WATCH else 0.0) + rng.uniform(-2, 2)
        if manual:
            self._make_manual(p, rng)
        # --- names and social numbers
        if not p.name:
            if rng.random() < 0.15 and p.sport_type in CUSTOM_NAMES:
                p.name = rng.choice(CUSTOM_NAMES[p.sport_type])
            else:
                p.name = _default_name(p.sport_type, datetime.fromtimestamp(start_ts, tz=_zone(tz)).hour)
        if not p.private:
            p.kudos_count = rng.randint(0, 14)
            p.comment_count = rng.choice((0, 0, 0, 1, 2))
        p.athlete_count = rng.randint(2, 6) if rng.random() < 0.1 and not p.trainer else 1
        if p.type in ("Run", "Ride") and not p.manual:
            p.achievement_count = rng.choice((0, 0, 0, 1, 2, 4))
            p.pr_count = min(p.achievement_count, rng.choice((0, 0, 1, 2)))
        p.total_photo_count = rng.randint(1, 4) if rng.random() < 0.1 else 0
        if rng.random() < 0.15:
            p.description = rng.choice(DESCRIPTIONS)
        if not p.manual:
            if p.device == ZWIFT:
                p.external_id = f"zwift-activity-{rng.getrandbits(60)}.fit"
            elif p.device == PHONE:
                p.external_id = "%08X-%04X-%04X-%04X-%012X-activity.fit" % (
                    rng.getrandbits(32),
                    rng.getrandbits(16),
                    rng.getrandbits(16),
                    rng.getrandbits(16),
                    rng.getrandbits(48),
                )
            else:
                p.external_id = f"garmin_ping_{rng.randint(100_000_000_000, 999_999_999_999)}"
        p.start_ts = self._unique_start(p.start_ts)
        return p

    @staticmethod
    def _make_manual(p: Plan, rng: random.Random) -> None:
        # typed in by hand: round numbers, no device, no file, no streams
        p.manual, p.trainer, p.gps, p.device, p.smart = True, False, False, None, False
        p.has_hr = p.has_cadence = p.has_power = p.has_temp = False
        p.workout = False
        p.lap_m = None
        if p.distance > 0:
            p.distance = float(round(p.distance / 500) * 500 or 500)
        p.moving_time = int(round(p.moving_time / 60) * 60) or 60
        p.elapsed_time = p.moving_time
        p.gain_dm = 0
        p.n_stops = 0

    # ------------------------------------------------------------------ per activity
    def base_value(self, rec: Record, key: str):
        p: Plan = rec.source
        if key == "total_elevation_gain":
            return p.gain_dm / 10.0
        if key == "type":
            return p.type
        if key == "start_date":
            return iso(rec.start_ts)
        return getattr(p, key)

    def stream_spec(self, p: Plan) -> StreamSpec:
        return StreamSpec(
            seed=p.seed,
            sport_type=p.sport_type,
            distance=p.distance,
            moving_time=p.moving_time,
            elapsed_time=p.elapsed_time,
            gain_dm=p.gain_dm,
            n_stops=p.n_stops,
            smart=p.smart,
            gps=p.gps,
            route=p.route,
            origin=p.origin,
            base_alt=p.base_alt,
            altitude=p.gps,
            heartrate=p.has_hr,
            cadence=p.has_cadence,
            watts=p.has_power,
            temp=p.has_temp,
            hr_target=p.hr_target,
            hr_max=float(self.hr_max),
            ftp=float(self.ftp),
            temp_base=p.temp_base,
            workout=p.workout,
        )

    def streams_for(self, rec: Record) -> dict | None:
        p: Plan = rec.source
        if p.manual:
            return None
        spec = self.stream_spec(p)
        return self._stream_cache.get((p.id, spec), lambda: generate(spec, self.spec.stream_scale))

    def base_summary(self, rec: Record) -> dict:
        p: Plan = rec.source
        streams = self.streams_for(rec)
        m = summary_metrics(streams, p.moving_time) if streams is not None else {}
        label, offset = tz_fields(p.tz, rec.start_ts)
        s: dict = {
            "resource_state": 2,
            "athlete": {"id": self.athlete_id, "resource_state": 1},
            "name": p.name,
            "distance": float(p.distance),
            "moving_time": p.moving_time,
            "elapsed_time": p.elapsed_time,
        }
        gain = p.gain_dm / 10.0
        s["total_elevation_gain"] = gain if gain else 0
        s["type"] = p.type
        s["sport_type"] = p.sport_type
        if p.type in ("Run", "Ride"):
            s["workout_type"] = p.workout_type
        s.update(
            {
                "id": p.id,
                "start_date": iso(rec.start_ts),
                "start_date_local": iso(rec.start_ts + int(offset)),
                "timezone": label,
                "utc_offset": offset,
                "location_city": None,
                "location_state": None,
                "location_country": None,
                "achievement_count": p.achievement_count,
                "kudos_count": p.kudos_count,
                "comment_count": p.comment_count,
                "athlete_count": p.athlete_count,
                "photo_count": 0,
                "map": {"id": f"a{p.id}", "summary_polyline": m.get("summary_polyline", ""), "resource_state": 2},
                "trainer": p.trainer,
                "commute": p.commute,
                "manual": p.manual,
                "private": p.private,
                "visibility": "only_me" if p.private else "everyone",
                "flagged": False,
                "gear_id": p.gear_id,
                "start_latlng": m.get("start_latlng", []),
                "end_latlng": m.get("end_latlng", []),
                "average_speed": round(p.distance / p.moving_time, 3) if p.distance > 0 else 0.0,
                "max_speed": 0 if p.manual else m.get("max_speed", 0.0),
            }
        )
        for k in (
            "average_cadence",
            "average_temp",
            "average_watts",
            "max_watts",
            "weighted_average_watts",
            "kilojoules",
            "device_watts",
        ):
            if k in m:
                s[k] = m[k]
        has_hr = "average_heartrate" in m
        s["has_heartrate"] = has_hr
        if has_hr:
            s["average_heartrate"] = m["average_heartrate"]
            s["max_heartrate"] = m["max_heartrate"]
        s["heartrate_opt_out"] = False
        s["display_hide_heartrate_option"] = has_hr
        if "elev_high" in m:
            s["elev_high"] = m["elev_high"]
            s["elev_low"] = m["elev_low"]
        s["upload_id"] = p.extra.get("upload_id")
        if not p.manual:
            s["upload_id_str"] = str(s["upload_id"])
        s["external_id"] = p.external_id
        s.update(
            {
                "from_accepted_tag": False,
                "pr_count": p.pr_count,
                "total_photo_count": p.total_photo_count,
                "has_kudoed": False,
            }
        )
        if has_hr:
            s["suffer_score"] = suffer_score(streams, self.zones)
        return s

    def _ctx(self, rec: Record, summary: dict) -> dict:
        off = (rec.id - ID_BASE) % 1_000_000_000
        return {
            "activity_id": rec.id,
            "visibility": summary["visibility"],
            "athlete_id": self.athlete_id,
            "start_ts": rec.start_ts,
            "utc_offset": summary["utc_offset"],
            "lap_id_base": 50_000_000_000 + off * 100,
            "effort_id_base": 70_000_000_000 + off * 20,
        }

    def _derived(self, rec: Record) -> Derived | None:
        streams = self.streams_for(rec)
        if streams is None:
            return None
        p: Plan = rec.source
        return Derived(streams, self.zones, p.sport_type, p.type)

    def laps_for(self, rec: Record) -> list:
        der = self._derived(rec)
        if der is None:
            return []
        return der.laps(rec.source.lap_m, self._ctx(rec, self.summary(rec)))

    def zones_for(self, rec: Record) -> list:
        p: Plan = rec.source
        der = self._derived(rec)
        if der is None:
            if p.type == "Run" and p.moving_time > 0:
                speed = p.distance / p.moving_time
                return [pace_distribution(np.array([speed]), np.array([p.moving_time]), self.zones)]
            return []
        return der.zone_distributions(self.summary(rec).get("suffer_score"))

    def detail_for(self, rec: Record) -> dict:
        p: Plan = rec.source
        summary = self.summary(rec)
        d = dict(summary)
        d["resource_state"] = 3
        streams = self.streams_for(rec)
        m = summary_metrics(streams, p.moving_time, full_polyline=True) if streams is not None else {}
        d["map"] = {
            "id": f"a{p.id}",
            "polyline": m.get("polyline", ""),
            "resource_state": 3,
            "summary_polyline": summary["map"]["summary_polyline"],
        }
        d["description"] = p.description
        d["calories"] = self._calories(p, summary)
        d["perceived_exertion"] = None
        d["prefer_perceived_exertion"] = None
        d["segment_efforts"] = []
        der = self._derived(rec)
        ctx = self._ctx(rec, summary)
        if der is not None and p.distance > 0 and p.sport_type != "Swim":
            d["splits_metric"] = der.splits(1000.0)
            d["splits_standard"] = der.splits(MILE_M)
        if der is not None:
            d["laps"] = der.laps(p.lap_m, ctx)
        if p.type == "Run":
            d["best_efforts"] = der.best_efforts(ctx) if der is not None else []
        gear_id = self.value(rec, "gear_id")
        if gear_id and gear_id in self._gear:
            d["gear"] = self._gear_summary(self._gear[gear_id], self.gear_distance(gear_id, self.clock.now()))
        d["photos"] = self._photos(p)
        d["stats_visibility"] = [{"type": t, "visibility": "everyone"} for t in STATS_VISIBILITY]
        d["hide_from_home"] = False
        if p.device:
            d["device_name"] = p.device
        d["embed_token"] = "%040x" % random.Random(p.seed ^ 0x5EED).getrandbits(160)
        if p.type == "Run":
            speed = summary["average_speed"]
            d["similar_activities"] = {
                "effort_count": 0 if p.manual else 3,
                "average_speed": speed,
                "min_average_speed": speed,
                "mid_average_speed": speed,
                "max_average_speed": speed,
                "pr_rank": None,
                "frequency_milestone": None,
                "trend": {
                    "speeds": [] if p.manual else [speed],
                    "current_activity_index": None if p.manual else 0,
                    "min_speed": speed,
                    "mid_speed": speed,
                    "max_speed": speed,
                    "direction": 0,
                },
                "resource_state": 2,
            }
        zones = []
        if summary.get("has_heartrate"):
            zones.append("heartrate")
        if "device_watts" in summary:
            zones.append("power")
        if p.type == "Run":
            zones.append("pace")
        d["available_zones"] = zones
        return d

    def _calories(self, p: Plan, summary: dict) -> float:
        hours = p.moving_time / 3600.0
        if "kilojoules" in summary:
            return float(round(summary["kilojoules"]))
        if p.sport_type in FOOT:
            return float(round(self.weight * p.distance / 1000.0 * 1.036))
        per_hour = {"Ride": 520, "VirtualRide": 600, "Swim": 550, "WeightTraining": 300}.get(p.sport_type, 400)
        return float(round(per_hour * hours))

    @staticmethod
    def _photos(p: Plan) -> dict:
        # no photo objects are generated: the count is kept, the primary photo is null
        return {"primary": None, "count": p.total_photo_count}

    # ------------------------------------------------------------------ athlete, gear
    def _gear_summary(self, g: Gear, distance: int) -> dict:
        return {
            "id": g.id,
            "primary": g.primary,
            "name": g.name,
            "nickname": "",
            "resource_state": 2,
            "retired": g.retired,
            "distance": distance,
            "converted_distance": round(distance / 1000.0, 1),
        }

    def gear(self, gear_id: str, now: float) -> dict | None:
        g = self._gear.get(gear_id)
        if g is None:
            return None
        dist = self.gear_distance(g.id, now)
        out = {
            "id": g.id,
            "primary": g.primary,
            "name": g.name,
            "nickname": "",
            "resource_state": 3,
            "retired": g.retired,
            "distance": dist,
            "converted_distance": round(dist / 1000.0, 1),
            "brand_name": g.brand,
            "model_name": g.model,
        }
        if g.kind == "bike":
            out["frame_type"] = g.frame_type
            out["description"] = g.description
            out["weight"] = g.weight
        else:
            out["description"] = g.description
            out["notification_distance"] = 800
        return out

    def athlete_summary(self) -> dict:
        return {
            "id": self.athlete_id,
            "username": f"{self.firstname.lower()}_{self.lastname.lower()}_{self.seed}",
            "resource_state": 2,
            "firstname": self.firstname,
            "lastname": self.lastname,
            "city": "Ljubljana",
            "state": "Ljubljana",
            "country": "Slovenia",
            "sex": self.sex,
            "premium": True,
            "summit": True,
            "created_at": iso(self.created_ts),
            "updated_at": iso(self.created_ts + 86_400 * 30 + 4_411),
            "badge_type_id": 1,
            "profile_medium": f"https://fake-strava.invalid/pictures/athletes/{self.athlete_id}/medium.jpg",
            "profile": f"https://fake-strava.invalid/pictures/athletes/{self.athlete_id}/large.jpg",
            "friend": None,
            "follower": None,
        }

    def athlete(self, now: float) -> dict:
        s = self.athlete_summary()
        out = {k: s[k] for k in ("id", "username", "resource_state")}
        out["resource_state"] = 3
        out.update(
            {
                "firstname": s["firstname"],
                "lastname": s["lastname"],
                "bio": "Runs, rides and the occasional swim around Ljubljana.",
                "city": s["city"],
                "state": s["state"],
                "country": s["country"],
                "sex": s["sex"],
                "premium": True,
                "summit": True,
                "created_at": s["created_at"],
                "updated_at": s["updated_at"],
                "badge_type_id": 1,
                "weight": self.weight,
                "profile_medium": s["profile_medium"],
                "profile": s["profile"],
                "friend": None,
                "follower": None,
                "blocked": False,
                "can_follow": True,
                "follower_count": 42,
                "friend_count": 57,
                "mutual_friend_count": 0,
                "athlete_type": 1,
                "date_preference": "%d/%m/%Y",
                "measurement_preference": "meters",
                "clubs": [],
                "postable_clubs_count": 0,
                "ftp": self.ftp,
            }
        )
        # like Strava, retired gear is not listed on the athlete (only reachable through activities' gear_id)
        out["bikes"] = [
            self._gear_summary(g, self.gear_distance(g.id, now))
            for g in self.gear_list
            if g.kind == "bike" and not g.retired
        ]
        out["shoes"] = [
            self._gear_summary(g, self.gear_distance(g.id, now))
            for g in self.gear_list
            if g.kind == "shoe" and not g.retired
        ]
        return out

    def athlete_zones(self) -> dict:
        hr = self.zones.hr_mins
        pw = self.zones.power_mins
        return {
            "heart_rate": {
                "custom_zones": False,
                "zones": [{"min": hr[i], "max": hr[i + 1] if i + 1 < len(hr) else -1} for i in range(len(hr))],
            },
            "power": {
                "zones": [{"min": pw[i], "max": pw[i + 1] - 1 if i + 1 < len(pw) else -1} for i in range(len(pw))]
            },
        }

    # ------------------------------------------------------------------ add_activity
    def new_record(self, now: float, overrides: dict) -> tuple[Record, dict]:
        with self._lock:  # shares the id / start-time bookkeeping with the schedule
            return self._new_record(now, overrides)

    def _new_record(self, now: float, overrides: dict) -> tuple[Record, dict]:
        self._added += 1
        rng = random.Random(self.seed * 1_000_003 + 900_000_000 + self._added)
        sport = overrides.pop("sport_type", None) or overrides.pop("type", None) or "Run"
        start = overrides.pop("start_date", None)
        d = datetime.fromtimestamp(int(now), tz=UTC).date()
        p = self._make_plan(
            rng,
            d,
            sport,
            None,
            None,
            d.weekday() >= 5,
            start_ts=int(parse_time(start)) if start is not None else int(now) - 7200,
            manual=bool(overrides.pop("manual", False)),
            private=bool(overrides.pop("private", False)),
        )
        p.sport_type = sport
        scale_gain = None
        for key in ("distance", "moving_time", "elapsed_time"):
            if key in overrides:
                val = overrides.pop(key)
                if key == "distance":
                    scale_gain = float(val) / p.distance if p.distance else None
                    p.distance = round(float(val), 1)
                else:
                    setattr(p, key, int(val))
        if scale_gain is not None and p.gain_dm:
            p.gain_dm = max(10, int(round(p.gain_dm * scale_gain)))
        p.elapsed_time = max(p.elapsed_time, p.moving_time)
        if p.elapsed_time == p.moving_time:
            p.n_stops = 0
        for key in ("name", "trainer", "commute", "gear_id", "workout_type", "description"):
            if key in overrides:
                setattr(p, key, overrides.pop(key))
        if start is None:
            # finished a minute ago, uploaded just now
            p.start_ts = self._unique_start(int(now) - p.elapsed_time - 60)
        # uploaded now: a bigger id than every generated one
        p.id = self._added_id_base + self._added
        p.extra["upload_id"] = None if p.manual else p.id + UPLOAD_ID_OFFSET
        if p.manual:
            p.external_id = None
        return self._record(p), overrides


def _default_name(sport_type: str, hour: int) -> str:
    part = (
        "Night"
        if hour < 4
        else "Morning"
        if hour < 11
        else "Lunch"
        if hour < 13
        else "Afternoon"
        if hour < 17
        else "Evening"
        if hour < 20
        else "Night"
    )
    label = {"TrailRun": "Trail Run", "WeightTraining": "Weight Training"}.get(sport_type, sport_type)
    return f"{part} {label}"
