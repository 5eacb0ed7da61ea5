"""Evidence reports end to end: demo warehouse -> dbt build -> reports build -> served on loopback -> headless Chromium.

One site is built per test session (module fixture, a few minutes: npm ci once, the demo import, dbt, Evidence);
the fast tests at the bottom need neither Node nor Chromium. Every page's load time (navigation start to its charts
drawn, cold cache) is measured and written to tests/output/reports/page-times.json; the tests do not assert wall
clock times (a loaded CI box), benchmarks/bench_reports.py checks them against the 2 s target. What each page reads
(the data files the server sent for it, whoever asked: the page or duckdb-wasm's worker) is asserted against a budget
instead and written to tests/output/reports/page-budget.json."""

import csv
import gzip
import http.client
import io
import json
import math
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import duckdb
import pytest

from strava_pipeline import reports
from strava_pipeline.cli import main
from strava_pipeline.clock import FakeClock
from tests.support.chromium import PAGE_STATE_JS, Chromium, find_chromium

# the module's site fixture runs the whole pipeline (import, dbt build, npm ci, Evidence): more than the default
# 600 s on a busy 2-core box
pytestmark = pytest.mark.timeout(2400)

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "output" / "reports"
ZONES_CSV = ROOT / "dbt_project" / "seeds" / "privacy_zones.csv"

# every page of the site: what must be on it once Evidence has run its queries
PAGES = {
    "/": {"charts": 1, "tables": 1, "values": 8},
    "/weekly/": {"charts": 3, "tables": 1},
    "/monthly/": {"charts": 3, "tables": 1},
    "/activities/": {"charts": 0, "tables": 1},
    "/fitness/": {"charts": 2, "tables": 2},
    "/map/": {"charts": 0, "tables": 1, "maps": 1},
    "/data-quality/": {"charts": 2, "tables": 2},
    "/power-pace/": {"charts": 3, "tables": 2},
    "/zones/": {"charts": 1, "tables": 1},
    "/gear/": {"charts": 1, "tables": 1},
    "/calendar/": {"charts": 0, "tables": 1},
    "/year-in-review/": {"charts": 0, "tables": 1},
}
# what a page may read from the server for its data (query results, source tables, routes, activity files), cold
# cache: the demo's pages read 15-400 KB (the map's routes of a year the most) in 15-60 requests (one per query
# result, the source tables duckdb-wasm reads for the athlete filter); a page that read a row-level table whole (or
# every athlete's routes) grows with the history and breaks it
PAGE_DATA_BUDGET_BYTES = 1_000_000
PAGE_DATA_BUDGET_REQUESTS = 80
DATA_PREFIXES = ("/data/", "/api/", f"/{reports.ROUTES_SUBDIR}/", f"/{reports.ACTIVITY_DATA_SUBDIR}/")
# the JavaScript a page runs before it shows anything (uncompressed): 3.0-3.3 MB (Evidence, echarts, duckdb-wasm's
# loader); 8.0-8.4 MB while a 4.8 MB icon pack came with Evidence's header (reports/overrides/)
PAGE_JS_BUDGET_BYTES = 4_500_000
# draws of its charts (echarts setOption) a page makes until it is drawn: one per chart since reports/overrides/
# echarts-action.js; Evidence's own action drew each chart four times while the page started
CHART_DRAWS_PER_CHART = 2
# one page per year (the newest year of the demo): what must be on it
YEAR_PAGES = {"/calendar/{year}/": {"charts": 2}, "/year-in-review/{year}/": {"charts": 1}}


def _missing_tools(browser: bool = True) -> str:
    if not (shutil.which("node") and shutil.which("npm")):
        return "Node.js and npm are not installed (the Evidence build needs Node 18+, 20 tested)"
    if browser and not find_chromium():
        return "chromium is not installed (apt-get install -y chromium)"
    return ""


def _run(cmd: list, env: dict, timeout: float) -> str:
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


