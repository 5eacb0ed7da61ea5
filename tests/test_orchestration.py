"""Dagster orchestration: the definitions load; demo runs in-process (whole graph, then incremental); a backfill keeps
the cursor; a daily-limit stop is resumed the next day; the real UI runs a run launched over GraphQL (end to end)."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

from strava_pipeline.clock import SystemClock
from strava_pipeline.config import PROJECT_ROOT, UserError

OUTPUT = Path(__file__).resolve().parent / "output" / "orchestration"
STAGING_ACTIVITIES = dg.AssetKey(["staging", "stg_strava__activities"])


@pytest.fixture(scope="module")
def defs():
    from orchestration.definitions import defs

    return defs


def this_month() -> str:
    return datetime.now(UTC).strftime("%Y-%m-01")


def activities_meta(result: dg.ExecuteInProcessResult) -> dict:
    from orchestration.defs.ingest import ACTIVITIES_KEY

    [mat] = [m for m in result.asset_materializations_for_node("strava_import") if m.asset_key == ACTIVITIES_KEY]
    return {k: v.value for k, v in mat.metadata.items()}


def check_results(result: dg.ExecuteInProcessResult) -> dict:
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return {(c.asset_check_key.asset_key.to_user_string(), c.asset_check_key.name): c for c in evaluations}


def cursor(data_dir: Path) -> str:
    """The activities' incremental cursor in the dlt pipeline state."""
    state = json.loads((data_dir / "pipelines" / "strava_datastack" / "state.json").read_text())
    return state["sources"]["strava"]["resources"]["activities"]["incremental"]["start_date"]["last_value"]


# ----------------------------------------------------------------------------------------------------- load


def test_definitions_load(defs):
    from orchestration.defs.ingest import ACTIVITIES_KEY, MONTHLY, RAW_KEYS
    from strava_pipeline.source import strava

    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    # every resource of the dlt source is a monthly-partitioned raw asset named after its table
    assert {k.path[-1] for k in RAW_KEYS} == set(strava().resources)
    assert all(graph.get(k).partitions_def == MONTHLY for k in RAW_KEYS)
    # dbt sources land on them (lineage Strava -> raw -> staging -> marts -> reports)
    assert graph.get(STAGING_ACTIVITIES).parent_keys == {ACTIVITIES_KEY}
    assert dg.AssetKey("strava_api") in graph.get(ACTIVITIES_KEY).parent_keys
    site = graph.get(dg.AssetKey(["reports", "site"]))
    assert dg.AssetKey(["marts", "fct_activities"]) in site.parent_keys
    # dbt tests are checks (the privacy test over several models too), beside freshness and the request budget
    checks = {(c.asset_key.to_user_string(), c.name) for c in graph.asset_check_keys}
    assert {
        ("strava/activities", "freshness"),
        ("strava/activities", "request_budget"),
        ("marts/activity_routes_masked", "assert_no_point_inside_privacy_zone"),
        ("staging/stg_strava__activities", "unique_stg_strava__activities_activity_id"),
    } <= checks
    # one writer: every op that writes or snapshots the warehouse is in the pool
    pools = {a.node_def.name: a.node_def.pool for a in defs.assets if isinstance(a, dg.AssetsDefinition)}
    assert {pools[name] for name in ("strava_import", "strava_dbt", "strava_archive__inbox")} == {"strava_warehouse"}
    assert defs.resolve_schedule_def("strava_every_6_hours").cron_schedule == "0 */6 * * *"
    assert defs.resolve_sensor_def("strava_resume_after_daily_limit").job_name == "strava_refresh"


def test_first_month_setting(monkeypatch):
    from orchestration.defs.ingest import DEFAULT_FIRST_MONTH, first_month

    monkeypatch.delenv("STRAVA_DEMO", raising=False)
    monkeypatch.delenv("STRAVA_FIRST_MONTH", raising=False)
    assert first_month() == DEFAULT_FIRST_MONTH + "-01"
    monkeypatch.setenv("STRAVA_FIRST_MONTH", "2015-03")
    assert first_month() == "2015-03-01"
    monkeypatch.setenv("STRAVA_FIRST_MONTH", "2015-3-1x")
    with pytest.raises(UserError, match="YYYY-MM"):
        first_month()


