"""Run the fake Strava API in the foreground for manual exploration: python -m strava_pipeline.fake_api --port 8765."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import date
from pathlib import Path

from strava_pipeline.fake_api.data import AthleteSpec
from strava_pipeline.fake_api.fake import FakeStrava
from strava_pipeline.fake_api.ratelimit import RateLimits


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m strava_pipeline.fake_api", description=__doc__)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8765, help="0 picks a free port")
    ap.add_argument("--replay", action="store_true", help="serve the real recordings instead of a generated athlete")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--athletes",
        type=int,
        default=1,
        help="athletes of the app (seeds SEED, SEED+1, ...); /oauth/authorize?...&athlete_id=ID signs one in",
    )
    ap.add_argument("--first-day", type=date.fromisoformat, default=date(2022, 1, 1))
    ap.add_argument("--per-week", type=float, default=4.0)
    ap.add_argument("--client-id", default="demo")
    ap.add_argument("--client-secret", default="demo-secret")
    ap.add_argument("--state-file", type=Path, default=None, help="keep OAuth tokens valid across restarts")
    ap.add_argument(
        "--limits",
        default="200,2000,100,1000",
        help="overall_15min,overall_daily,read_15min,read_daily (default: Strava's)",
    )
    args = ap.parse_args(argv)
    limits = RateLimits(*[int(x) for x in args.limits.split(",")])
    athlete = (
        "replay"
        if args.replay
        else AthleteSpec(seed=args.seed, first_day=args.first_day, activities_per_week=args.per_week)
    )
    fake = FakeStrava(
        athlete=athlete,
        athletes=None
        if args.replay or args.athletes < 2
        else [
            AthleteSpec(seed=args.seed + i, first_day=args.first_day, activities_per_week=args.per_week)
            for i in range(args.athletes)
        ],
        limits=limits,
        state_file=args.state_file,
        client_id=args.client_id,
        client_secret=args.client_secret,
        host=args.host,
        port=args.port,
    )
    base_url = fake.start()
    refresh = fake.issue_refresh_token()
    print(f"base_url       {base_url}", flush=True)
    print(f"token_url      {fake.token_url}")
    print(f"authorize_url  {fake.authorize_url}")
    print(f"client_id      {fake.client_id}")
    print(f"client_secret  {fake.client_secret}")
    print(f"refresh_token  {refresh}")
    print(f"athlete_id     {' '.join(str(i) for i in fake.athlete_ids)}")
    print(
        f"try: curl -s -X POST {fake.token_url} -d client_id={fake.client_id} -d client_secret={fake.client_secret}"
        f" -d grant_type=refresh_token -d refresh_token={refresh}"
    )
    print("Ctrl-C stops it.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    print("stopped", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