class Site:
    """The demo athlete's warehouse, marts and built site, served on a free loopback port, and a browser."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.data_dir = base / "demo"
        self.warehouse = self.data_dir / "strava.duckdb"
        self.times: dict = {}
        self.page_ms: dict = {}  # page -> ms from navigation start to its content drawn (cold cache)
        self.page_data: dict = {}  # page -> what the server sent for its data: requests, bytes (uncompressed)
        self.served: list = []  # (path, bytes) the servers of this test sent, in order

    def build(self) -> None:
        # the demo athlete's last 400 days: a year-to-date comparison with last year, a couple of hundred
        # activities; on a simulated clock that starts now, so the rate-limit waits of the import cost nothing
        now = time.time()
        start = (datetime.fromtimestamp(now, UTC).date() - timedelta(days=400)).isoformat()
        t = time.monotonic()
        out, err = io.StringIO(), io.StringIO()
        rc = main(
            ["--data-dir", str(self.base), "--demo", "--start-date", start, "--import-only"],
            clock=FakeClock(now),
            out=out,
            err=err,
        )
        assert rc == 0, err.getvalue() + out.getvalue()
        self.times["demo import"] = time.monotonic() - t

        t = time.monotonic()
        # dbt's target and logs go to the test's folder: parallel sessions must not read each other's results
        self.env = {
            **os.environ,
            "STRAVA_DATA_DIR": str(self.data_dir),
            "DBT_TARGET_PATH": str(self.base / "target"),
            "DBT_LOG_PATH": str(self.base / "dbt-logs"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        }
        dbt = str(Path(sys.executable).with_name("dbt"))
        _run([dbt, "build", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project"], self.env, 1200)
        self.times["dbt build"] = time.monotonic() - t

        t = time.monotonic()
        # --force: compile the pages even when an earlier session compiled the same ones (that path is tested too)
        self.build_output = self.reports_build("--force")
        self.times["reports build"] = time.monotonic() - t
        self.site = reports.site_dir(self.data_dir)

    def reports_build(self, *options: str, base: Path | None = None) -> str:
        out, err = io.StringIO(), io.StringIO()
        saved = os.environ.get("DBT_TARGET_PATH")
        os.environ["DBT_TARGET_PATH"] = self.env["DBT_TARGET_PATH"]
        try:
            rc = main(["--data-dir", str(base or self.base), "--demo", "reports", "build", *options], out=out, err=err)
        finally:
            os.environ.pop("DBT_TARGET_PATH") if saved is None else os.environ.update(DBT_TARGET_PATH=saved)
        assert rc == 0, err.getvalue() + out.getvalue()
        return out.getvalue()

    def serve(self) -> None:
        self.server = self.recording_server(self.site)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.browser = Chromium(width=1280, height=1000)

    def recording_server(self, site: Path, mounts: dict | None = None):
        """reports' server for site (and mounts, {"/prefix/": folder} served over it) on a free loopback port,
        noting every file it sends in self.served (requests of duckdb-wasm's worker included, which the page's own
        network events do not show)."""
        server = reports.make_server(site, 0, mounts)
        served = self.served

        def log_request(handler, code="-", size="-") -> None:
            file = Path(handler.translate_path(handler.path))
            served.append((handler.path.split("?")[0], file.stat().st_size if file.is_file() else 0))

        server.RequestHandlerClass.func.log_request = log_request  # this server's own handler class
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    def close(self) -> None:
        if self.page_ms:
            OUTPUT.mkdir(parents=True, exist_ok=True)
            (OUTPUT / "page-times.json").write_text(json.dumps(self.page_ms, indent=1))
            print(f"\npage load times, cold cache (ms): {self.page_ms}")
        if self.page_data:
            OUTPUT.mkdir(parents=True, exist_ok=True)
            (OUTPUT / "page-budget.json").write_text(json.dumps(self.page_data, indent=1))
        for closer in ("browser", "server"):
            obj = getattr(self, closer, None)
            if obj is not None:
                (obj.close if closer == "browser" else obj.shutdown)()

    def sql(self, query: str, params=None) -> list:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return con.execute(query, params or []).fetchall()

    def open(self, path: str, expect: dict, timeout: float = 45, then=None, shot: str = "") -> dict:
        """Opens a page, waits until its charts have data (or an error shows), screenshots it; returns its state,
        with what the server sent for its data (data: requests, bytes). then(tab, state): more to do on the page
        before the screenshot (named shot), returning the state to report."""
        tab = self.browser.new_page(cache=False)
        try:
            first_served = len(self.served)
            since = tab.goto(self.url + path)
            state, ready = _wait_until_drawn(tab, expect, timeout)
            if ready:
                self.page_ms[path] = round(state["now_ms"])
            draws = tab.evaluate("window[Symbol.for('chart renders')] || 0")  # counted by Evidence's chart action
            time.sleep(0.8)  # chart animations (500 ms) end before the screenshot; late requests are counted too
            data = [size for served, size in self.served[first_served:] if served.startswith(DATA_PREFIXES)]
            state = tab.evaluate(PAGE_STATE_JS)
            if then is not None:
                state = then(tab, state)
            name = shot or re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_") or "overview"
            tab.screenshot(OUTPUT / f"{name}.png")
            state["requests"] = tab.network(since)
            script = sum(r["decoded"] for r in state["requests"] if r["url"].split("?")[0].endswith(".js"))
            state["data"] = {"requests": len(data), "bytes": sum(data), "js_bytes": script, "chart_draws": draws}
            if ready and then is None:
                self.page_data[path] = state["data"]
            state["exceptions"] = tab.exceptions(since)
            return state
        finally:
            tab.close()


def _wait_until_drawn(tab, expect: dict, timeout: float, until=None) -> tuple:
    """Polls the page until its charts, maps and tables have data (and until(state), if given) or an error shows;
    returns (state, ready)."""
    deadline = time.monotonic() + timeout
    while True:
        state = tab.evaluate(PAGE_STATE_JS)
        ready = (
            state["skeletons"] == 0
            and not state["loading"]
            and len(state["charts"]) >= expect.get("charts", 0)
            and all(c["points"] > 0 for c in state["charts"])
            and all(m["routes"] > 0 for m in state["maps"])
            and len(state["maps"]) >= expect.get("maps", 0)
            and sum(1 for n in state["tables"] if n > 0) >= expect.get("tables", 0)
            and (until is None or until(state))
        )
        if state["errors"] or ready or time.monotonic() > deadline:
            return state, ready
        time.sleep(0.05)


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The built site, without a browser: what the file-level checks (the privacy scan) need."""
    reason = _missing_tools(browser=False)
    if reason:
        pytest.skip(f"reports end-to-end test skipped: {reason}")
    built = Site(tmp_path_factory.mktemp("reports"))
    try:
        built.build()
        yield built
    finally:
        built.close()


@pytest.fixture(scope="module")
def site(built_site):
    """The built site served on loopback and opened in headless Chromium."""
    reason = _missing_tools()
    if reason:
        pytest.skip(f"reports browser test skipped: {reason}")
    built_site.serve()
    return built_site


def _assert_rendered(state: dict, path: str, expect: dict) -> None:
    where = f"{path}: "
    assert not state["errors"], where + f"Evidence error blocks: {state['errors']}"
    assert not state["failed"], where + "the page is SvelteKit's error page"
    assert not state["exceptions"], where + f"JavaScript exceptions: {state['exceptions']}"
    assert len(state["charts"]) >= expect.get("charts", 0), where + f"charts: {state['charts']}"
    for chart in state["charts"]:
        assert chart["points"] > 0 and chart["width"] > 0, where + f"a chart without data: {chart}"
    assert len(state["maps"]) >= expect.get("maps", 0), where + "map missing"
    for leaflet in state["maps"]:
        assert leaflet["routes"] > 0, where + "a map without routes"
    assert sum(1 for n in state["tables"] if n > 0) >= expect.get("tables", 0), where + f"tables: {state['tables']}"
    # everything came from the loopback server: no CDN, no tiles, no fonts from the internet
    outside = [r["url"] for r in state["requests"] if not r["url"].startswith(("http://127.0.0.1:", "data:", "blob:"))]
    assert state["requests"], where + "no request recorded: the check would prove nothing"
    assert not outside, where + f"requests outside the site: {outside}"
    broken = [r for r in state["requests"] if r["status"] and r["status"] >= 400]
    assert not broken, where + f"failed requests: {broken}"


@pytest.mark.slow
def test_build_writes_the_site_and_the_log_is_clean(built_site):
    site = built_site
    assert (site.site / "index.html").is_file()
    assert "Site written to" in site.build_output
    log = (reports.output_dir(site.data_dir) / "build.log").read_text()
    assert "Error in Query" not in log
    activities = site.sql("select count(*) from marts.fct_activities")[0][0]
    # one activity page for all of them, and one small data file per activity
    assert (site.site / "activity" / "index.html").is_file()
    assert not list((site.site / "activities").glob("*/index.html"))
    data_files = {p.stem for p in (site.site / reports.ACTIVITY_DATA_SUBDIR).glob("*.json")}
    assert data_files == {str(i) for (i,) in site.sql("select activity_id from marts.fct_activities")}
    assert activities > 50
    assert f"{activities} activity data files" in site.build_output
    # the snapshot Evidence read is a separate file; the warehouse is not held open by anyone
    assert (reports.output_dir(site.data_dir) / reports.SNAPSHOT_FILE).is_file()
    with duckdb.connect(str(site.warehouse)) as con:  # a writer can open it: nothing holds it
        con.execute("select 1")
    print(f"\nreports e2e timings: {site.times}")