def test_launcher_prepares_home_and_refuses_a_busy_port(tmp_path):
    from orchestration.launcher import check_port, dev_command, dev_environment, prepare_home

    home = prepare_home(tmp_path / "data")
    assert home == tmp_path / "data" / "dagster" and "enabled: false" in (home / "dagster.yaml").read_text()
    env = dev_environment(home, demo=True, data_dir_arg=str(tmp_path / "data"))
    assert env["DAGSTER_HOME"] == str(home) and env["STRAVA_DEMO"] == "1"
    assert env["DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS"] == "true"  # one planned event per table and run
    # dg dev, as Dagster recommends (dagster dev warns it is superseded), and no welcome dialog to dismiss
    assert Path(dev_command(3000)[0]).name == "dg" and dev_command(3000)[1:2] == ["dev"]
    assert dev_command(3000)[-4:] == ["--host", "127.0.0.1", "--port", "3000"]
    assert "nux:\n  enabled: false" in (home / "dagster.yaml").read_text()
    old_home = tmp_path / "old" / "dagster"  # made before the setting existed: it is added
    old_home.mkdir(parents=True)
    (old_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    prepare_home(tmp_path / "old")
    assert "nux:\n  enabled: false" in (old_home / "dagster.yaml").read_text()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(UserError, match="in use"):
            check_port(taken.getsockname()[1])


# ------------------------------------------------------------------------------------------------ in-process


@pytest.mark.slow
def test_demo_refresh_then_incremental_then_backfill(defs, tmp_path, monkeypatch):
    from orchestration.defs.ingest import IMPORT_TAG, RAW_KEYS, WINDOW

    monkeypatch.setenv("STRAVA_DEMO", "1")
    monkeypatch.setenv("STRAVA_DATA_DIR", str(tmp_path / "data"))
    data_dir = tmp_path / "data" / "demo"
    job = defs.resolve_job_def("strava_refresh")
    instance = dg.DagsterInstance.ephemeral()
    # all but the Evidence build (about a minute; its own end-to-end test is in the reports suite) and the
    # archive inbox (its own test below)
    everything_but_reports = [
        k for k in defs.resolve_job_def("strava_refresh").asset_layer.selected_asset_keys if k.path[0] != "reports"
    ]

    first = job.execute_in_process(
        instance=instance, partition_key=this_month(), asset_selection=everything_but_reports
    )
    assert first.success
    meta = activities_meta(first)
    assert meta["import"] == "incremental" and meta["new_activities"] > 0 and meta["remaining_items"] == 0
    checks = check_results(first)
    # warnings depend on the day (a week without an activity, an unusual week): only errors fail the test
    errors = [
        (k, c.description) for k, c in checks.items() if not c.passed and c.severity != dg.AssetCheckSeverity.WARN
    ]
    assert len(checks) >= 90 and errors == []
    freshness = checks[("strava/activities", "freshness")]
    assert freshness.metadata["last_load_age_hours"].value < 1
    assert first.asset_materializations_for_node("strava_dbt")
    routes = {
        m.asset_key.to_user_string(): {k: v.value for k, v in m.metadata.items()}
        for node in ("exports__routes", "tiles__heatmap", "maps__route_map")
        for m in first.asset_materializations_for_node(node)
    }
    assert routes["exports/routes"]["routes"] > 0 and routes["tiles/heatmap"]["tiles"] > 0
    assert (data_dir / "maps" / "index.html").exists() and (data_dir / "exports" / "routes.topojson").exists()
    cursor_after_first = cursor(data_dir)

    second = job.execute_in_process(instance=instance, partition_key=this_month(), asset_selection=RAW_KEYS)
    assert second.success
    again = activities_meta(second)
    assert again["new_activities"] == 0 and again["requests"] < meta["requests"]
    assert again["requests"] == 1  # one activity page says nothing is new

    # a month of 2024 from the asset graph: a --start-date/--end-date window that leaves the cursor alone
    backfill = job.execute_in_process(
        instance=instance, partition_key="2024-03-01", asset_selection=RAW_KEYS, tags={IMPORT_TAG: WINDOW}
    )
    assert backfill.success
    window = activities_meta(backfill)
    assert window["import"] == "2024-03-01 .. 2024-03-31" and window["new_activities"] > 0
    assert window["dagster/row_count"] == meta["dagster/row_count"] + window["new_activities"]
    assert cursor(data_dir) == cursor_after_first


@pytest.mark.slow
def test_daily_limit_stop_is_resumed_after_midnight(defs, tmp_path, monkeypatch):
    from orchestration.defs import automation
    from orchestration.defs.ingest import IMPORT_TAG, RAW_KEYS, WINDOW
    from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits

    athlete = AthleteSpec(seed=3, first_day=date(2025, 6, 1), activities_per_week=4.0, stream_scale=0.05)
    limits = RateLimits(overall_15min=200, overall_daily=40, read_15min=100, read_daily=20)
    with FakeStrava(athlete=athlete, clock=SystemClock(), limits=limits) as fake:
        monkeypatch.delenv("STRAVA_DEMO", raising=False)
        monkeypatch.setenv("STRAVA_DATA_DIR", str(tmp_path / "data"))
        monkeypatch.setenv("SOURCES__STRAVA__BASE_URL", fake.base_url)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL", fake.token_url)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_ID", fake.client_id)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET", fake.client_secret)
        monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN", fake.issue_refresh_token())
        instance = dg.DagsterInstance.ephemeral()
        result = defs.resolve_job_def("strava_refresh").execute_in_process(
            instance=instance, partition_key="2025-06-01", asset_selection=RAW_KEYS, tags={IMPORT_TAG: WINDOW}
        )
    # the run succeeds with what it could fetch, and says so
    assert result.success
    meta = activities_meta(result)
    assert meta["stopped_at_daily_limit"] is True and meta["remaining_items"] > 0
    assert meta["resume_after_ts"] > time.time()
    checks = check_results(result)
    budget = checks[("strava/activities", "request_budget")]
    assert not budget.passed and budget.severity == dg.AssetCheckSeverity.WARN

    sensor = defs.resolve_sensor_def("strava_resume_after_daily_limit")
    before = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, definitions=defs))
    assert not before.run_requests and "wait for the daily limit" in before.skip_message
    monkeypatch.setattr(automation, "_now", lambda: meta["resume_after_ts"] + 60)
    after = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=before.cursor, definitions=defs))
    [request] = after.run_requests
    assert request.partition_key == "2025-06-01" and request.tags[IMPORT_TAG] == WINDOW
    # asked once: the next tick has nothing left to resume
    later = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=after.cursor, definitions=defs))
    assert not later.run_requests


