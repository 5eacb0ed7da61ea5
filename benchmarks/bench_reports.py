"""Build time, peak memory and page weight of the Evidence reports, for the demo athlete and a 10-year athlete.

Run: uv run python benchmarks/bench_reports.py [--athletes demo,10y] [--activities 5000] [--workdir DIR]

For each athlete: the import from the bundled fake API (on a simulated clock: rate-limit waits cost nothing),
`dbt build`, then the measured `strava.py reports build` in its own process (wall time, the build's steps, and the
peak RSS of its largest process: getrusage of the children, no psutil). The site is then served on loopback and
headless Chromium opens every page with the cache off: the bytes each page transfers (gzip, as `reports serve`
sends them) and their uncompressed size. Target: under 5 MB transferred per page.
The npm packages are installed before the first measured build, so the build times do not include `npm ci`.
"""

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from strava_pipeline import reports  # noqa: E402
from strava_pipeline.cli import main as strava_main  # noqa: E402
from strava_pipeline.clock import FakeClock  # noqa: E402
from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits  # noqa: E402

TARGET_BYTES = 5_000_000
PAGES = ["/", "/weekly/", "/monthly/", "/activities/", "/fitness/", "/map/", "/data-quality/"]
# the simulated clock never waits, and the limits stay out of the way: this measures the reports, not the import
NO_LIMITS = RateLimits(overall_15min=10**7, overall_daily=10**8, read_15min=10**7, read_daily=10**8)