@pytest.mark.slow
@pytest.mark.parametrize("path", list(PAGES))
def test_every_page_renders_with_data(site, path):
    state = site.open(path, PAGES[path])
    _assert_rendered(state, path, PAGES[path])


@pytest.mark.slow
@pytest.mark.parametrize("pattern", list(YEAR_PAGES))
def test_year_pages_render_with_data(site, pattern):
    year = site.sql("select max(year(start_date_local)) from marts.fct_activities")[0][0]
    path = pattern.format(year=year)
    assert (site.site / path.strip("/") / "index.html").is_file(), f"{path} was not built"
    state = site.open(path, YEAR_PAGES[pattern])
    _assert_rendered(state, path, YEAR_PAGES[pattern])
    assert str(year) in state["text"]


@pytest.mark.slow
def test_new_pages_show_times_and_paces_as_clock_times(site):
    state = site.open("/power-pace/", PAGES["/power-pace/"])
    assert re.search(r"\b\d{1,2}:\d\d /km\b", state["text"]), "no m:ss /km pace on the power & pace page"
    state = site.open("/gear/", PAGES["/gear/"])
    assert re.search(r"\b\d+:\d\d:\d\d\b", state["text"]), "no h:mm:ss moving time on the gear page"


@pytest.mark.slow
def test_activity_page_has_stream_charts_laps_and_route(site):
    activity_id, has_laps = site.sql("""
        select a.activity_id, exists (select 1 from staging.stg_strava__activity_laps l
                                      where l.activity_id = a.activity_id)
        from marts.fct_activities a
        join marts.activity_routes_masked r using (activity_id)
        where a.has_heartrate
          and (select count(*) from marts.activity_streams_masked s where s.activity_id = a.activity_id) > 100
        order by a.start_at_utc desc limit 1""")[0]
    path = f"/activity/?id={activity_id}"
    expect = {"charts": 3, "maps": 1, "tables": 1 if has_laps else 0}
    state = site.open(path, expect)
    _assert_rendered(state, path, expect)
    name = site.sql("select activity_name from marts.fct_activities where activity_id = ?", [activity_id])[0][0]
    assert state["h1"] == name
    assert state["maps"] == [{"routes": 1}]
    moving_s = site.sql("select moving_time_s from marts.fct_activities where activity_id = ?", [activity_id])[0][0]
    hms = f"{moving_s // 3600}:{moving_s // 60 % 60:02d}:{moving_s % 60:02d}"
    assert re.search(rf"Moving time\s+{hms}\b", state["text"]), f"moving time not shown as {hms}: {state['text'][:400]}"


@pytest.mark.slow
def test_activities_list_shows_durations_and_paces_as_clock_times(site):
    state = site.open("/activities/", PAGES["/activities/"])
    _assert_rendered(state, "/activities/", PAGES["/activities/"])
    assert re.search(r"\b\d+:\d\d:\d\d\b", state["text"]), "no h:mm:ss duration on the activities page"
    assert re.search(r"\b\d{1,2}:\d\d\b", state["text"]), "no m:ss pace on the activities page"
    assert "min/km" not in state["text"]


@pytest.mark.slow
def test_an_unknown_activity_says_not_found(site):
    state = site.open("/activity/?id=1", {})
    assert state["h1"] == "Activity not found" and not state["exceptions"]
    assert "There is no activity 1 in the reports" in state["text"]


@pytest.mark.slow
def test_every_page_of_the_site_opens_offline(site):
    """Pages not listed in PAGES (added later) too: no error, no request outside 127.0.0.1."""
    activity_id = site.sql("select max(activity_id) from marts.fct_activities")[0][0]
    paths = []
    for index in sorted(site.site.rglob("index.html")):
        path = "/" + "".join(f"{part}/" for part in index.parent.relative_to(site.site).parts)
        paths.append(f"{path}?id={activity_id}" if path == "/activity/" else path)
    assert len(paths) >= len(PAGES) + 1
    for path in paths:
        if path in PAGES:
            continue  # opened with their expectations by test_every_page_renders_with_data
        state = site.open(path, {})
        _assert_rendered(state, path, {})


