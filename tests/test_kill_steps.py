"""`kill -9` in the steps after an import: during `strava.py dbt build` and while a reports build publishes its site.

dbt: the demo athlete's warehouse (four weeks, built once), `strava.py --demo dbt build` in a child process killed
at random moments of the build (seeded). After each kill the dbt process is gone too (it dies with its parent instead
of writing on as an orphan), the raw tables are unchanged, every mart of the previous build is still there and
readable, and the next run completes with the marts of an uninterrupted build.

Reports: `reports._publish` (what a build does once Evidence has written the pages: move the build beside the site,
add the route and activity files, precompress, swap) in a child process killed at random moments while a server
serves the site and a client reads it without pause. Every answer is 200 and a whole page of one build, after each
kill the site is served and all of one build, and the next publish completes. (The Evidence steps before it only
write in reports/, never in the served site.)
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from strava_pipeline import reports, site_swap
from strava_pipeline.cli import main as strava_main
from strava_pipeline.clock import FakeClock
from tests.support.killrun import snapshot

ROOT = Path(__file__).resolve().parents[1]
KILLS = 2
SEED = 16


def children(pid: int) -> list[int]:
    """The child processes of pid (Linux)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.extend(int(t) for t in text)
    return found


def group_members(pgid: int) -> list[int]:
    """The live processes of process group pgid (Linux): a child strava.py started between two polls of children()
    is one of them too."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def marts(warehouse: Path) -> dict:
    """Every table and view of the dbt schemas with its row count and a content hash."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        relations = con.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'intermediate', 'staging') order by 1, 2"
        ).fetchall()
        out = {}
        for schema, name in relations:
            out[f"{schema}.{name}"] = con.execute(
                f'select count(*), sum(hash(columns(*))) from (select * from "{schema}"."{name}")'
            ).fetchone()
        return out


def dbt_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_") and k != "STRAVA_WAREHOUSE_LOCK_HELD"}
    return {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}


def dbt_build(base: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "strava.py", "--demo", "--data-dir", str(base), "dbt", "build"],
        cwd=ROOT,
        env=dbt_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: every process it starts can be found after the kill
    )


@pytest.fixture(scope="module")
def raw_demo(tmp_path_factory) -> Path:
    """Four weeks of the demo athlete, imported (no dbt yet): the base folder whose demo/ is the data dir."""
    base = tmp_path_factory.mktemp("kill_dbt")
    now = time.time()
    start = (datetime.fromtimestamp(now, UTC).date() - timedelta(days=28)).isoformat()
    assert (
        strava_main(["--demo", "--data-dir", str(base), "--start-date", start, "--import-only"], clock=FakeClock(now))
        == 0
    )
    return base


