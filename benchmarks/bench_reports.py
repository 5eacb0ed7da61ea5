"""Build time, peak memory, unchanged rebuild and page load of the Evidence reports: demo and a 10-year athlete.

Run: uv run python benchmarks/bench_reports.py [--athletes demo,10y] [--activities 5000] [--workdir DIR]

For each athlete: the import from the bundled fake API (on a simulated clock: rate-limit waits cost nothing;
--import-only), `dbt build`, then the measured `strava.py reports build` in its own process (wall time, the build's
steps, and the peak RSS of its largest process: getrusage of the children, no psutil), then the same command again
with nothing changed (it must reuse the site). Before the first athlete's measured build, `reports build --force`
compiles the Evidence app for the current pages (reported beside, not a target: like `npm ci` it runs again only
when the pages, the packages or the tile options change); its site fingerprint is then dropped, so the measured
build is the one that follows an import: new marts, same pages. The site is then served on loopback and headless
Chromium opens every page with the cache off: the time from navigation start to the page's charts, tables and maps
drawn (in the browser's clock), the bytes each page transfers (gzip, as `reports serve` sends them) and their
uncompressed size.
The npm packages are installed before the first measured build, so the build times do not include `npm ci`.

Targets (issue 15), printed side by side with the figures: demo build time / (import + dbt build) <= 1.0, peak
memory <= 1.5 GB, unchanged rebuild <= 5 s, the 5,000-activity athlete's build within 2x of the demo's; every page
ready in < 2 s and under 5 MB transferred, nothing requested outside 127.0.0.1.
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
from tests.support.chromium import PAGE_STATE_JS, Chromium, find_chromium  # noqa: E402

TARGET_BYTES = 5_000_000
TARGET_READY_S = 2.0
TARGET_RATIO = 1.0  # reports build / (import + dbt build), demo
TARGET_RSS_MB = 1536
TARGET_UNCHANGED_S = 5.0
TARGET_BIG_VS_DEMO = 2.0
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
            ["--data-dir", str(base), "--demo", "--import-only", "--start-date", DEMO_ATHLETE.first_day.isoformat()],
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
                    ["--data-dir", str(data_dir), "--import-only", "--start-date", first_day.isoformat()],
                    clock=clock,
                    out=out,
                    err=err,
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


LOCAL = ("http://127.0.0.1:", "data:", "blob:")


def reports_build(data_dir: Path, target: Path, *options: str) -> dict:
    env = {**os.environ, "DBT_TARGET_PATH": str(target)}
    cmd = [sys.executable, "-c", MEASURE, sys.executable, "strava.py", "--data-dir", str(data_dir), "reports", "build"]
    cmd += options
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    result = json.loads(proc.stdout)
    if result["rc"] != 0:
        raise SystemExit(f"reports build failed:\n{result['err']}{result['out'][-2000:]}")
    return result


def site_pages(site: Path, activity_id) -> list:
    """Every page of the built site (its index.html files), the activity page opened on one activity."""
    pages = []
    for index in sorted(site.rglob("index.html")):
        path = "/" + index.parent.relative_to(site).as_posix().strip(".") + "/"
        path = path.replace("//", "/")
        pages.append(f"{path}?id={activity_id}" if path == "/activity/" else path)
    return pages


def page_weights(site: Path, activity_id) -> list:
    server = reports.make_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    rows = []
    try:
        with Chromium() as browser:
            for path in site_pages(site, activity_id):
                tab = browser.new_page(cache=False)
                since = tab.goto(url + path)
                # ready: the moment the page reached what it finally shows (charts with their points, tables, maps
                # with routes, nothing loading), in the browser's clock from navigation start; final = unchanged 1.5 s
                deadline = time.monotonic() + 60
                shown, ready, since_change = None, None, time.monotonic()
                while time.monotonic() < deadline:
                    state = tab.evaluate(PAGE_STATE_JS)
                    settled = state["skeletons"] == 0 and not state["loading"]
                    now_shown = (
                        settled,
                        [c["points"] for c in state["charts"]],
                        [m["routes"] for m in state["maps"]],
                        state["tables"],
                    )
                    if now_shown != shown:
                        shown, ready, since_change = now_shown, state["now_ms"] / 1000, time.monotonic()
                    elif state["errors"] or (settled and time.monotonic() - since_change > 1.5):
                        break
                    time.sleep(0.05)
                requests = tab.network(since)
                rows.append(
                    {
                        "page": path,
                        "requests": len(requests),
                        "ready_s": ready,
                        "transferred": sum(r["bytes"] for r in requests),
                        "decoded": sum(r["decoded"] for r in requests),
                        "errors": len(state["errors"]) + len(tab.exceptions(since)),
                        "outside": [r["url"] for r in requests if not r["url"].startswith(LOCAL)],
                    }
                )
                tab.close()
    finally:
        server.shutdown()
        server.server_close()
    return rows


def bench(name: str, base: Path, activities: int, now: float, compile_first: bool) -> dict:
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
    compiled = None
    if compile_first:
        # the Evidence app compiled for the current pages and packages (like npm ci: once, not after an import)
        compiled = reports_build(data_dir, target, "--force")
        print("   compile: " + compiled["out"].strip().splitlines()[-1], flush=True)
        # what the build after an import then does: the marts changed (no reuse), the pages did not
        reports.output_dir(data_dir).joinpath(reports.FINGERPRINT_FILE).unlink()
    build = reports_build(data_dir, target)
    print("   " + build["out"].strip().splitlines()[-1], flush=True)
    again = reports_build(data_dir, target)  # nothing changed: the site is reused
    print("   " + again["out"].strip().splitlines()[-1], flush=True)
    if "Reused the site" not in again["out"]:
        raise SystemExit("the unchanged rebuild did not reuse the site")
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
        "unchanged_s": again["seconds"],
        "compile_s": compiled["seconds"] if compiled else None,
        "compile_rss_mb": compiled["max_rss_kib"] / 1024 if compiled else None,
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
    if not find_chromium():
        raise SystemExit("chromium is needed for the page weights: apt-get install -y chromium")
    node = reports.check_node()
    with tempfile.TemporaryDirectory(prefix="bench-reports-") as tmp:
        base = Path(args.workdir) if args.workdir else Path(tmp)
        base.mkdir(parents=True, exist_ok=True)
        with open(base / "npm-ci.log", "w") as log:  # once, outside the measured builds
            reports.ensure_npm_packages(reports.REPORTS_DIR, node, log, print)
        now = time.time()
        results = [
            bench(name, base, args.activities, now, compile_first=i == 0)
            for i, name in enumerate(args.athletes.split(","))
        ]

    print(f"\nEvidence reports, {node.version}, {os.cpu_count()} CPUs")
    print(
        f"{'athlete':<8} {'activities':>10} {'points':>11} {'import s':>8} {'dbt s':>6} {'build s':>8} "
        f"{'peak RSS MB':>11} {'unchanged s':>11} {'files':>6} {'site MB':>8}"
    )
    for r in results:
        print(
            f"{r['athlete']:<8} {r['activities']:>10,} {r['stream_points']:>11,} {r['import_s']:>8.0f} "
            f"{r['dbt_s']:>6.0f} {r['build_s']:>8.0f} {r['max_rss_mb']:>11.0f} {r['unchanged_s']:>11.1f} "
            f"{r['site_files']:>6,} {r['site_mb']:>8.0f}"
        )
        print(f"         {r['build_line']}")
        if r["compile_s"] is not None:
            print(
                f"         compiling the app first (only when the pages, packages or tile options change): "
                f"{r['compile_s']:.0f} s, peak RSS {r['compile_rss_mb']:.0f} MB"
            )

    print("\nPages (cold cache; ready = navigation start to charts, tables and maps drawn, in the browser)")
    print(
        f"{'athlete':<8} {'page':<36} {'requests':>8} {'transferred MB':>14} {'uncompressed MB':>15} "
        f"{'ready s':>7} {'ok':>4}"
    )
    pages_ok = True
    for r in results:
        for p in r["pages"]:
            ok = (
                p["transferred"] < TARGET_BYTES
                and p["ready_s"] < TARGET_READY_S
                and not p["errors"]
                and not p["outside"]
            )
            pages_ok &= ok
            print(
                f"{r['athlete']:<8} {p['page']:<36} {p['requests']:>8} {p['transferred'] / 1e6:>14.2f} "
                f"{p['decoded'] / 1e6:>15.2f} {p['ready_s']:>7.2f} {'yes' if ok else 'NO':>4}"
            )
            for url in p["outside"]:
                print(f"         requested outside 127.0.0.1: {url}")

    by_name = {r["athlete"]: r for r in results}
    rows = []
    if "demo" in by_name:
        demo = by_name["demo"]
        ratio = demo["build_s"] / (demo["import_s"] + demo["dbt_s"])
        rows.append(
            ("demo build / (import + dbt build)", f"<= {TARGET_RATIO:.1f}", f"{ratio:.2f}", ratio <= TARGET_RATIO)
        )
        rows.append(
            (
                "demo unchanged rebuild",
                f"<= {TARGET_UNCHANGED_S:.0f} s",
                f"{demo['unchanged_s']:.1f} s",
                demo["unchanged_s"] <= TARGET_UNCHANGED_S,
            )
        )
    peak = max(r["max_rss_mb"] for r in results)
    rows.append(
        (
            "peak memory of a build after an import",
            f"<= {TARGET_RSS_MB / 1024:.1f} GB",
            f"{peak / 1024:.2f} GB",
            peak <= TARGET_RSS_MB,
        )
    )
    big = [r for r in results if r["athlete"] != "demo"]
    if "demo" in by_name and big:
        factor = big[0]["build_s"] / by_name["demo"]["build_s"]
        rows.append(
            (
                f"{big[0]['activities']:,}-activity build / demo build",
                f"<= {TARGET_BIG_VS_DEMO:.1f}",
                f"{factor:.2f}",
                factor <= TARGET_BIG_VS_DEMO,
            )
        )
    slowest = max(p["ready_s"] for r in results for p in r["pages"])
    heaviest = max(p["transferred"] for r in results for p in r["pages"])
    rows.append(
        ("slowest page ready (cold cache)", f"< {TARGET_READY_S:.0f} s", f"{slowest:.2f} s", slowest < TARGET_READY_S)
    )
    rows.append(
        (
            "heaviest page transferred",
            f"< {TARGET_BYTES / 1e6:.0f} MB",
            f"{heaviest / 1e6:.2f} MB",
            heaviest < TARGET_BYTES,
        )
    )
    print(f"\n{'target':<40} {'wanted':>10} {'measured':>10}  met")
    for name, wanted, measured, met in rows:
        print(f"{name:<40} {wanted:>10} {measured:>10}  {'yes' if met else 'NO'}")
    return 0 if pages_ok and all(met for *_, met in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