@pytest.mark.slow
def test_a_data_change_prerenders_the_compiled_pages_again(site, tmp_path, monkeypatch):
    """Another data dir, the same pages: the app compiled for the site fixture is reused, the pages are only
    prerendered again, and they show the new data (one activity fewer), in imperial units (the units are data: no
    second compile)."""
    (tmp_path / "demo").mkdir()
    shutil.copy(site.warehouse, tmp_path / "demo" / "strava.duckdb")
    with duckdb.connect(str(tmp_path / "demo" / "strava.duckdb")) as con:
        removed, count = con.execute("select max(activity_id), count(*) - 1 from marts.fct_activities").fetchone()
        con.execute("delete from marts.fct_activities where activity_id = ?", [removed])
        week_km = con.execute(
            "select sum(distance_km) from marts.weekly_summary "
            "where week_start = (select max(week_start) from marts.weekly_summary)"
        ).fetchone()[0]
    monkeypatch.setenv("REPORTS__UNITS", "imperial")
    output = site.reports_build(base=tmp_path)
    assert "Prerendering the pages with the new data" in output and "prerender" in output, output
    assert "Compiling" not in output
    other = reports.site_dir(tmp_path / "demo")
    assert not (other / reports.ACTIVITY_DATA_SUBDIR / f"{removed}.json").exists()
    server = site.recording_server(other)
    url, site.url = site.url, f"http://127.0.0.1:{server.server_address[1]}"
    try:
        for path in ("/", "/activities/"):
            state = site.open(path, PAGES[path])
            _assert_rendered(state, path, PAGES[path])
        assert f"{count:,} activities since" in state["text"], state["text"][:500]
        assert re.search(r"\b\d{1,2}:\d\d\b", state["text"]) and "Pace /mi (swims /100yd)" in state["text"]
        state = site.open("/", PAGES["/"])
        shown = [line.strip() for line in state["values"]["week_distance"].splitlines() if line.strip()]
        assert shown[:2] == ["Distance (mi)", _fmt(week_km / 1.609344, 1)], shown
        assert "Elevation (ft)" in state["text"] and "(km)" not in state["text"]
        state = site.open("/power-pace/", PAGES["/power-pace/"])
        _assert_rendered(state, "/power-pace/", PAGES["/power-pace/"])
        assert re.search(r"\b\d{1,2}:\d\d /mi\b", state["text"]), "no m:ss /mi pace on the power & pace page"
        state = site.open(f"/activity/?id={removed}", {})
        assert state["h1"] == "Activity not found"
    finally:
        site.url = url
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_a_second_athlete_is_shown_only_when_selected(site, tmp_path):
    """Two athletes in the marts (the demo athlete, and B with fewer activities and other weekly totals): the pages,
    prerendered again for the new data, open on the demo athlete with a visible selector, and show B's numbers only
    once B is selected in it."""
    b = 4242
    (tmp_path / "demo").mkdir()
    shutil.copy(site.warehouse, tmp_path / "demo" / "strava.duckdb")
    with duckdb.connect(str(tmp_path / "demo" / "strava.duckdb")) as con:
        con.execute(f"""
            insert into marts.fct_activities select * replace (activity_id + 1000000000000 as activity_id,
                {b} as athlete_id, 'B ' || activity_name as activity_name)
            from marts.fct_activities order by start_at_utc desc limit 30;
            insert into marts.weekly_summary select * replace ({b} as athlete_id, distance_km * 3 + 1 as distance_km)
            from marts.weekly_summary;
            insert into marts.yearly_summary select * replace ({b} as athlete_id) from marts.yearly_summary""")
        week_km = dict(
            con.execute("""
                select athlete_id, sum(distance_km) from marts.weekly_summary
                where week_start = (select max(week_start) from marts.weekly_summary) group by athlete_id""").fetchall()
        )
    assert len(week_km) == 2 and _fmt(week_km[b], 1) != _fmt(sum(week_km.values()) - week_km[b], 1)
    demo_km = next(km for athlete, km in week_km.items() if athlete != b)
    output = site.reports_build(base=tmp_path)
    assert "Prerendering the pages with the new data" in output and "Compiling" not in output, output
    server = site.recording_server(reports.site_dir(tmp_path / "demo"))
    url, site.url = site.url, f"http://127.0.0.1:{server.server_address[1]}"

    def week_distance(state) -> list:
        return [line.strip() for line in state["values"].get("week_distance", "").splitlines() if line.strip()]

    def pick_b(tab, state):
        assert week_distance(state)[:2] == ["Distance (km)", _fmt(demo_km, 1)], week_distance(state)
        tab.click("[data-athlete-picker] button")
        tab.click('[role="option"]', f"Athlete {b}")
        state, ready = _wait_until_drawn(
            tab, PAGES["/"], 45, until=lambda s: week_distance(s)[1:2] == [_fmt(week_km[b], 1)]
        )
        assert ready, f"athlete {b} picked, the page shows {week_distance(state)}"
        time.sleep(0.8)
        return tab.evaluate(PAGE_STATE_JS)

    try:
        state = site.open("/", PAGES["/"], then=pick_b, shot="overview_athlete_b")
        _assert_rendered(state, "/", PAGES["/"])
        assert week_distance(state)[:2] == ["Distance (km)", _fmt(week_km[b], 1)], week_distance(state)
        assert "Athlete" in state["text"].split("This week")[0]  # the selector shows with two athletes
        state = site.open("/activities/", PAGES["/activities/"])  # the demo athlete's by default, not B's
        _assert_rendered(state, "/activities/", PAGES["/activities/"])
        count = site.sql("select count(*) from marts.fct_activities")[0][0]
        assert f"{count:,} activities since" in state["text"], state["text"][:500]
    finally:
        site.url = url
        server.shutdown()
        server.server_close()


def _moved(geometry: dict, dlat: float, dlng: float) -> dict:
    def walk(value):
        if value and isinstance(value[0], (int, float)):
            return [round(value[0] + dlng, 6), round(value[1] + dlat, 6), *value[2:]]
        return [walk(v) for v in value]

    return {**geometry, "coordinates": walk(geometry["coordinates"])}


def _centre(geometry: dict) -> tuple:
    points = []

    def walk(value):
        if value and isinstance(value[0], (int, float)):
            points.append(value)
        else:
            for v in value:
                walk(v)

    walk(geometry["coordinates"])
    lngs, lats = [p[0] for p in points], [p[1] for p in points]
    return (min(lats) + max(lats)) / 2, (min(lngs) + max(lngs)) / 2


# the map's routes drawn inside its box: Leaflet clips a route outside the view to an empty path ("M0 0"); a route
# smaller than a pixel at a small zoom is a path of no width or height, but drawn
_ROUTES_IN_VIEW_JS = r"""
(() => {
  const map = document.querySelector('.leaflet-container');
  if (!map) return -1;
  const box = map.getBoundingClientRect();
  return [...map.querySelectorAll('path.leaflet-interactive')].filter(p => {
    const d = (p.getAttribute('d') || '').trim(), r = p.getBoundingClientRect();
    return d !== '' && d !== 'M0 0' && r.right >= box.left && r.left <= box.right && r.bottom >= box.top
      && r.top <= box.bottom;
  }).length;
})()
"""