@pytest.mark.slow
def test_a_kill_during_dbt_build_leaves_the_warehouse_usable_and_the_next_run_completes(raw_demo, tmp_path):
    reference = tmp_path / "reference"
    shutil.copytree(raw_demo, reference)
    started = time.monotonic()
    proc = dbt_build(reference)
    out, _ = proc.communicate(timeout=900)
    duration = time.monotonic() - started
    assert proc.returncode == 0, out[-3000:]
    expected = marts(reference / "demo" / "strava.duckdb")
    assert "marts.fct_activities" in expected

    # a data dir with the previous build's marts (the reference's) and a site built from them
    base = tmp_path / "killed"
    shutil.copytree(reference, base)
    warehouse = base / "demo" / "strava.duckdb"
    site = reports.site_dir(base / "demo")
    site.mkdir(parents=True)
    (site / "index.html").write_text("<h1>previous site</h1>")
    raw = snapshot(base / "demo")

    rng = random.Random(SEED)
    kill_points = []
    for _ in range(KILLS):
        delay = rng.uniform(0.3, duration * 0.9)
        proc = dbt_build(base)
        deadline = time.monotonic() + delay
        dbt_pids: set = set()
        while time.monotonic() < deadline and proc.poll() is None:
            dbt_pids.update(children(proc.pid))
            time.sleep(0.05)
        if proc.poll() is not None:
            continue  # finished before the kill point: nothing to kill
        dbt_pids.update(children(proc.pid))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=60)
        kill_points.append((round(delay, 1), len(dbt_pids)))
        # the dbt child dies with its parent: no orphan keeps writing the warehouse (one started since the last
        # poll included: it dies a moment after its parent, and holds the warehouse until then)
        give_up = time.monotonic() + 30
        while (any(alive(p) for p in dbt_pids) or group_members(proc.pid)) and time.monotonic() < give_up:
            time.sleep(0.1)
        assert not any(alive(p) for p in dbt_pids), f"dbt outlived strava.py killed at {delay:.1f} s"
        assert not group_members(proc.pid), f"a process of strava.py outlived it, killed at {delay:.1f} s"
        # consistent and usable: the raw tables as they were, every relation of the last build there and readable
        assert snapshot(base / "demo") == raw
        after = marts(warehouse)
        assert set(expected) <= set(after), sorted(set(expected) - set(after))
        reports.check_marts(warehouse)
        assert (site / "index.html").read_text() == "<h1>previous site</h1>"
    print(f"dbt build {duration:.0f} s, killed at (s, dbt processes seen): {kill_points}")
    assert kill_points, "no run was killed: every build ended before its kill point"

    proc = dbt_build(base)
    out, _ = proc.communicate(timeout=900)
    assert proc.returncode == 0, out[-3000:]
    assert "ERROR=0" in out and "SKIP=0" in out, out[-2000:]
    after = marts(warehouse)
    # every relation rebuilt with the rows of an uninterrupted build; the content of the core marts too (curves sum
    # floating point in parallel: their last bits may differ between any two builds)
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in expected.items()}
    for name in ("marts.fct_activities", "marts.weekly_summary", "staging.stg_strava__activities"):
        assert after[name] == expected[name], name
    assert snapshot(base / "demo") == raw


# ------------------------------------------------------------------------------------------ reports publish

PUBLISH = textwrap.dedent(
    """
    import sys
    import time
    from pathlib import Path
    from strava_pipeline import reports

    build, site, snapshot = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    version, pages = sys.argv[4], int(sys.argv[5])
    if not build.exists():
        for i in range(pages):
            page = build / f"page{i}" / "index.html"
            page.parent.mkdir(parents=True)
            page.write_text(f"<h1>build {version}</h1>" + "x" * 8000)
        (build / "index.html").write_text(f"<h1>build {version}</h1>" + "x" * 8000)
    print("publishing", flush=True)
    started = time.monotonic()
    reports._publish(build, site, {}, snapshot)
    print(f"published {time.monotonic() - started:.3f}", flush=True)
    """
)
PAGES = 150


def page_of(version: int) -> bytes:
    return f"<h1>build {version}</h1>".encode() + b"x" * 8000


def versions_in(site: Path) -> set:
    """The builds the pages of the site come from (a whole site: one)."""
    found = set()
    for page in [site / "index.html", *site.glob("page*/index.html")]:
        text = page.read_bytes()
        found.add(int(text.split(b"</h1>")[0].removeprefix(b"<h1>build ")))
        if page.with_name("index.html.gz").exists():
            import gzip

            assert gzip.decompress(page.with_name("index.html.gz").read_bytes()) == text
    return found


def publish(tmp_path: Path, site: Path, version: int) -> subprocess.Popen:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            PUBLISH,
            str(tmp_path / f"build{version}"),
            str(site),
            str(tmp_path / "snapshot.duckdb"),
            str(version),
            str(PAGES),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