# measures a command's wall time and the peak RSS of its largest descendant (ru_maxrss of RUSAGE_CHILDREN, in KiB)
MEASURE = r"""
import json, resource, subprocess, sys, time
t = time.monotonic()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": proc.returncode, "seconds": time.monotonic() - t, "out": proc.stdout, "err": proc.stderr,
                  "max_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def import_athlete(name: str, base: Path, activities: int, now: float) -> Path:
    """Loads the athlete into <base>/<name> (the demo: <base>/demo) and returns its data dir."""
    clock = FakeClock(now)
    out, err = io.StringIO(), io.StringIO()
    if name == "demo":
        from strava_pipeline.demo import DEMO_ATHLETE

        rc = strava_main(
            ["--data-dir", str(base), "--demo", "--start-date", DEMO_ATHLETE.first_day.isoformat()],
            clock=clock,
            out=out,
            err=err,
        )
        data_dir = base / "demo"
    else:
        today = datetime.fromtimestamp(now, UTC).date()
        # n_activities ending now, spread over ten years by the weekly rate
        spec = AthleteSpec(seed=11, n_activities=activities, activities_per_week=activities / (10 * 365.25 / 7))
        first_day = date(today.year - 11, 1, 1)
        data_dir = base / name
        with FakeStrava(athlete=spec, clock=clock, limits=NO_LIMITS) as fake:
            env = {
                "SOURCES__STRAVA__BASE_URL": fake.base_url,
                "SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL": fake.token_url,
                "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID": fake.client_id,
                "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET": fake.client_secret,
                "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN": fake.issue_refresh_token(),
            }
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                rc = strava_main(
                    ["--data-dir", str(data_dir), "--start-date", first_day.isoformat()], clock=clock, out=out, err=err
                )
            finally:
                for k, v in saved.items():
                    os.environ.pop(k) if v is None else os.environ.update({k: v})
    if rc != 0:
        raise SystemExit(f"import of {name} failed: {err.getvalue()}{out.getvalue()[-2000:]}")
    return data_dir


def dbt_build(data_dir: Path, target: Path) -> float:
    env = {
        **os.environ,
        "STRAVA_DATA_DIR": str(data_dir),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    t = time.monotonic()
    proc = subprocess.run(
        [
            str(Path(sys.executable).with_name("dbt")),
            "build",
            "--project-dir",
            "dbt_project",
            "--profiles-dir",
            "dbt_project",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"dbt build failed:\n{proc.stdout[-3000:]}")
    return time.monotonic() - t


def reports_build(data_dir: Path, target: Path) -> dict:
    env = {**os.environ, "DBT_TARGET_PATH": str(target)}
    cmd = [sys.executable, "-c", MEASURE, sys.executable, "strava.py", "--data-dir", str(data_dir), "reports", "build"]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    result = json.loads(proc.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"reports build failed:\n{result['err']}{result['out'][-2000:]}")
    return result


def page_weights(site: Path, activity_id) -> list:
    server = reports.make_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    try:
        with reports.Chromium() as browser:
            for path in [*PAGES, f"/activities/{activity_id}/"]:
                tab = browser.new_page(cache=False)
                t = time.monotonic()
                since = tab.goto(url + path)
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    state = tab.evaluate(reports.PAGE_STATE_JS)
                    if state["errors"] or (
                        state["skeletons"] == 0
                        and all(c["points"] for c in state["charts"])
                        and all(m["routes"] for m in state["maps"])
                    ):
                        break
                    time.sleep(0.2)
                ready = time.monotonic() - t
                time.sleep(1.0)  # late requests (GeoJSON, lazy chunks) still count
                requests = tab.network(since)
                rows.append(
                    {
                        "page": path,
                        "requests": len(requests),
                        "ready_s": ready,
                        "transferred": sum(r["bytes"] for r in requests),
                        "decoded": sum(r["decoded"] for r in requests),
                        "errors": len(state["errors"]),
                    }
                )
                tab.close()
    finally:
        server.shutdown()
        server.server_close()
    return rows


def bench(name: str, base: Path, activities: int, now: float) -> dict:
    print(f"\n== {name}: importing from the fake API...", flush=True)
    t = time.monotonic()
    data_dir = import_athlete(name, base, activities, now)
    imported = time.monotonic() - t
    target = base / f"{name}-dbt-target"
    print(f"   imported in {imported:.0f} s; dbt build...", flush=True)
    dbt_s = dbt_build(data_dir, target)
    import duckdb

    with duckdb.connect(str(data_dir / "strava.duckdb"), read_only=True) as con:
        n_activities, n_points = con.sql(
            "select (select count(*) from marts.fct_activities), (select count(*) from marts.activity_streams_masked)"
        ).fetchone()
        activity_id = con.sql(
            "select activity_id from marts.fct_activities a join marts.activity_routes_masked "
            "using (activity_id) order by (select count(*) from marts.activity_streams_masked s "
            "where s.activity_id = a.activity_id) desc limit 1"
        ).fetchone()[0]
    print(
        f"   dbt build {dbt_s:.0f} s; {n_activities:,} activities, {n_points:,} stream points; reports build...",
        flush=True,
    )
    build = reports_build(data_dir, target)
    print("   " + build["out"].strip().splitlines()[-1], flush=True)
    site = reports.site_dir(data_dir)
    files = [p for p in site.rglob("*") if p.is_file()]
    weights = page_weights(site, activity_id)
    return {
        "athlete": name,
        "activities": n_activities,
        "stream_points": n_points,
        "import_s": imported,
        "dbt_s": dbt_s,
        "build_s": build["seconds"],
        "max_rss_mb": build["max_rss_kib"] / 1024,
        "build_line": build["out"].strip().splitlines()[-1],
        "site_mb": sum(p.stat().st_size for p in files) / 1e6,
        "site_files": len(files),
        "pages": weights,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--athletes", default="demo,10y", help="comma-separated: demo, 10y (default both)")
    parser.add_argument("--activities", type=int, default=5000, help="activities of the 10-year athlete")
    parser.add_argument("--workdir", help="keep the warehouses and sites here (default: a temporary folder)")
    args = parser.parse_args()
    if not reports.find_chromium():
        raise SystemExit("chromium is needed for the page weights: apt-get install -y chromium")
    node = reports.check_node()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        base = Path(args.workdir) if args.workdir else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        with open(base / "npm-ci.log", "w") as log:  # once, outside the measured builds
            reports.ensure_npm_packages(reports.REPORTS_DIR, node, log, print)
        now = time.time()
        results = [bench(name, base, args.activities, now) for name in args.athletes.split(",")]

    print(f"\nEvidence reports, {node.version}, {os.cpu_count()} CPUs")
    print(
        f"{'athlete':<8} {'activities':>10} {'points':>11} {'build s':>8} {'peak RSS MB':>11} {'files':>6} "
        f"{'site MB':>8}"
    )
    for r in results:
        print(
            f"{r['athlete']:<8} {r['activities']:>10,} {r['stream_points']:>11,} {r['build_s']:>8.0f} "
            f"{r['max_rss_mb']:>11.0f} {r['site_files']:>6,} {r['site_mb']:>8.0f}"
        )
        print(f"         {r['build_line']}")
    print(
        f"\nPage weight (cold cache; transferred with gzip / uncompressed; target < {TARGET_BYTES / 1e6:.0f} MB "
        "transferred)"
    )
    print(
        f"{'athlete':<8} {'page':<28} {'requests':>8} {'transferred MB':>14} {'uncompressed MB':>15} "
        f"{'ready s':>7} {'ok':>4}"
    )
    worst = 0
    for r in results:
        for p in r["pages"]:
            worst = max(worst, p["transferred"])
            ok = "yes" if p["transferred"] < TARGET_BYTES and not p["errors"] else "NO"
            print(
                f"{r['athlete']:<8} {p['page']:<28} {p['requests']:>8} {p['transferred'] / 1e6:>14.2f} "
                f"{p['decoded'] / 1e6:>15.2f} {p['ready_s']:>7.1f} {ok:>4}"
            )
    print(
        f"\nheaviest page: {worst / 1e6:.2f} MB transferred (target < {TARGET_BYTES / 1e6:.0f} MB): "
        f"{'met' if worst < TARGET_BYTES else 'NOT met'}"
    )
    return 0 if worst < TARGET_BYTES else 1


if __name__ == "__main__":
    sys.exit(main())