@pytest.mark.slow
def test_map_opens_where_most_routes_are_and_a_trip_is_a_choice_away(site, tmp_path):
    """Issue 14: one trip away must not shrink the home routes to a blob. The newest year's routes, served as a home
    and a trip (the same features moved: all but the last three around one place, those three 1,000 km east): the
    map opens on the home routes without the trip, the trip is one choice away in the list named by routes and
    dates, and Everywhere shows them all. The year's GeoJSON is read from the server once."""
    athlete_dir = next(p for p in (site.site / reports.ROUTES_SUBDIR).iterdir() if p.is_dir())
    year_file = max(athlete_dir.glob("*.geojson"), key=lambda p: int(p.stem))
    features = json.loads(year_file.read_text())["features"]
    assert len(features) > 10, "too few routes in the newest year for a home and a trip"
    home, away = (46.05, 14.5), (46.05, 27.5)  # 13 degrees of longitude apart: ~1,000 km
    for i, feature in enumerate(features):
        lat, lng = _centre(feature["geometry"])
        lat0, lng0 = away if i >= len(features) - 3 else home
        # around the place: a few km apart, all within 60 km of the first route (one group)
        feature["geometry"] = _moved(feature["geometry"], lat0 - lat + (i % 5) * 0.02, lng0 - lng + (i % 3) * 0.02)
    mount = tmp_path / "routes"
    mount.mkdir()
    (mount / year_file.name).write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    n_home = len(features) - 3
    days = sorted(f["properties"]["day"] for f in features[-3:])
    trip_label = f"3 routes, {days[0]} to {days[-1]}" if days[0] != days[-1] else f"3 routes, {days[0]}"
    route_url = f"/{reports.ROUTES_SUBDIR}/{athlete_dir.name}/{year_file.name}"
    server = site.recording_server(site.site, {f"/{reports.ROUTES_SUBDIR}/{athlete_dir.name}/": mount})
    url, site.url = site.url, f"http://127.0.0.1:{server.server_address[1]}"
    first_served = len(site.served)
    seen = {}

    def routes_in_view(tab, wanted: int) -> int:
        deadline = time.monotonic() + 30
        while (shown := tab.evaluate(_ROUTES_IN_VIEW_JS)) != wanted and time.monotonic() < deadline:
            time.sleep(0.1)
        return shown

    def choose(tab, shown: str, option: str) -> None:
        tab.click('button[role="combobox"]', shown)
        tab.click('[role="option"]', option)

    def pick_groups(tab, state):
        seen["home"] = routes_in_view(tab, n_home)
        seen["text"] = state["text"]
        tab.screenshot(OUTPUT / "map_home.png")
        choose(tab, "Where most routes are", trip_label)
        seen["trip"] = routes_in_view(tab, 3)
        time.sleep(0.8)  # the tiles fade in
        tab.screenshot(OUTPUT / "map_trip.png")
        choose(tab, trip_label, "Everywhere")
        seen["everywhere"] = routes_in_view(tab, len(features))
        return tab.evaluate(PAGE_STATE_JS)

    try:
        state = site.open("/map/", PAGES["/map/"], then=pick_groups, shot="map_everywhere")
    finally:
        site.url = url
        server.shutdown()
        server.server_close()
    _assert_rendered(state, "/map/", PAGES["/map/"])
    assert f"Where most routes are ({n_home} routes)" in seen["text"], seen["text"][:600]
    assert seen["home"] == n_home, f"the map opens with {seen['home']} routes in view, not the {n_home} at home"
    assert seen["trip"] == 3, f"the trip chosen, {seen['trip']} routes are in view, not its 3"
    assert seen["everywhere"] == len(features), f"Everywhere shows {seen['everywhere']} of {len(features)} routes"
    assert f"Everywhere ({len(features)} routes)" in state["text"]
    reads = [path for path, _ in site.served[first_served:] if path == route_url]
    assert len(reads) == 1, f"the year's routes were read {len(reads)} times"


@pytest.mark.slow
def test_unchanged_rebuild_reuses_the_site(built_site):
    site = built_site
    index = site.site / "index.html"
    before = index.stat().st_mtime_ns
    output = site.reports_build()
    assert "Reused the site in" in output and "Exporting" not in output, output
    assert index.stat().st_mtime_ns == before
    fingerprint = reports.output_dir(site.data_dir) / reports.FINGERPRINT_FILE
    assert fingerprint.is_file()


@pytest.mark.slow
def test_activity_without_streams_or_route_still_renders(site):
    rows = site.sql("""
        select activity_id from marts.fct_activities a
        where not exists (select 1 from marts.activity_routes_masked r where r.activity_id = a.activity_id)
        order by start_at_utc desc limit 1""")
    if not rows:
        pytest.skip("every demo activity has a published route")
    path = f"/activity/?id={rows[0][0]}"
    state = site.open(path, {})
    _assert_rendered(state, path, {})
    assert "No published route" in state["text"]


def _fmt(value, decimals: int) -> str:
    """Evidence's #,##0.0 / #,##0: thousands separators, half away from zero."""
    quantum = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(float(value or 0))).quantize(quantum, rounding=ROUND_HALF_UP)
    return f"{rounded:,.{decimals}f}"


@pytest.mark.slow
def test_overview_headline_numbers_equal_the_marts(site):
    state = site.open("/", PAGES["/"])
    _assert_rendered(state, "/", PAGES["/"])
    weeks = site.sql("""
        select week_start, sum(distance_km), sum(moving_time_h), sum(activity_count), sum(elevation_gain_m)
        from marts.weekly_summary group by week_start order by week_start desc limit 2""")
    (_, km, hours, count, climb), last = weeks[0], weeks[1]
    ytd = site.sql("""
        select sum(ytd_distance_km), sum(ytd_moving_time_h), sum(ytd_activity_count), sum(ytd_elevation_gain_m),
               sum(ytd_distance_km) - coalesce(sum(prev_year_ytd_distance_km), 0)
        from marts.yearly_summary where is_current_year""")[0]
    expected = {
        "week_distance": (_fmt(km, 1), _fmt(km - last[1], 1)),
        "week_moving_time": (_hm(hours * 3600), _signed_hm(round(hours * 3600) - round(last[2] * 3600))),
        "week_activity_count": (_fmt(count, 0), _fmt(count - last[3], 0)),
        "week_elevation": (_fmt(climb, 0), _fmt(climb - last[4], 0)),
        "ytd_distance": (_fmt(ytd[0], 1), _fmt(ytd[4], 1)),
        "ytd_moving_time": (_hm(ytd[1] * 3600), None),
        "ytd_activity_count": (_fmt(ytd[2], 0), None),
        "ytd_elevation": (_fmt(ytd[3], 0), None),
    }
    for key, (value, delta) in expected.items():
        shown = [line.strip() for line in state["values"][key].splitlines() if line.strip()]
        assert shown[1] == value, f"{key}: the page shows {shown}, the marts say {value}"
        if delta is not None:
            assert delta.lstrip("-") in shown[2], f"{key}: the page shows {shown}, the marts' change is {delta}"
    # durations as h:mm, a change with its sign, never decimal hours
    for key in ("week_moving_time", "ytd_moving_time"):
        shown = [line.strip() for line in state["values"][key].splitlines() if line.strip()]
        assert re.fullmatch(r"\d+:\d\d", shown[1]), f"{key}: {shown}"
        assert re.match(r"[-+]?\d+:\d\d vs last (week|year)$", " ".join(shown[2:])), f"{key}: {shown}"
    # one athlete: the athlete selector is there (the pages filter by it) but not in the way
    assert "Athlete" not in state["text"].split("This week")[0], state["text"][:300]