class Reader(threading.Thread):
    """Asks the server for pages without pause; keeps every answer that is not a whole page of some build."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base, self.stop, self.bad, self.answers = base, threading.Event(), [], 0

    def run(self) -> None:
        rng = random.Random(1)
        while not self.stop.is_set():
            path = rng.choice(["/", f"/page{rng.randrange(PAGES)}/"])
            try:
                with urllib.request.urlopen(self.base + path, timeout=10) as answer:
                    body = answer.read()
            except urllib.error.HTTPError as exc:
                self.bad.append((path, exc.code))
                continue
            self.answers += 1
            head = body.split(b"</h1>")[0]
            if not head.startswith(b"<h1>build ") or body != page_of(int(head.removeprefix(b"<h1>build "))):
                self.bad.append((path, body[:40]))


def test_a_kill_while_a_reports_build_publishes_keeps_the_previous_site_served(tmp_path):
    with duckdb.connect(str(tmp_path / "snapshot.duckdb")) as con:  # no activities: the activity files are empty
        con.execute("""
            create table activities as select 1::bigint as activity_id where false;
            create table streams as select 1::bigint as activity_id, 1 as point_index, 1.0 as distance_km where false;
            create table laps as select 1::bigint as activity_id, 1 as lap_index where false;
        """)
    site = tmp_path / "output" / "site"
    proc = publish(tmp_path, site, 1)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    duration = float(out.split()[-1])  # seconds of the publish itself
    assert versions_in(site) == {1}

    server = reports.make_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    reader = Reader(f"http://127.0.0.1:{server.server_address[1]}")
    reader.start()
    rng = random.Random(SEED)
    served, kills = 1, []
    try:
        for version in range(2, 2 + 4):
            proc = publish(tmp_path, site, version)
            assert proc.stdout.readline().strip() == "publishing"  # the build is written: kill in the publish
            delay = rng.uniform(0, duration * 1.2)
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
            proc.communicate(timeout=60)
            if proc.returncode != -signal.SIGKILL:
                assert proc.returncode == 0
                served = version
            kills.append(round(delay, 3))
            # the site is there and whole: the previous build, or this one if the swap was done
            assert versions_in(site) in ({served}, {version}), (versions_in(site), served, version)
            served = versions_in(site).pop()
            # the next publish (of a build a kill left behind, or a new one) completes
            if version % 2:
                proc = publish(tmp_path, site, version)
                assert "published" in proc.communicate(timeout=120)[0]
                assert versions_in(site) == {version}
                served = version
        time.sleep(0.2)
    finally:
        reader.stop.set()
        reader.join(30)
        server.shutdown()
        server.server_close()
    print(f"publish {duration:.2f} s; kills at {kills} s; {reader.answers} answers read meanwhile")
    assert reader.answers > 50
    assert reader.bad == []
    assert not site.with_name("site.old").exists() or site.exists()


def whole_site(path: Path, pages: int = 3) -> None:
    for i in range(pages):
        (path / f"page{i}").mkdir(parents=True)
        (path / f"page{i}" / "index.html").write_bytes(page_of(int(path.name.removeprefix("build"))))
    (path / "index.html").write_bytes(page_of(int(path.name.removeprefix("build"))))


def test_a_swap_never_leaves_a_moment_without_a_whole_site(tmp_path, monkeypatch):
    """After every rename of the swap the site is there and whole (a kill can land between any two steps)."""
    site = tmp_path / "site"
    whole_site(tmp_path / "build1")
    (tmp_path / "build1").rename(site)
    whole_site(tmp_path / "build2")
    seen = []
    rename = Path.rename

    def checked(self, target):
        result = rename(self, target)
        seen.append(versions_in(site) if site.is_dir() else set())
        return result

    monkeypatch.setattr(Path, "rename", checked)
    site_swap.swap_in(tmp_path / "build2", site)
    assert versions_in(site) == {2}
    assert all(v in ({1}, {2}) for v in seen), seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # the previous site is deleted


def test_a_site_left_aside_by_a_kill_mid_swap_is_put_back(tmp_path, monkeypatch):
    """Without an atomic exchange (not Linux) a swap is two renames: a kill between them leaves the previous site
    aside, and the next swap (or `recover`) puts it back before doing anything else."""
    site = tmp_path / "site"
    whole_site(tmp_path / "build1")
    (tmp_path / "build1").rename(site)
    whole_site(tmp_path / "build2")
    monkeypatch.setattr(site_swap, "_exchange", lambda a, b: False)
    rename = Path.rename

    def killed_after_the_first(self, target):
        rename(self, target)
        raise SystemExit("killed")

    monkeypatch.setattr(Path, "rename", killed_after_the_first)
    with pytest.raises(SystemExit):
        site_swap.swap_in(tmp_path / "build2", site)
    monkeypatch.setattr(Path, "rename", rename)
    assert not site.exists() and versions_in(site_swap.aside(site)) == {1}
    site_swap.recover(site)
    assert versions_in(site) == {1}
    site_swap.swap_in(tmp_path / "build2", site)
    assert versions_in(site) == {2} and not site_swap.aside(site).exists()
