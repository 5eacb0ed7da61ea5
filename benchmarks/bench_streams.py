"""Stream points loaded per second by the `strava` source next to a bare DuckDB insert of the same Arrow table.

Run: uv run python benchmarks/bench_streams.py [--points 1000000]

Streams are fetched once from the bundled fake API (decoded JSON, as the resource receives them). Then, in one run,
side by side and repeated (best of N, the machine is shared and noisy):
  source  = payload -> Arrow (strava_pipeline.helpers.streams_table) -> dlt pipeline into DuckDB, committed in the
            same batches as a real run (each activity's points replaced as a whole, with the fetch_log rows merged
            in the same package), one fresh warehouse per rep
  floor   = one CREATE TABLE ... AS SELECT of the already built Arrow table into a fresh DuckDB file
and prints points/s for both and the ratio (target: source within 3x of the floor).
"""

import argparse
import shutil
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import requests

from strava_pipeline import settings
from strava_pipeline.api.runner import BATCH_ACTIVITIES, BATCH_POINTS
from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits
from strava_pipeline.helpers import streams_table
from strava_pipeline.source import streams_resource, table_resource
from strava_pipeline.warehouses import make_pipeline


def fetch_payloads(points: int) -> list:
    limits = RateLimits(overall_15min=10**6, overall_daily=10**7, read_15min=10**6, read_daily=10**7)
    spec = AthleteSpec(seed=7, first_day=date(2023, 1, 1), activities_per_week=5.0, stream_scale=1.0)
    with FakeStrava(athlete=spec, limits=limits) as fake:
        base = fake.base_url
        session = requests.Session()
        token = session.post(
            fake.token_url,
            data={
                "client_id": fake.client_id,
                "client_secret": fake.client_secret,
                "grant_type": "refresh_token",
                "refresh_token": fake.issue_refresh_token(),
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        payloads, total = [], 0
        for activity in fake.activities():
            if activity["manual"]:
                continue
            resp = session.get(
                f"{base}/activities/{activity['id']}/streams",
                headers=headers,
                params={"keys": ",".join(settings.STREAM_KEYS), "key_by_type": "true"},
            )
            payload = orjson.loads(resp.content)
            payloads.append((activity["id"], activity["athlete"]["id"], payload))
            total += len(next(iter(payload.values()))["data"]) if payload else 0
            if total >= points:
                break
    return payloads


def source_load(payloads: list, workdir: Path) -> tuple[float, int]:
    """The source's path for the points: Arrow conversion and dlt loads in the runner's batch sizes."""
    pipeline = make_pipeline(workdir)
    started = time.perf_counter()
    batch, batch_points, loaded = [], 0, 0
    log = []

    def flush():
        nonlocal batch, batch_points, log
        if batch:
            pipeline.run([streams_resource([pa.concat_tables(batch)]), table_resource("fetch_log", log)])
        batch, batch_points, log = [], 0, []

    for activity_id, athlete_id, payload in payloads:
        table = streams_table(payload, activity_id, athlete_id)
        batch.append(table)
        log.append(
            {
                "activity_id": activity_id,
                "kind": "streams",
                "status": "ok",
                "athlete_id": athlete_id,
                "fetched_at": "2026-01-01T00:00:00Z",
            }
        )
        batch_points += table.num_rows
        loaded += table.num_rows
        if len(batch) >= BATCH_ACTIVITIES or batch_points >= BATCH_POINTS:
            flush()
    flush()
    return time.perf_counter() - started, loaded


def floor_load(table: pa.Table, workdir: Path) -> float:
    workdir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(workdir / "floor.duckdb"))
    con.register("points", table)
    started = time.perf_counter()
    con.execute("create table activity_streams as select * from points")
    con.close()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    payloads = fetch_payloads(args.points)
    table = pa.concat_tables(streams_table(p, a, ath) for a, ath, p in payloads)
    points = table.num_rows
    print(f"{len(payloads)} activities, {points:,} stream points (fake API, decoded JSON)")
    src_best, floor_best = float("inf"), float("inf")
    for rep in range(args.reps):
        tmp = Path(tempfile.mkdtemp(prefix="bench_streams_"))
        try:
            # alternate the order so neither side always runs on a warmer machine
            if rep % 2:
                floor_best = min(floor_best, floor_load(table, tmp / "floor"))
                t, n = source_load(payloads, tmp / "source")
            else:
                t, n = source_load(payloads, tmp / "source")
                floor_best = min(floor_best, floor_load(table, tmp / "floor"))
            assert n == points
            src_best = min(src_best, t)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"source (Arrow + dlt load into DuckDB):  {points / src_best:>12,.0f} points/s ({src_best:.2f} s)")
    print(f"floor  (bare DuckDB insert of Arrow):    {points / floor_best:>12,.0f} points/s ({floor_best:.2f} s)")
    print(f"ratio source time / floor time: {src_best / floor_best:.2f}x (target <= 3x)")


if __name__ == "__main__":
    main()