def _hm(seconds: float) -> str:
    minutes = int(Decimal(repr(float(seconds))).quantize(Decimal(1), rounding=ROUND_HALF_UP)) / 60
    minutes = int(Decimal(repr(minutes)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return f"{minutes // 60}:{minutes % 60:02d}"


def _signed_hm(seconds: float) -> str:
    return ("-" if seconds < 0 else "+" if seconds > 0 else "") + _hm(abs(seconds))


@pytest.mark.slow
def test_every_page_reads_little_data_and_code(site):
    """Issue 15's first page a user sees, without a stopwatch: what each page asks the server for its data (query
    results, the source tables duckdb-wasm reads, routes) stays within a budget, cold cache, and so do the JavaScript
    it runs and the draws of its charts until it is drawn. The load times are recorded in page-times.json beside
    page-budget.json."""
    year = site.sql("select max(year(start_date_local)) from marts.fct_activities")[0][0]
    pages = {**PAGES, **{pattern.format(year=year): expect for pattern, expect in YEAR_PAGES.items()}}
    over, heavy, redrawn = {}, {}, {}
    for path, expect in pages.items():
        state = site.open(path, expect)
        _assert_rendered(state, path, expect)
        data = state["data"]
        if data["bytes"] > PAGE_DATA_BUDGET_BYTES or data["requests"] > PAGE_DATA_BUDGET_REQUESTS:
            over[path] = data
        if data["js_bytes"] > PAGE_JS_BUDGET_BYTES:
            heavy[path] = data["js_bytes"]
        if data["chart_draws"] > CHART_DRAWS_PER_CHART * len(state["charts"]):
            redrawn[path] = (data["chart_draws"], len(state["charts"]))
    print(f"\npage data, cold cache: {site.page_data}")
    assert sum(data["requests"] for data in site.page_data.values()) > len(pages), "no data request recorded"
    assert not over, (
        f"pages over the data budget ({PAGE_DATA_BUDGET_BYTES:,} bytes, {PAGE_DATA_BUDGET_REQUESTS} requests): {over}"
    )
    assert min(data["js_bytes"] for data in site.page_data.values()) > 0, "no JavaScript recorded"
    assert not heavy, f"pages running more than {PAGE_JS_BUDGET_BYTES:,} bytes of JavaScript: {heavy}"
    assert sum(data["chart_draws"] for data in site.page_data.values()) > 0, "no chart draw recorded"
    assert not redrawn, f"charts drawn more than {CHART_DRAWS_PER_CHART} times each (draws, charts): {redrawn}"


@pytest.mark.slow
def test_pages_stay_light(site):
    """The issue's target: under 5 MB transferred per page, cold cache (gzip from `reports serve`)."""
    for path in ("/", "/activities/", "/map/"):
        state = site.open(path, PAGES[path])
        transferred = sum(r["bytes"] for r in state["requests"])
        assert transferred < 5_000_000, f"{path} transfers {transferred / 1e6:.1f} MB"


# ------------------------------------------------------------------------------------------------ privacy scan


def _zones() -> list:
    with open(ZONES_CSV) as handle:
        return [(float(r["lat"]), float(r["lon"]), float(r["radius_m"])) for r in csv.DictReader(handle)]


def _inside(zones, lat: float, lng: float) -> bool:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return False
    for zlat, zlng, radius in zones:
        dlat, dlng = math.radians(lat - zlat), math.radians(lng - zlng)
        a = (
            math.sin(dlat / 2) ** 2
            + math.cos(math.radians(zlat)) * math.cos(math.radians(lat)) * math.sin(dlng / 2) ** 2
        )
        if 2 * 6371008.8 * math.asin(math.sqrt(a)) < radius:
            return True
    return False


_NUMBER_PAIR = re.compile(r"(-?\d{1,3}\.\d{3,})[\s,;/]+(-?\d{1,3}\.\d{3,})")
_LAT = re.compile(r"(^|_)lat(itude)?($|_)", re.I)
_LNG = re.compile(r"(^|_)(lng|lon|long|longitude)($|_)", re.I)


class PrivacyScan:
    """Reads every data file of the site (parquet, Arrow, JSON/GeoJSON, HTML) and collects what it finds."""

    def __init__(self, zones: list, secrets: list) -> None:
        self.zones, self.secrets = zones, [s for s in secrets if s]
        self.coordinates = 0
        self.findings: list = []
        self.files: list = []  # what was read

    def point(self, where: str, lat, lng) -> None:
        if isinstance(lat, (int, float)) and isinstance(lng, (int, float)):
            self.coordinates += 1
            if _inside(self.zones, lat, lng):
                self.findings.append(f"{where}: ({lat}, {lng}) lies inside a privacy zone")

    def text(self, where: str, value: str) -> None:
        for secret in self.secrets:
            if secret in value:
                self.findings.append(f"{where}: contains an unmasked polyline/position {secret[:24]}...")
        for a, b in _NUMBER_PAIR.findall(value):  # WKT, GeoJSON text, "lat, lng" strings: either order
            self.point(where, float(b), float(a))
            self.point(where, float(a), float(b))

    def json(self, where: str, value) -> None:
        if isinstance(value, dict):
            lat = next((v for k, v in value.items() if _LAT.search(k)), None)
            lng = next((v for k, v in value.items() if _LNG.search(k)), None)
            if lat is not None and lng is not None:
                self.point(where, lat, lng)
            for v in value.values():
                self.json(where, v)
        elif isinstance(value, list):
            if len(value) >= 2 and all(isinstance(v, (int, float)) for v in value[:2]):
                self.point(where, value[1], value[0])  # GeoJSON [lon, lat]
                self.point(where, value[0], value[1])
            else:
                for v in value:
                    self.json(where, v)
        elif isinstance(value, str):
            self.text(where, value)

    def table(self, where: str, table) -> None:
        names = table.column_names
        for name in names:
            if re.search(r"polyline|latlng", name, re.I):
                self.findings.append(f"{where}: has a column {name}")
        lats = [n for n in names if _LAT.search(n)]
        lngs = [n for n in names if _LNG.search(n)]
        columns = table.to_pydict()
        for lat_col in lats:
            for lng_col in lngs:
                for lat, lng in zip(columns[lat_col], columns[lng_col]):
                    self.point(f"{where}[{lat_col},{lng_col}]", lat, lng)
        for name in names:
            for value in columns[name]:
                if isinstance(value, str):
                    self.text(f"{where}[{name}]", value)

    def file(self, path: Path, rel: str) -> None:
        import pyarrow.ipc
        import pyarrow.parquet

        if path.suffix == ".parquet":
            self.table(rel, pyarrow.parquet.read_table(path))
        elif path.suffix == ".arrow":
            data = path.read_bytes()
            try:
                self.table(rel, pyarrow.ipc.open_stream(data).read_all())
            except pyarrow.ArrowInvalid:
                self.table(rel, pyarrow.ipc.open_file(data).read_all())
        elif path.suffix in (".json", ".geojson"):
            self.json(rel, json.loads(path.read_text()))
        elif path.suffix == ".html":
            self.text(rel, path.read_text(errors="replace"))


def scan_site(site_dir: Path, zones: list, secrets: list) -> PrivacyScan:
    scan = PrivacyScan(zones, secrets)
    for path in sorted(site_dir.rglob("*")):
        rel = str(path.relative_to(site_dir))
        if path.is_file() and not rel.startswith("_app/") and path.suffix != ".gz":
            scan.file(path, rel)
            scan.files.append(rel)
    return scan


def _haversine_sql(lat: str, lng: str, zlat: float, zlng: float) -> str:
    return (
        f"2 * 6371008.8 * asin(sqrt(pow(sin(radians({lat} - {zlat}) / 2), 2) + cos(radians({zlat})) "
        f"* cos(radians({lat})) * pow(sin(radians({lng} - {zlng}) / 2), 2)))"
    )


def _raw_secrets(site: Site) -> list:
    """Every raw polyline and start/end position string of the warehouse: none may appear in the site."""
    columns = site.sql("""select table_name, column_name from information_schema.columns
                          where table_schema = 'strava' and data_type = 'VARCHAR'
                            and (column_name like '%polyline%' or column_name like '%latlng%')""")
    secrets = []
    for table, column in columns:
        secrets += [
            v
            for (v,) in site.sql(
                f'select distinct "{column}" from strava.strava."{table}" where length("{column}") >= 12'
            )
        ]
    return secrets


@pytest.mark.slow
def test_built_site_has_no_coordinate_inside_a_privacy_zone_and_no_raw_polyline(built_site):
    site = built_site
    zones = _zones()
    secrets = _raw_secrets(site)
    # the test means something: the raw tracks do pass through the zones, and the raw polylines exist
    near = " or ".join(f"{_haversine_sql('lat', 'lng', la, lo)} < {r}" for la, lo, r in zones)
    raw_inside = site.sql(f"select count(*) from strava.strava.activity_streams where lat is not null and ({near})")[0][
        0
    ]
    assert raw_inside > 0, "the demo tracks never enter a privacy zone: the scan would prove nothing"
    assert secrets, "no raw polyline in the warehouse: the scan would prove nothing"
    scan = scan_site(site.site, zones, secrets)
    assert scan.coordinates > 1000, f"only {scan.coordinates} coordinates found: routes missing from the site?"
    # the per-activity data files (streams, laps) are read too
    read = {rel.split("/")[0] for rel in scan.files}
    assert {reports.ACTIVITY_DATA_SUBDIR, reports.ROUTES_SUBDIR} <= read, read
    assert not scan.findings, "\n".join(scan.findings[:20])


# ------------------------------------------------------------------------------ fast: no Node, no browser needed


def test_scan_finds_a_point_inside_a_zone_and_a_polyline(tmp_path):
    zones = [(46.0569, 14.5058, 400)]
    (tmp_path / "routes").mkdir()
    (tmp_path / "routes" / "1.geojson").write_text(
        json.dumps(
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[14.5060, 46.0570], [14.6, 46.2]]}}
        )
    )
    (tmp_path / "ok.json").write_text(json.dumps({"coordinates": [[14.6, 46.2]]}))
    (tmp_path / "page.html").write_text("<p>start 46.05695, 14.50581</p> and _p~iF~ps|U_ulLnnqC_mqNvxq`@")
    scan = scan_site(tmp_path, zones, ["_p~iF~ps|U_ulLnnqC_mqNvxq`@"])
    assert any("routes/1.geojson" in f for f in scan.findings)
    assert any("page.html" in f and "inside" in f for f in scan.findings)
    assert any("polyline" in f for f in scan.findings)
    assert not any(f.startswith("ok.json") for f in scan.findings)


