"""What a kill -9 costs: imports killed at random points, resumed until complete, against Strava's real limits.

Run: uv run python benchmarks/bench_resume.py [--chains 8] [--kills 3] [--activities-per-week 6]

The fake API enforces 100 reads / 15 min and 1,000 / day on a simulated clock shared with the CLI, which runs in a
child process (tests/support/killrun.py). Each chain takes an empty data dir to complete through `--kills` runs killed
with SIGKILL a random number of answered requests (and 0-250 ms) into the run, then one run to the end. Printed:
  repeated requests per kill           exact repeats of a request answered before in the chain (target <= 1)
  requests / theoretical minimum       minimum = the uninterrupted run + one listing per later run (target 1.00)
and whether each chain's warehouse equals the uninterrupted run's.
"""

import argparse
import os
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits  # noqa: E402
from tests.support.killrun import FileClock, KillRig, snapshot  # noqa: E402

START = datetime(2026, 11, 2, 6, 7, tzinfo=UTC).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--kills", type=int, default=3, help="kills per chain")
    parser.add_argument("--activities-per-week", type=float, default=6.0)
    parser.add_argument("--first-day", default="2026-08-01")
    parser.add_argument("--seed", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench_resume_") as tmp:
        work = Path(tmp)
        clock = FileClock(work / "clock", start=START)
        spec = AthleteSpec(
            seed=7, first_day=date.fromisoformat(args.first_day), activities_per_week=args.activities_per_week
        )
        with FakeStrava(athlete=spec, limits=RateLimits(), clock=clock) as fake:
            env = {
                **os.environ,
                "SOURCES__STRAVA__BASE_URL": fake.base_url,
                "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
                "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
                "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
                "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN": fake.issue_refresh_token(),
            }
            rig = KillRig(fake, clock, env, ["--start-date", args.first_day, "--import-only"], work)
            reference, needed = rig.reference(work / "reference")
            total = sum(needed.values())
            listing = sum(n for g, n in needed.items() if g.startswith("/api/v3/athlete/activities?"))
            print(f"uninterrupted run: {total} requests ({listing} listing), {len(fake.activities())} activities")
            kills = repeated = requests = minimum = 0
            equal = 0
            for i in range(args.chains):
                env["SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN"] = fake.issue_refresh_token()
                data_dir = work / f"chain-{i}"
                chain = rig.chain(data_dir, seed=args.seed + i, kills=args.kills, max_requests=total, max_delay_s=0.25)
                chain.equal_to_reference = snapshot(data_dir) == reference
                chain_min = total + (chain.runs - 1) * listing
                kills += chain.kills
                repeated += chain.repeated
                requests += chain.requests
                minimum += chain_min
                equal += chain.equal_to_reference
                print(
                    f"chain {i}: {chain.kills} kills at {chain.kill_points} (requests, delay s); "
                    f"{chain.requests} requests / minimum {chain_min}; repeated {chain.repeated}; "
                    f"warehouse {'equal' if chain.equal_to_reference else 'DIFFERENT'}"
                )
        clock.close()
    print()
    print(f"kills: {kills} in {args.chains} chains; warehouses equal to the uninterrupted run: {equal}/{args.chains}")
    print(f"repeated requests per kill: {repeated / max(kills, 1):.2f} (target <= 1)")
    print(f"requests / theoretical minimum: {requests / max(minimum, 1):.3f} (target 1.00)")
    return 0 if equal == args.chains and repeated <= kills else 1


if __name__ == "__main__":
    sys.exit(main())
