"""A multi-day import of a 3,000-activity athlete, then of a club of 20 athletes, under Strava's real limits, on a
simulated clock.

Run: uv run python benchmarks/bench_import.py [--activities 3000] [--athletes 20] [--only single|club]

The fake API enforces 100 reads / 15 min and 1,000 / day (headers, 429s) on a FakeClock that the client's waits
advance. The athlete's history is backfilled with `--start-date <first day>`, then plain daily runs (each started at
00:00 UTC of the next day, as a daily scheduler would) continue the queue until it is empty. Printed, side by side:
  requests used / theoretical minimum          (target 1.00)
  simulated hours to finish / best schedule    (target <= 1.05)
The minimum counts what the data needs: the first listing (a full last page costs one more request to see the end),
one "anything new?" page per later run, athlete + stats + zones, each gear once, one detail call per activity and one
streams call per activity that has a file. The best schedule sends those requests as early as the limits allow: 100
per quarter hour, 1,000 per UTC day, starting the moment the first run starts.

The club: 20 athletes of one app, their histories spread geometrically from 50 to 3,000 activities, all sharing the
app's one budget. The first athlete is configured in secrets, the others added with `strava.py auth`. The first run
backfills everyone (`--start-date`); before each later daily run (00:00 UTC) every second athlete, in turn, records
one new activity. Printed: the same two ratios (the minimum adds, per athlete, one listing page per later run, the
new activities' detail and streams, and athlete + stats + zones again on each run more than 7 days after the last
refresh, the import's own rule), and how many later runs had every athlete's new activities fetched in their first
quarter hour.
"""

import argparse
import builtins
import io
import math
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from strava_pipeline.cli import main as strava_main
from strava_pipeline.clock import FakeClock
from strava_pipeline.fake_api import AthleteSpec, FakeStrava

DAY, WINDOW = 86400, 900
START = datetime(2026, 11, 2, 6, 7, 0, tzinfo=UTC).timestamp()


def best_schedule_end(start: float, requests: int, per_window: int = 100, per_day: int = 1000) -> float:
    """Time of the last request when each is sent as early as the limits allow."""
    t, left_window, left_day = start, per_window, per_day
    for _ in range(requests - 1):
        left_window -= 1
        left_day -= 1
        if left_day == 0:
            t = (math.floor(t / DAY) + 1) * DAY
            left_window, left_day = per_window, per_day
        elif left_window == 0:
            t = (math.floor(t / WINDOW) + 1) * WINDOW
            left_window = per_window
    return t


def run(args: list, clock, data_dir: Path) -> str:
    out, err = io.StringIO(), io.StringIO()
    rc = strava_main(["--data-dir", str(data_dir), "--import-only", *args], clock=clock, out=out, err=err)
    if rc != 0:
        raise SystemExit(f"strava.py {' '.join(args)} failed: {err.getvalue()}")
    return out.getvalue()


def configure(fake) -> None:
    """Point strava.py at the fake, the first athlete configured in secrets like a one-athlete install."""
    os.environ.update(
        {
            "SOURCES__STRAVA__BASE_URL": fake.base_url,
            "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
            "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
            "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
            "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN": fake.issue_refresh_token(),
        }
    )


def club_sizes(athletes: int, smallest: int, largest: int) -> list[int]:
    """History sizes from smallest to largest, spread geometrically (a club has few very long histories)."""
    if athletes == 1:
        return [largest]
    ratio = (largest / smallest) ** (1 / (athletes - 1))
    return [round(smallest * ratio**i) for i in range(athletes)]


def authorize(fake, athlete_id: int, clock, data_dir: Path) -> None:
    code = fake.issue_authorization_code(athlete_id=athlete_id)
    real_input = builtins.input
    builtins.input = lambda prompt="": code
    try:
        out, err = io.StringIO(), io.StringIO()
        if strava_main(["--data-dir", str(data_dir), "auth"], clock=clock, out=out, err=err) != 0:
            raise SystemExit(f"strava.py auth failed: {err.getvalue()}")
    finally:
        builtins.input = real_input