def test_archive_dropped_into_inbox_is_imported(defs, tmp_path, monkeypatch):
    from orchestration.defs import archive
    from orchestration.defs.archive import INBOX_KEY
    from orchestration.resources import StravaEnv
    from strava_pipeline.archive import importer

    # the sensor looks at the importer's folders without loading the file parsers
    assert (archive.INBOX_SUBDIR, archive.INBOX_DONE, archive.INBOX_FAILED) == (
        importer.INBOX_SUBDIR,
        importer.INBOX_DONE,
        importer.INBOX_FAILED,
    )

    sample = (
        Path(os.environ.get("STRAVA_REFERENCE_DIR") or PROJECT_ROOT.parent / "shared" / "strava-reference")
        / "files"
        / "sample_export.zip"
    )
    if not sample.exists():
        pytest.skip(f"{sample} is missing (set STRAVA_REFERENCE_DIR)")
    monkeypatch.delenv("STRAVA_DEMO", raising=False)
    monkeypatch.setenv("STRAVA_DATA_DIR", str(tmp_path / "data"))
    inbox = tmp_path / "data" / "inbox"
    inbox.mkdir(parents=True)
    dropped = inbox / "export_12345.zip"
    dropped.write_bytes(sample.read_bytes())
    os.utime(dropped, (time.time() - 3600, time.time() - 3600))  # copied an hour ago, not still being written
    instance = dg.DagsterInstance.ephemeral()
    sensor = defs.resolve_sensor_def("strava_archive_inbox")
    tick = lambda: sensor.evaluate_tick(
        dg.build_sensor_context(  # noqa: E731
            instance=instance, definitions=defs, resources={"strava": StravaEnv()}
        )
    )
    [request] = tick().run_requests
    result = defs.resolve_job_def("strava_archive_import").execute_in_process(
        instance=instance, asset_selection=[INBOX_KEY], tags=request.tags
    )
    assert result.success
    [mat] = result.asset_materializations_for_node("strava_archive__inbox")
    assert mat.metadata["archives_imported"].value == 1 and mat.metadata["activities_written"].value > 0
    assert (inbox / "done" / dropped.name).exists() and not dropped.exists()
    assert not tick().run_requests