def _cli(*args: str):
    out, err = io.StringIO(), io.StringIO()
    rc = main(list(args), out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def test_build_without_warehouse_says_what_to_do(tmp_path):
    rc, _, err = _cli("--data-dir", str(tmp_path), "reports", "build")
    assert rc == 2
    assert err.startswith("error: No warehouse at") and "uv run strava.py" in err and err.count("\n") == 1


def test_build_before_dbt_says_run_dbt_build_first(tmp_path):
    with duckdb.connect(str(tmp_path / "strava.duckdb")) as con:
        con.execute("create schema staging; create table staging.stg_strava__activities (id bigint)")
    rc, _, err = _cli("--data-dir", str(tmp_path), "reports", "build")
    assert rc == 2
    assert "marts are not built yet" in err and "dbt build" in err and err.count("\n") == 1


def _marts_without_columns(path: Path, activities: int) -> None:
    with duckdb.connect(str(path)) as con:
        needed = [*reports.SNAPSHOT_TABLES.values(), reports.STREAMS_RELATION, reports.ROUTES_RELATION]
        for schema, name in needed:
            con.execute(f"create schema if not exists {schema}")
            con.execute(f"create table {schema}.{name} (activity_id bigint)")
        con.execute(f"insert into marts.fct_activities select range from range({activities})")


def test_build_without_activities_says_import_first(tmp_path):
    _marts_without_columns(tmp_path / "strava.duckdb", 0)
    rc, _, err = _cli("--data-dir", str(tmp_path), "reports", "build")
    assert rc == 2 and "no activities" in err and err.count("\n") == 1


def test_build_without_node_says_install_node(tmp_path, monkeypatch):
    _marts_without_columns(tmp_path / "strava.duckdb", 1)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    rc, _, err = _cli("--data-dir", str(tmp_path), "reports", "build")
    assert rc == 2
    assert "Node.js" in err and "not on PATH" in err and err.count("\n") == 1


def test_serve_without_a_built_site_says_build_first(tmp_path):
    rc, _, err = _cli("--data-dir", str(tmp_path), "reports", "serve", "--port", "0")
    assert rc == 2
    assert err.startswith("error: No built site in") and "`uv run strava.py" in err and err.count("\n") == 1


def test_tile_url_must_be_a_url(tmp_path):
    (tmp_path / "strava.duckdb").touch()
    rc, _, err = _cli("--data-dir", str(tmp_path), "reports", "build", "--tile-url", "tiles")
    assert rc == 2 and "must start with http" in err


def test_server_serves_gzip_to_browsers_that_accept_it_and_follows_a_rebuilt_site(tmp_path):
    site = tmp_path / "site"
    (site / "weekly").mkdir(parents=True)
    (site / "index.html").write_text("<h1>old</h1>")
    (site / "weekly" / "index.html").write_text("<h1>weekly</h1>" + "x" * 5000)
    reports.precompress(site)
    assert (site / "weekly" / "index.html.gz").is_file() and not (site / "index.html.gz").exists()
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "routes.html").write_text("<h1>maps</h1>")
    server = reports.make_server(site, 0, mounts={"/maps/": tmp_path / "maps"})
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        assert server.server_address[0] == "127.0.0.1"
        request = urllib.request.Request(base + "/weekly/", headers={"Accept-Encoding": "gzip"})
        with urllib.request.urlopen(request) as answer:
            assert answer.headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(answer.read()).startswith(b"<h1>weekly</h1>")
        with urllib.request.urlopen(base + "/weekly/") as answer:  # no Accept-Encoding: plain
            assert answer.headers["Content-Encoding"] is None and answer.read().startswith(b"<h1>weekly</h1>")
        with urllib.request.urlopen(base + "/maps/routes.html") as answer:  # a folder mounted beside the site
            assert answer.read() == b"<h1>maps</h1>"
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(base + "/maps/../../etc/passwd")
        # a rebuild swaps the folder: the running server serves the new one (--directory semantics)
        site.rename(tmp_path / "old")
        site.mkdir()
        (site / "index.html").write_text("<h1>new</h1>")
        with urllib.request.urlopen(base + "/") as answer:
            assert answer.read() == b"<h1>new</h1>"
    finally:
        server.shutdown()
        server.server_close()


