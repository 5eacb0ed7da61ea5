"""A multi-day import of a 3,000-activity athlete under Strava's real limits, on a simulated clock.

Run: uv run python benchmarks/bench_import.py [--activities 3000]

The fake API enforces 100 reads / 15 min and 1,000 / day (headers, 429s) on a FakeClock that the client's waits
advance. The athlete's history is backfilled with `--start-date <first day>`, then plain daily runs (each started at
00:00 UTC of the next day, as a daily scheduler would) continue the queue until it is empty. Printed, side by side:
  requests used / theoretical minimum          (target 1.00)
  simulated hours to finish / best schedule    (target <= 1.05)
The minimum counts what the data needs: the first listing (a full last page costs one more request to see the end),
one "anything new?" page per later run, athlete + stats + zones, each gear once, one detail call per activity and one
streams call per activity that has a file. The best schedule sends those requests as early as the limits allow: 100
per quarter hour, 1,000 per UTC day, starting the moment the first run starts.
"""

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--activities", type=int, default=3000)
    opts = parser.parse_args()
    clock = FakeClock(START)
    spec = AthleteSpec(seed=11, first_day=None, n_activities=opts.activities, stream_scale=0.01)
    with tempfile.TemporaryDirectory(prefix="bench_import_") as tmp, FakeStrava(athlete=spec, clock=clock) as fake:
        base = fake.base_url
        os.environ.update(
            {
                "SOURCES__STRAVA__BASE_URL": base,
                "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
                "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
                "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
                "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN": fake.issue_refresh_token(),
            }
        )
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