class LockHolder:
    """Another process holding the warehouse lock (the lock is re-entrant within a process and its children)."""

    def __init__(self, data_dir: Path, holder: str) -> None:
        code = (
            "import sys, time; from pathlib import Path; from strava_pipeline.lock import warehouse_lock\n"
            "with warehouse_lock(Path(sys.argv[1]), holder=sys.argv[2]):\n"
            "    print('held', flush=True); time.sleep(600)"
        )
        env = {k: v for k, v in os.environ.items() if k != "STRAVA_WAREHOUSE_LOCK_HELD"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code, str(data_dir), holder],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout.readline().strip() == "held"

    def __enter__(self) -> "LockHolder":
        return self

    def __exit__(self, *exc) -> None:
        self.proc.kill()
        self.proc.wait()


def test_one_writer_between_dagster_and_the_cli(tmp_path):
    import io
    import logging

    from orchestration.resources import StravaEnv
    from strava_pipeline.cli import main

    data_dir = tmp_path / "data"
    # a CLI run while a Dagster run writes says who holds the warehouse, and exits 2
    with LockHolder(data_dir / "demo", "dagster run 1234abcd (dbt build)"):
        out, err = io.StringIO(), io.StringIO()
        assert main(["--data-dir", str(data_dir), "--demo"], out=out, err=err) == 2
    assert "busy: dagster run 1234abcd (dbt build)" in err.getvalue()
    # a Dagster step while a CLI import writes waits (here: briefly), then fails saying who holds it
    impatient = StravaEnv(data_dir=str(data_dir), demo=False, lock_wait_s=1.0)
    with LockHolder(data_dir, "strava.py"):
        with pytest.raises(dg.Failure, match="busy: strava.py"):
            with impatient.writer_lock(logging.getLogger("test"), data_dir, holder="dagster run x"):
                pass


def test_resume_requests_group_consecutive_months():
    from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

    from orchestration.defs.automation import resume_requests
    from orchestration.defs.ingest import IMPORT_TAG, INCREMENTAL, MONTHLY, RAW_KEYS

    first = MONTHLY.get_first_partition_key()
    keys = MONTHLY.get_partition_keys()[:5]
    due = {
        keys[0]: {"mode": "window", "resume_at": 1.0},
        keys[1]: {"mode": "window", "resume_at": 1.0},
        keys[3]: {"mode": "window", "resume_at": 1.0},
        this_month(): {"mode": INCREMENTAL, "resume_at": 2.0},
    }
    requests = resume_requests(due, now=3.0)
    assert keys[0] == first and len(requests) == 3
    incremental, pair, single = requests
    assert incremental.tags[IMPORT_TAG] == INCREMENTAL and incremental.partition_key == this_month()
    assert (pair.tags[ASSET_PARTITION_RANGE_START_TAG], pair.tags[ASSET_PARTITION_RANGE_END_TAG]) == (keys[0], keys[1])
    assert single.partition_key == keys[3]
    assert set(pair.asset_selection) == set(RAW_KEYS) and incremental.asset_selection is None