def test_private_columns_never_reach_the_snapshot():
    for name, kind in [
        ("summary_polyline", "VARCHAR"),
        ("map__summary_polyline", "VARCHAR"),
        ("start_latlng", "VARCHAR"),
        ("lat", "DOUBLE"),
        ("lng", "DOUBLE"),
        ("start_lat_masked", "DOUBLE"),
        ("end_lng_masked", "DOUBLE"),
        ("route_geom", "GEOMETRY"),
        ("route_wkt", "VARCHAR"),
        ("route_geojson", "VARCHAR"),
        ("min_lat", "DOUBLE"),
    ]:
        assert reports._is_private_column(name, kind), name
    for name in ("distance_km", "activity_name", "elevation_gain_m", "heartrate_bpm", "latest_week"):
        assert not reports._is_private_column(name, "DOUBLE"), name


def _snapshot(path: Path, distance_km: float = 10.0) -> None:
    """A tiny snapshot as export_snapshot writes it: activities, streams (no positions), laps, snapshot_info."""
    with duckdb.connect(str(path)) as con:
        con.execute(f"""
            create table activities as select 7 as activity_id, 'Morning run' as activity_name, 'Run' as sport_type,
                timestamp '2025-06-01 07:05:00' as start_at_local, {distance_km} as distance_km,
                3725 as moving_time_s, 5.5 as pace_min_per_km, true as has_published_route;
            create table streams as select 7::bigint as activity_id, range::integer as point_index,
                range / 10.0 as distance_km, 300.0 + range as altitude_m, 10.9 as speed_kmh,
                5.5 as pace_min_per_km, 150.0 as heartrate_bpm, null::double as power_w from range(5);
            create table laps as select 7::bigint as activity_id, range + 1 as lap_index, 1.0 as distance_km,
                330 as moving_time_s, 5.5 as pace_min_per_km from range(2);
            create table snapshot_info as select now()::timestamp as snapshot_at_utc
        """)


def test_activity_data_files_hold_the_activity_its_stream_and_laps(tmp_path):
    _snapshot(tmp_path / "snapshot.duckdb")
    assert reports.write_activity_files(tmp_path / "snapshot.duckdb", tmp_path / "data") == 1
    document = json.loads((tmp_path / "data" / "7.json").read_text())
    assert document["activity"]["activity_name"] == "Morning run"
    assert document["activity"]["start_label"] == "Sunday 1 June 2025, 07:05"
    assert document["stream"]["distance_km"] == [0.0, 0.1, 0.2, 0.3, 0.4]
    assert document["stream"]["pace_s_per_km"] == [330.0] * 5
    assert document["stream"]["power_w"] == [None] * 5
    assert [lap["lap_index"] for lap in document["laps"]] == [1, 2]
    assert not any("lat" in key or "lng" in key for key in document["stream"])


def test_fingerprint_follows_the_marts_the_dbt_results_and_the_pages(tmp_path, monkeypatch):
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    (tmp_path / "target").mkdir()
    warehouse = tmp_path / "strava.duckdb"
    _marts_without_columns(warehouse, 3)
    project = tmp_path / "reports"
    (project / "pages").mkdir(parents=True)
    (project / "pages" / "index.md").write_text("# Overview")
    (project / "package-lock.json").write_text("{}")
    node = reports.Node("node", "npm", "v20.0.0")

    def fingerprint(tile_url=None) -> str:
        return reports.site_fingerprint(warehouse, project, node, tile_url)

    first = fingerprint()
    assert fingerprint() == first
    with duckdb.connect(str(warehouse)) as con:  # the same rows in another order: the same site
        con.execute(
            "create or replace table marts.fct_activities as select * from marts.fct_activities order by 1 desc"
        )
    assert fingerprint() == first
    changes = [
        "update marts.fct_activities set activity_id = 10 where activity_id = 2",
        "insert into marts.activity_streams_masked values (1)",
        "insert into marts.activity_routes_masked values (1)",
        "alter table marts.weekly_summary add column distance_km double",
    ]
    seen = {first}
    for change in changes:
        with duckdb.connect(str(warehouse)) as con:
            con.execute(change)
        seen.add(fingerprint())
        assert len(seen) == len(changes[: changes.index(change) + 1]) + 1, change
    latest = fingerprint()
    (tmp_path / "target" / "run_results.json").write_text("{}")  # dbt ran again: its results are on a page
    assert fingerprint() != latest
    latest = fingerprint()
    (project / "pages" / "index.md").write_text("# Overview!")
    assert fingerprint() != latest
    latest = fingerprint()
    (project / "package-lock.json").write_text('{"lockfileVersion": 3}')
    assert fingerprint() != latest
    assert fingerprint("/tiles/{z}/{x}/{y}.png") != fingerprint()


def test_server_sends_old_activity_urls_to_the_activity_page(tmp_path):
    (tmp_path / "index.html").write_text("<h1>site</h1>")
    server = reports.make_server(tmp_path, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
        connection.request("GET", "/activities/12345/")
        answer = connection.getresponse()
        assert answer.status == 301 and answer.getheader("Location") == "/activity/?id=12345"
        connection.close()
    finally:
        server.shutdown()
        server.server_close()