def bench_club(athletes: int, smallest: int, largest: int) -> None:
    clock = FakeClock(START)
    sizes = club_sizes(athletes, smallest, largest)
    specs = [AthleteSpec(seed=100 + i, first_day=None, n_activities=n, stream_scale=0.01) for i, n in enumerate(sizes)]
    with tempfile.TemporaryDirectory(prefix="bench_club_") as tmp, FakeStrava(athletes=specs, clock=clock) as fake:
        configure(fake)
        data_dir = Path(tmp) / "data"
        ids = fake.athlete_ids
        for athlete_id in ids[1:]:
            authorize(fake, athlete_id, clock, data_dir)
        initial = {i: fake.activities(athlete_id=i) for i in ids}
        first_day = min(a["start_date"] for acts in initial.values() for a in acts)[:10]
        run_starts, out = [clock.now()], run(["--start-date", first_day], clock, data_dir)
        added: list[dict] = []
        in_first_window = 0
        while "Daily read limit reached" in out:
            day = math.floor(clock.now() / DAY) + 1
            clock.set(day * DAY)
            new = [fake.add_activity(athlete_id=i) for k, i in enumerate(ids) if (day + k) % 2 == 0]
            added += new
            run_starts.append(clock.now())
            out = run([], clock, data_dir)
            window_end = run_starts[-1] + WINDOW
            asked = {}
            for e in fake.log:
                if e.time >= run_starts[-1] and e.path.startswith("/api/v3/activities/"):
                    activity_id = int(e.path.split("/")[4])
                    asked.setdefault(activity_id, []).append(e.time)
            # detail, and streams for a recorded activity: every request for them inside the first quarter hour
            wanted = {a["id"]: 1 if a["manual"] else 2 for a in new}
            if all(len(asked.get(a, [])) >= n and max(asked[a]) < window_end for a, n in wanted.items()):
                in_first_window += 1
        last_request = max(e.time for e in fake.log if e.path.startswith("/api/"))
        used = sum(n for k, n in fake.counts().items() if not k.startswith("POST /oauth"))
        profile_rounds, last_refresh = 1, run_starts[0]
        for start in run_starts[1:]:
            if start - last_refresh > 7 * DAY:
                profile_rounds, last_refresh = profile_rounds + 1, start
        everything = [a for acts in initial.values() for a in acts] + added
        gear = sum(len({a["gear_id"] for a in initial[i] if a.get("gear_id")}) for i in ids)
        minimum = (
            sum(len(initial[i]) // 200 + 1 for i in ids)
            + len(ids) * (len(run_starts) - 1)
            + 3 * len(ids) * profile_rounds
            + gear
            + len(everything)
            + sum(1 for a in everything if not a["manual"])
        )
        days = (last_request - START) / DAY
        best = (best_schedule_end(START, minimum) - START) / DAY
        print(
            f"club: {len(ids)} athletes of {min(sizes):,}..{max(sizes):,} activities ({sum(sizes):,} in all, "
            f"{len(added)} recorded during the import); {len(run_starts)} daily runs; 429s: {fake.count_429}"
        )
        print(f"requests used {used:,} / theoretical minimum {minimum:,} = {used / minimum:.2f} (target 1.00)")
        print(f"simulated days to finish {days:.2f} / best schedule {best:.2f} = {days / best:.3f} (target <= 1.05)")
        print(
            f"runs with every athlete's new activities fetched in their first 15 minutes: "
            f"{in_first_window} / {len(run_starts) - 1} (the first run backfills, it has none)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=3000, help="the single athlete's history")
    parser.add_argument("--athletes", type=int, default=20, help="athletes in the club")
    parser.add_argument("--smallest", type=int, default=50, help="the club's shortest history")
    parser.add_argument("--largest", type=int, default=3000, help="the club's longest history")
    parser.add_argument("--only", choices=("single", "club"), help="run one of the two benchmarks")
    opts = parser.parse_args()
    if opts.only != "club":
        bench_single(opts.activities)
    if opts.only != "single":
        bench_club(opts.athletes, opts.smallest, opts.largest)


def bench_single(activities: int) -> None:
    clock = FakeClock(START)
    spec = AthleteSpec(seed=11, first_day=None, n_activities=activities, stream_scale=0.01)
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp, FakeStrava(athlete=spec, clock=clock) as fake:
        configure(fake)
        data_dir = Path(tmp) / "data"
        acts = fake.activities()
        first_day = min(a["start_date"] for a in acts)[:10]
        runs, out = 1, run(["--start-date", first_day], clock, data_dir)
        while "Daily read limit reached" in out:
            clock.set((math.floor(clock.now() / DAY) + 1) * DAY)
            out = run([], clock, data_dir)
            runs += 1
        last_request = max(e.time for e in fake.log if e.path.startswith("/api/"))
        used = sum(n for k, n in fake.counts().items() if not k.startswith("POST /oauth"))
        gear = len({a["gear_id"] for a in acts if a.get("gear_id")})
        minimum = (len(acts) // 200 + 1) + (runs - 1) + 3 + gear + len(acts) + sum(1 for a in acts if not a["manual"])
        hours = (last_request - START) / 3600
        best = (best_schedule_end(START, minimum) - START) / 3600
        print(f"athlete: {len(acts):,} activities; {runs} daily runs; 429s sent by the server: {fake.count_429}")
        print(f"requests used {used:,} / theoretical minimum {minimum:,} = {used / minimum:.2f} (target 1.00)")
        print(f"simulated hours to finish {hours:.2f} / best schedule {best:.2f} = {hours / best:.3f} (target <= 1.05)")


if __name__ == "__main__":
    main()