# ------------------------------------------------------------------------------------------------ end to end


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Graphql:
    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}/graphql"

    def __call__(self, query: str, **variables) -> dict:
        body = json.dumps({"query": query, "variables": variables}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            reply = json.loads(response.read())
        assert "errors" not in reply, reply
        return reply["data"]


def group_alive(pgid: int) -> list:
    out = subprocess.run(["ps", "-eo", "pid=,pgid=,args="], capture_output=True, text=True).stdout
    return [line.strip() for line in out.splitlines() if line.split()[1:2] == [str(pgid)]]


def stop_group(proc: subprocess.Popen, timeout: float = 90) -> list:
    """SIGINT to the UI's process group (what Ctrl-C does); returns what is left after the timeout (then killed)."""
    try:
        os.killpg(proc.pid, signal.SIGINT)
    except ProcessLookupError:
        return []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc.poll()
        if not group_alive(proc.pid):
            return []
        time.sleep(0.5)
    left = group_alive(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    return left


def screenshot(url: str, path: Path, profile: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            "--window-size=1600,1000",
            "--hide-scrollbars",
            "--virtual-time-budget=30000",
            f"--screenshot={path}",
            url,
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )


LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message }
  ... on InvalidSubsetError { message } ... on RunConfigValidationInvalid { errors { message } } } }"""
RUN = "query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"
LOCATIONS = """{ workspaceOrError { ... on Workspace { locationEntries {
  name loadStatus locationOrLoadError { __typename ... on PythonError { message } } } } } }"""
ASSET = """query($key: AssetKeyInput!) { assetOrError(assetKey: $key) { ... on Asset {
  assetMaterializations(limit: 1) { partition runId } } } }"""


# a stuck server must not hang the suite; these are limits for liveness, not speed (nothing asserts a duration)
UI_UP_TIMEOUT_S = 900
RUN_TIMEOUT_S = 1800
CHROMIUM = any(Path(p, "chromium").exists() for p in os.environ.get("PATH", "").split(os.pathsep))


@pytest.mark.slow
def test_ui_end_to_end(tmp_path):
    """The UI and GraphQL need no browser; only the screenshots do (taken when chromium is installed)."""
    from orchestration.defs.ingest import RAW_KEYS

    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRAVA_", "DAGSTER_"))}
    log_path = OUTPUT / "dagster_dev.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "w") as log:
        # the launcher of `strava.py ui`, in its own process group like a terminal session
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "orchestration",
                "--demo",
                "--data-dir",
                str(tmp_path / "data"),
                "--port",
                str(port),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    gql = Graphql(port)
    left = None
    try:
        location = None
        while location is None:
            assert proc.poll() is None, f"dagster dev exited; see {log_path}"
            if time.monotonic() - started > UI_UP_TIMEOUT_S:
                pytest.fail(f"the UI did not come up within {UI_UP_TIMEOUT_S} s; see {log_path}")
            try:
                entries = gql(LOCATIONS)["workspaceOrError"]["locationEntries"]
                loaded = [e for e in entries if e["loadStatus"] == "LOADED"]
                assert all(e["locationOrLoadError"]["__typename"] != "PythonError" for e in loaded), entries
                location = loaded[0]["name"] if loaded else None
            except (OSError, KeyError):
                pass
            time.sleep(1)
        up_s = time.monotonic() - started

        params = {
            "selector": {
                "repositoryLocationName": location,
                "repositoryName": "__repository__",
                "jobName": "strava_refresh",
                "assetSelection": [{"path": k.path} for k in RAW_KEYS],
            },
            "executionMetadata": {"tags": [{"key": "dagster/partition", "value": this_month()}]},
        }
        launched = gql(LAUNCH, params=params)["launchRun"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        run_id = launched["run"]["runId"]
        status = None
        while status not in ("SUCCESS", "FAILURE", "CANCELED"):
            if time.monotonic() - started > RUN_TIMEOUT_S:
                pytest.fail(f"run {run_id} did not finish within {RUN_TIMEOUT_S} s; see {log_path}")
            time.sleep(2)
            status = gql(RUN, id=run_id)["runOrError"]["status"]
        assert status == "SUCCESS", f"run {run_id} ended {status}; see {log_path}"
        asset = gql(ASSET, key={"path": ["strava", "activities"]})["assetOrError"]
        assert asset["assetMaterializations"][0] == {"partition": this_month(), "runId": run_id}

        # no welcome dialog to dismiss over the graph, and no warning that the start command is superseded
        assert gql("{ shouldShowNux }")["shouldShowNux"] is False
        assert "SupersessionWarning" not in log_path.read_text()
        base = f"http://127.0.0.1:{port}"
        with urllib.request.urlopen(f"{base}/asset-groups", timeout=60) as page:  # the UI's page itself
            assert page.status == 200 and b"<html" in page.read(4096).lower()
        if CHROMIUM:
            screenshot(f"{base}/asset-groups", OUTPUT / "asset_graph.png", tmp_path / "chromium")
            screenshot(
                f"{base}/locations/{urllib.parse.quote(location)}/asset-groups/raw/lineage",
                OUTPUT / "asset_graph_raw.png",
                tmp_path / "chromium",
            )
            for name in ("asset_graph.png", "asset_graph_raw.png"):
                assert (OUTPUT / name).stat().st_size > 20_000
    finally:
        left = stop_group(proc)
    assert left == [], f"left running after SIGINT: {left}"
    # nothing of this instance anywhere (a run worker that escaped the group would still name its data dir)
    stray = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert stray == []
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0, "the webserver still listens"
    # the instance lived in the data dir, with telemetry off (Dagster logs its telemetry events only when on)
    home = tmp_path / "data" / "demo" / "dagster"
    assert (home / "history" / "runs.db").exists() and "enabled: false" in (home / "dagster.yaml").read_text()
    assert not (home / "logs" / "event.log").exists()
    print(f"UI up in {up_s:.0f} s; whole test {time.monotonic() - started:.0f} s; screenshots: {CHROMIUM}")


def test_schedule_skips_until_strava_is_set_up(defs, tmp_path, monkeypatch):
    from orchestration.resources import StravaEnv

    for key in (
        "STRAVA_DEMO",
        "SOURCES__STRAVA__CREDENTIALS__CLIENT_ID",
        "SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET",
        "SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN",
    ):
        monkeypatch.delenv(key, raising=False)
    schedule = defs.resolve_schedule_def("strava_every_6_hours")

    def tick(**env):
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        context = dg.build_schedule_context(
            resources={"strava": StravaEnv(data_dir=str(tmp_path))},
            repository_def=defs.get_repository_def(),
            scheduled_execution_time=datetime(2026, 11, 20, 6, tzinfo=UTC),
        )
        return schedule.evaluate_tick(context)

    if not (PROJECT_ROOT / ".dlt" / "secrets.toml").exists():  # a developer's own credentials would be found
        skipped = tick()
        assert not skipped.run_requests and "Missing Strava setting" in skipped.skip_message
        unauthorized = tick(
            SOURCES__STRAVA__CREDENTIALS__CLIENT_ID="1", SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET="s"
        )
        assert not unauthorized.run_requests
        assert f"`uv run strava.py --data-dir {tmp_path} auth`" in unauthorized.skip_message
    ready = tick(SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN="r")
    [request] = ready.run_requests
    assert request.partition_key == "2026-11-01" and request.tags["strava/import"] == "incremental"
