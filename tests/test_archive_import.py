"""`strava.py import-archive` end to end on the real reference files: counts, units, re-import, bad input, the API."""

import csv
import gzip
import io
import re
import shutil
import signal
import subprocess
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strava_pipeline.archive import importer
from strava_pipeline.archive.importer import (
    FETCH_STATUS,
    SKIP_DONE,
    SKIP_MISSING,
    SKIP_NO_FILE,
    SKIP_UNREADABLE,
    import_archive,
)
from strava_pipeline.archive.inbox import import_inbox
from strava_pipeline.archive.reader import ArchiveError
from strava_pipeline.clock import FakeClock
from strava_pipeline.config import warehouse_path
from strava_pipeline.progress import Reporter
from strava_pipeline.warehouse import open_warehouse
from tests.support.reference import FILES, NOW, query, run_cli

SAMPLE = FILES / "sample_export.zip"
ROOT = Path(__file__).resolve().parents[1]
# load metadata differs between two imports by nature
SKIP_COLUMNS = {"_dlt_load_id", "_dlt_id"}

pytestmark = pytest.mark.skipif(
    not SAMPLE.is_file(), reason=f"reference files not found in {FILES} (set STRAVA_REFERENCE_DIR)"
)


# ------------------------------------------------------------------------------------------------------ helpers


def snapshot(data_dir: Path) -> dict:
    """Every raw table's columns, row count and content hash, _dlt_* columns left out."""
    out = {}
    with open_warehouse(warehouse_path(data_dir)) as con:
        tables = [
            t
            for (t,) in con.execute(
                "select table_name from information_schema.tables where table_catalog = 'warehouse' "
                "and table_schema = 'strava' and table_name not like '\\_dlt%' escape '\\' order by 1"
            ).fetchall()
        ]
        for table in tables:
            cols = [
                c
                for (c,) in con.execute(
                    "select column_name from information_schema.columns where table_catalog = 'warehouse' "
                    "and table_schema = 'strava' and table_name = ? order by 1",
                    [table],
                ).fetchall()
                if c not in SKIP_COLUMNS
            ]
            collist = ", ".join(f'"{c}"' for c in cols)
            out[table] = (cols, con.execute(f"select count(*), sum(hash({collist})) from strava.{table}").fetchone())
    return out


def quiet() -> Reporter:
    return Reporter(stream=io.StringIO(), interactive=False)


def one_line_error(rc: int, err: str) -> None:
    assert rc == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


def sample_csv_rows() -> dict:
    """The sample's activities.csv by position, as Strava writes it (the duplicated names make a dict useless)."""
    with zipfile.ZipFile(SAMPLE) as zf:
        text = zf.read("activities.csv").decode()
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return {int(r[0]): r for r in rows[1:]}


def export_date(epoch: float) -> str:
    """The Activity Date format of activities.csv: 'Oct 5, 2014, 4:15:21 PM' (UTC)."""
    dt = datetime.fromtimestamp(epoch, UTC)
    return f"{dt:%b} {dt.day}, {dt.year}, {dt.hour % 12 or 12}:{dt:%M:%S} {'AM' if dt.hour < 12 else 'PM'}"


def write_export(folder: Path, activities: list[dict], track: Path) -> None:
    """An unpacked export with the real 99-column header: one row per activity (API-shaped dicts), each with a
    copy of `track` as its file."""
    header = (FILES / "activities.csv").read_text().split("\n", 1)[0]
    width = header.count(",") + 1
    (folder / "activities").mkdir(parents=True)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    lines = [header]
    for a in activities:
        row = [""] * width
        start = datetime.fromisoformat(a["start_date"].replace("Z", "+00:00")).timestamp()
        row[0], row[1], row[2] = str(a["id"]), export_date(start), a["name"]
        row[3] = re.sub(r"(?<=[a-z])(?=[A-Z])", " ", a["sport_type"])  # display name: "Trail Run"
        row[5], row[15], row[16] = str(a["elapsed_time"]), f"{float(a['elapsed_time'])}", str(a["moving_time"])
        row[6], row[17] = f"{a['distance'] / 1000:.2f}", f"{float(a['distance'])}"
        row[12] = f"activities/{a['id']}.gpx"
        shutil.copy(track, folder / row[12])
        writer.writerow(row)
    lines.append(buf.getvalue().rstrip("\n"))
    (folder / "activities.csv").write_text("\n".join(lines) + "\n")


# ------------------------------------------------------------------------------------------------ the sample zip


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """sample_export.zip imported once through the command line; (data_dir, stdout)."""
    data_dir = tmp_path_factory.mktemp("sample") / "data"
    rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(SAMPLE))
    assert rc == 0, err
    return data_dir, out


def test_sample_export_counts_and_summary(sample):
    data_dir, out = sample
    assert "Activities: 12 in activities.csv; 12 written (source archive)." in out
    assert "Files: 10 parsed (1 damaged: the points before the damage kept), 2 skipped: " in out
    assert f"1 {SKIP_MISSING}" in out and f"1 {SKIP_NO_FILE}" in out
    assert "Stream points: 18,568 for 10 activities, 1 batch(es)" in out
    assert "warning: activities/900000005.fit.gz (activity 900000005): FIT file is damaged" in out
    assert "Through the API this history costs 24 requests (1 list pages, 12 detail, 11 streams)" in out
    assert query(
        data_dir, "select count(*), count(distinct source), min(source), count(athlete_id) from strava.activities"
    ) == [(12, 1, "archive", 0)]
    points = dict(query(data_dir, "select activity_id, count(*) from strava.activity_streams group by 1"))
    assert len(points) == 10 and sum(points.values()) == 18568
    assert query(data_dir, "select distinct source from strava.activity_streams") == [("archive",)]
    # the damaged Strava-app FIT: the 236 points before the damage, and no fetch_log row, so the API may still
    # fetch the whole stream; every other file is marked done for the API's work queue
    assert points[900000005] == 236
    log = dict(query(data_dir, "select activity_id, status from strava.fetch_log where kind = 'streams'"))
    assert set(log) == set(points) - {900000005} and set(log.values()) == {FETCH_STATUS}
    # a file listed but missing, and a row without a file (entered by hand: no streams to ask the API for)
    assert 203707851 not in points and 10105602916 not in points
    assert query(
        data_dir, "select id, manual from strava.activities where id in (203707851, 10105602916) order by id"
    ) == [(203707851, False), (10105602916, True)]


def test_sample_rows_match_the_files_by_hand(sample):
    data_dir, _ = sample
    raw = sample_csv_rows()
    rows = {
        r[0]: r[1:]
        for r in query(
            data_dir,
            "select id, name, distance, elapsed_time, moving_time, start_date, "
            "utc_offset, start_date_local, start_latlng::varchar, has_heartrate "
            "from strava.activities",
        )
    }
    for aid, cells in raw.items():
        name, distance, elapsed, moving = rows[aid][:4]
        assert name == cells[2]
        assert distance == float(cells[17])  # metres, the precise copy
        assert elapsed == round(float(cells[15] or cells[5]))  # seconds
        assert moving == (round(float(cells[16])) if cells[16] else None)

    # 900000001 <- fit/activity-small-fenix2-run.fit: 2015-08-15 14:45:08 -> 15:32:21 UTC, local offset +2 h
    start, offset, local, start_latlng, has_hr = rows[900000001][4:]
    assert start == datetime(2015, 8, 15, 14, 45, 8, tzinfo=UTC)
    assert (offset, local, has_hr) == (7200.0, "2015-08-15T16:45:08Z", True)
    lat, lng = (float(x) for x in start_latlng.strip("[]").split(","))
    assert abs(lat - 58.96) < 0.01 and abs(lng - 5.73) < 0.01
    assert query(
        data_dir,
        "select count(*), count(lat), count(heartrate), max(time) from strava.activity_streams "
        "where activity_id = 900000001",
    ) == [(2809, 2809, 2808, 2833)]
    first = query(
        data_dir, "select lat, lng from strava.activity_streams where activity_id = 900000001 and point_index = 0"
    )[0]
    assert (lat, lng) == first

    # 900000007 <- gpx/strava_export.gpx (stored as 910000007.gpx.gz): 1,697 points over 5,127 s, heart rate from
    # the file where the CSV has none
    assert query(
        data_dir, "select count(*), count(lat), max(time) from strava.activity_streams where activity_id = 900000007"
    ) == [(1697, 1697, 5127)]
    avg_hr, mean = query(
        data_dir,
        "select a.average_heartrate, round(avg(s.heartrate), 1) from strava.activities a "
        "join strava.activity_streams s on s.activity_id = a.id where a.id = 900000007 "
        "group by all",
    )[0]
    assert raw[900000007][31] == "" and avg_hr == mean and 120 < avg_hr < 180

    # 900000009 <- tcx/test.tcx: 384 trackpoints, the last with only a time; 4,686.31 m at the one before
    assert query(
        data_dir,
        "select count(*), count(lat), max(time), max(distance) from strava.activity_streams "
        "where activity_id = 900000009",
    ) == [(384, 383, 1992, pytest.approx(4686.31, abs=0.01))]
    # 900000003 indoor trainer and 900000006 pool swim: no GPS, so no start position; the swim's local offset -4 h
    assert rows[900000003][7] is None and rows[900000006][7] is None
    assert rows[900000006][5:7] == (-14400.0, "2017-06-13T09:42:30Z")
    # 900000008 <- Mojstrovka.gpx: every point time is 1901, so the geometry is kept without times
    assert query(
        data_dir, "select count(*), count(lat), count(time) from strava.activity_streams where activity_id = 900000008"
    ) == [(184, 184, 0)]


def test_reimport_changes_nothing(tmp_path):
    data_dir = tmp_path / "data"
    assert run_cli(data_dir, "import-archive", "--import-only", str(SAMPLE))[0] == 0
    before = snapshot(data_dir)
    rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(SAMPLE))
    assert rc == 0, err
    assert f"Files: 0 parsed, 12 skipped: 10 {SKIP_DONE}" in out  # no file is read twice
    assert snapshot(data_dir) == before
    # the unpacked folder is the same archive
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(SAMPLE) as zf:
        zf.extractall(folder)
    assert run_cli(data_dir, "import-archive", "--import-only", str(folder))[0] == 0
    assert snapshot(data_dir) == before
    # a reconcile run found one gone from Strava: an old archive does not bring it back
    with open_warehouse(warehouse_path(data_dir), read_only=False) as con:
        con.execute("update strava.activities set deleted = true where id = 900000002")
    rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(SAMPLE))
    assert rc == 0, err
    assert "11 written (source archive), 1 left deleted (gone from Strava)." in out
    assert query(data_dir, "select deleted from strava.activities where id = 900000002") == [(True,)]


# --------------------------------------------------------------------------------- the real activities.csv


def test_real_activities_csv_in_a_folder_loads_with_the_right_units(tmp_path):
    folder = tmp_path / "export"
    (folder / "activities").mkdir(parents=True)
    shutil.copy(FILES / "activities.csv", folder / "activities.csv")
    shutil.copy(FILES / "gpx" / "strava_export.gpx", folder / "activities" / "203707851.gpx")
    # a real .gpx.gz row: its file stem is not the activity id
    (folder / "activities" / "8328132174.gpx.gz").write_bytes(
        gzip.compress((FILES / "gpx" / "korita-zbevnica.gpx").read_bytes())
    )
    data_dir = tmp_path / "data"
    rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(folder))
    assert rc == 0, err
    assert "Activities: 1,845 in activities.csv; 1,845 written (source archive)." in out
    assert f"Files: 2 parsed, 1,843 skipped: 1,843 {SKIP_MISSING}." in out
    assert "10 batch(es)" in out  # 200 activities a commit

    types = dict(
        query(
            data_dir,
            "select column_name, data_type from information_schema.columns "
            "where table_schema = 'strava' and table_name = 'activities'",
        )
    )
    assert (types["distance"], types["moving_time"], types["elapsed_time"]) == ("DOUBLE", "BIGINT", "BIGINT")
    assert types["start_date"] == "TIMESTAMP WITH TIME ZONE" and types["id"] == "BIGINT"

    with open(FILES / "activities.csv", newline="") as fh:
        raw = {int(r[0]): r for r in list(csv.reader(fh))[1:]}
    got = {
        r[0]: r[1:]
        for r in query(
            data_dir, "select id, distance, elapsed_time, moving_time, start_date, sport_type from strava.activities"
        )
    }
    assert set(got) == set(raw)
    for aid, cells in raw.items():
        distance, elapsed, moving, start, _ = got[aid]
        assert distance == float(cells[17]), aid  # metres, never the display km (or nautical miles)
        assert elapsed == round(float(cells[15] or cells[5])), aid  # seconds
        assert moving == round(float(cells[16])), aid
        utc = datetime.strptime(cells[1], "%b %d, %Y, %I:%M:%S %p").replace(tzinfo=UTC)
        assert start == utc, aid  # the export's dates are UTC, stored as such
    assert got[203707851][:4] == (13609.2001953125, 2833, 2499, datetime(2014, 10, 5, 16, 15, 21, tzinfo=UTC))
    assert got[9024249421][0] == 29610.490234375  # a Sail: the display copy is nautical miles
    assert got[14827328714][:2] == (20195.80078125, 10744)  # the Hike whose two copies disagree
    assert dict(query(data_dir, "select sport_type, count(*) from strava.activities group by 1"))["NordicSki"] == 58
    assert query(data_dir, "select activity_id, count(*) from strava.activity_streams group by 1 order by 1") == [
        (203707851, 1697),
        (7796555307, 871),
    ]


# ------------------------------------------------------------------------------------------------ bad input


def _bad_inputs(tmp: Path) -> dict:
    whole = SAMPLE.read_bytes()
    cases = {"missing": tmp / "nope.zip"}
    (tmp / "notes.txt").write_text("hello, not a zip")
    cases["not a zip"] = tmp / "notes.txt"
    (tmp / "cut.zip").write_bytes(whole[: len(whole) // 2])
    cases["truncated zip"] = tmp / "cut.zip"
    with zipfile.ZipFile(tmp / "profile.zip", "w") as zf:
        zf.writestr("profile.csv", "Athlete ID\n1\n")
    cases["zip without activities.csv"] = tmp / "profile.zip"
    with zipfile.ZipFile(tmp / "other.zip", "w") as zf:
        zf.writestr("activities.csv", "date,km\n2024-01-01,5\n")
    cases["not Strava's activities.csv"] = tmp / "other.zip"
    with zipfile.ZipFile(tmp / "empty_csv.zip", "w") as zf:
        zf.writestr("activities.csv", "")
    cases["empty activities.csv"] = tmp / "empty_csv.zip"
    (tmp / "emptydir").mkdir()
    cases["folder without activities.csv"] = tmp / "emptydir"
    return cases


def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path):
    for label, path in _bad_inputs(tmp_path).items():
        data_dir = tmp_path / f"data_{label.replace(' ', '_')}"
        rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(path))
        one_line_error(rc, err)
        assert str(path) in err, label
        assert re.search(r"\b(pass|download|check)\b", err), label
        assert not data_dir.exists(), label  # checked before the warehouse is opened
        assert out == "", label


def test_import_archive_raises_archive_error(tmp_path):
    with pytest.raises(ArchiveError):
        import_archive(tmp_path / "nope.zip", tmp_path / "data")
    assert not (tmp_path / "data").exists()


def test_busy_warehouse_is_a_user_error(tmp_path):
    data_dir = tmp_path / "data"
    script = (
        "import sys, time; from pathlib import Path; from strava_pipeline.lock import warehouse_lock\n"
        "with warehouse_lock(Path(sys.argv[1]), holder='another import'):\n"
        "    print('held', flush=True); time.sleep(120)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, str(data_dir)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        rc, _, err = run_cli(data_dir, "import-archive", "--import-only", str(SAMPLE))
    finally:
        holder.kill()
        holder.wait()
    one_line_error(rc, err)
    assert "busy" in err and "another import" in err
    assert not warehouse_path(data_dir).exists()


def test_damaged_members_are_counted_and_the_rest_imports(tmp_path):
    path = tmp_path / "damaged.zip"
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "activities/900000002.fit":  # cut in half
                data = data[: len(data) // 2]
            elif info.filename == "activities/900000009.tcx.gz":  # the gzip stream cut short
                data = data[: len(data) // 3]
            elif info.filename == "activities/900000003.fit.gz":  # not an activity file at all
                data = gzip.compress(b"<html><body>404</body></html>")
            dst.writestr(info, data)
    data_dir = tmp_path / "data"
    rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(path))
    assert rc == 0, err
    assert "Files: 9 parsed (3 damaged: the points before the damage kept), 3 skipped: " in out
    assert f"1 {SKIP_UNREADABLE}" in out
    assert "warning: activities/900000003.fit.gz (activity 900000003): not a FIT file" in out
    points = dict(query(data_dir, "select activity_id, count(*) from strava.activity_streams group by 1"))
    assert 1000 < points[900000002] < 4700 and 0 < points[900000009] < 384 and 900000003 not in points
    assert points[900000001] == 2809  # the rest as usual
    assert query(data_dir, "select count(*) from strava.activities") == [(12,)]
    done = {r[0] for r in query(data_dir, "select activity_id from strava.fetch_log")}
    assert not done & {900000002, 900000003, 900000005, 900000009}  # the API may still supply these


def test_bomb_members_are_cut_and_skipped_with_the_reason(tmp_path):
    path = tmp_path / "bombs.zip"
    zeros = b"\0" * (20 << 20)  # 20 MB that deflate to ~20 kB: 1000 to 1
    with zipfile.ZipFile(SAMPLE) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "activities/900000002.fit":  # a zip bomb member
                data = zeros
            elif info.filename == "activities/900000003.fit.gz":  # a gzip bomb inside
                data = gzip.compress(zeros)
            dst.writestr(info.filename, data)
    data_dir = tmp_path / "data"
    rc, out, err = run_cli(data_dir, "import-archive", "--import-only", str(path))
    assert rc == 0, err
    assert "zip entry inflates more than 200 times its size (a zip bomb?); cut there" in out
    assert "gzip member inflates past" in out
    points = dict(query(data_dir, "select activity_id, count(*) from strava.activity_streams group by 1"))
    assert 900000002 not in points and 900000003 not in points and points[900000001] == 2809
    assert query(data_dir, "select count(*) from strava.activities") == [(12,)]


# ------------------------------------------------------------------------------------------ interrupt, resume


class _StopAfter(Reporter):
    """A Ctrl-C after `n` activities."""

    def __init__(self, n: int) -> None:
        super().__init__(stream=io.StringIO(), interactive=False)
        self.n = n

    def advance(self, n: int = 1, note: str = "") -> None:
        super().advance(n, note)
        if self._done == self.n:
            raise KeyboardInterrupt


def test_ctrl_c_keeps_the_committed_batches_and_a_rerun_completes(tmp_path):
    clean = tmp_path / "clean"
    import_archive(SAMPLE, clean, quiet(), clock=FakeClock(NOW), workers=1)
    data_dir = tmp_path / "data"
    stopped = import_archive(SAMPLE, data_dir, _StopAfter(7), clock=FakeClock(NOW), batch_activities=3, workers=1)
    assert stopped.interrupted and stopped.batches == 3  # two full batches, then the one in progress
    assert query(data_dir, "select count(*) from strava.activities") == [(7,)]
    assert "Stopped by Ctrl-C" in stopped.lines()[0]
    again = import_archive(SAMPLE, data_dir, quiet(), clock=FakeClock(NOW), workers=1)
    assert not again.interrupted and again.skipped[SKIP_DONE] == 7  # the first 7 rows all have a file
    assert snapshot(data_dir) == snapshot(clean)


def test_kill_9_then_rerun_ends_like_an_uninterrupted_import(tmp_path):
    export = tmp_path / "export"
    (export / "activities").mkdir(parents=True)
    tracks = [
        *sorted((FILES / "gpx").iterdir()),
        *sorted((FILES / "tcx").iterdir()),
        FILES / "fit" / "garmin-fenix-5-run.fit",
        FILES / "fit" / "2015-10-13-08-43-15.fit",
    ]
    for t in tracks:
        shutil.copy(t, export / "activities" / t.name)
    with open(FILES / "activities.csv", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    for i, row in enumerate(rows[:40]):  # 40 real rows, each pointing at one of the reference files
        row[12] = f"activities/{tracks[i % len(tracks)].name}"
        writer.writerow(row)
    (export / "activities.csv").write_text(buf.getvalue())
    script = (
        "import sys; from pathlib import Path; from strava_pipeline.archive.importer import import_archive; "
        "from strava_pipeline.progress import Reporter; "
        "import_archive(sys.argv[1], Path(sys.argv[2]), Reporter(interactive=False, every=1), "
        "batch_activities=8, workers=1)"
    )
    data_dir = tmp_path / "data"
    proc = subprocess.Popen(
        [sys.executable, "-c", script, str(export), str(data_dir)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    for line in proc.stdout:
        if "19/40 activities done" in line:  # two batches committed, the third in progress
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=60)
    assert proc.returncode == -signal.SIGKILL
    partial = query(data_dir, "select count(*) from strava.activities")[0][0]
    assert 16 <= partial < 40
    summary = import_archive(export, data_dir, quiet(), batch_activities=8, workers=1)
    assert summary.skipped[SKIP_DONE] >= 16
    clean = tmp_path / "clean"
    # parsed in two worker processes this time: the same tables as the one-process import and its resume
    assert 40 >= importer.PARALLEL_MIN_FILES
    import_archive(export, clean, quiet(), batch_activities=8, workers=2)
    # fetched_at is the wall clock of each run: compare everything else
    strip = lambda snap: {t: v for t, v in snap.items() if t != "fetch_log"}  # noqa: E731
    assert strip(snapshot(data_dir)) == strip(snapshot(clean))
    log = "select activity_id, kind, status, athlete_id from strava.fetch_log order by 1"
    assert query(data_dir, log) == query(clean, log)


# ---------------------------------------------------------------------------------------------------- inbox


def test_inbox_imports_each_archive_once(tmp_path):
    data_dir = tmp_path / "data"
    inbox = data_dir / "inbox"
    inbox.mkdir(parents=True)
    shutil.copy(SAMPLE, inbox / "export_2025.zip")
    (inbox / "notes.zip").write_text("not a zip")
    (inbox / "export_2026.zip.crdownload").write_bytes(b"PK still downloading")
    items = {i.name: i for i in import_inbox(data_dir, quiet(), min_age_s=0, settle_s=0)}
    assert set(items) == {"export_2025.zip", "notes.zip"}
    done = items["export_2025.zip"]
    assert done.status == "imported" and done.summary.written == 12
    assert done.path == inbox / "done" / "export_2025.zip" and done.path.exists()
    failed = items["notes.zip"]
    assert failed.status == "failed" and "nothing importable in notes.zip" in failed.error
    assert (inbox / "failed" / "notes.zip.why.txt").read_text().strip() == failed.error
    assert (inbox / "export_2026.zip.crdownload").exists()
    assert query(data_dir, "select count(*) from strava.activities") == [(12,)]
    # the same zip dropped again under another name: recognised by its hash, not imported again
    shutil.copy(SAMPLE, inbox / "copy.zip")
    (again,) = import_inbox(data_dir, quiet(), min_age_s=0, settle_s=0)
    assert again.status == "duplicate" and again.summary is None and not (inbox / "copy.zip").exists()
    # a file still being written waits
    shutil.copy(SAMPLE, inbox / "fresh.zip")
    assert [i.status for i in import_inbox(data_dir, quiet(), min_age_s=3600, settle_s=0)] == ["waiting"]
    assert import_inbox(tmp_path / "elsewhere", quiet()) == []


# -------------------------------------------------------------------------------------------- with the API


@pytest.fixture
def api_cli(request):
    try:
        return request.getfixturevalue("cli")
    except pytest.FixtureLookupError:
        pytest.skip("needs the `cli` fixture (tests/conftest.py and the fake API)")


def _overlap(fake) -> tuple[list, list, list]:
    """(recent activities the first API run lists, 3 of them in the archive too, 2 older archive-only ones)."""
    recent_from = datetime.fromtimestamp(NOW - 30 * 86400, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    listed = [a for a in fake.activities(visible_only=True)]
    recent = [a for a in listed if a["start_date"] >= recent_from]
    with_file = [a for a in recent if not a["manual"]]
    older = [a for a in listed if a["start_date"] < recent_from and not a["manual"]]
    assert len(with_file) >= 3 and len(older) >= 2
    return recent, with_file[:3], older[-2:]


def test_archive_then_api_run(api_cli, tmp_path):
    cli, fake = api_cli, api_cli.fake
    recent, both, archive_only = _overlap(fake)
    write_export(tmp_path / "export", both + archive_only, FILES / "gpx" / "strava_export.gpx")
    rc, out, err = cli("import-archive", "--import-only", str(tmp_path / "export"))
    assert rc == 0, err
    assert "Athlete: left empty" in out
    fake.reset_log()
    rc, out, err = cli()  # the first API run: the last 30 days, with detail and streams
    assert rc == 0, err
    streams_asked = {int(e.path.split("/")[-2]) for e in fake.log if e.path.endswith("/streams")}
    archived = {a["id"] for a in both + archive_only}
    assert not streams_asked & archived  # the archive's streams are not fetched again
    assert streams_asked == {a["id"] for a in recent if not a["manual"]} - archived
    data_dir = cli.data_dir
    ids = ",".join(str(a["id"]) for a in both)
    # API rows win: the listed activities are the API's now, their streams stay the archive's
    assert query(data_dir, f"select distinct source, athlete_id from strava.activities where id in ({ids})") == [
        ("api", fake.athlete_id)
    ]
    assert query(data_dir, f"select distinct source from strava.activity_streams where activity_id in ({ids})") == [
        ("archive",)
    ]
    assert query(data_dir, f"select count(*) from strava.activity_streams where activity_id = {both[0]['id']}") == [
        (1697,)
    ]
    assert query(
        data_dir, f"select distinct status from strava.fetch_log where kind = 'streams' and activity_id in ({ids})"
    ) == [(FETCH_STATUS,)]
    old = ",".join(str(a["id"]) for a in archive_only)
    # the API run learnt the athlete and gave it to the archive rows imported before (no re-import needed)
    assert query(data_dir, f"select distinct source, athlete_id from strava.activities where id in ({old})") == [
        ("archive", fake.athlete_id)
    ]
    # importing the archive again changes nothing of that and leaves the API's rows alone
    rc, out, err = cli("import-archive", "--import-only", str(tmp_path / "export"))
    assert rc == 0, err
    assert "3 kept as the API supplied them" in out and f"Athlete: {fake.athlete_id}" in out
    assert query(data_dir, f"select distinct source, athlete_id from strava.activities where id in ({old})") == [
        ("archive", fake.athlete_id)
    ]
    assert query(data_dir, "select count(*) from strava.activity_streams where athlete_id is null") == [(0,)]


def test_api_then_archive_keeps_the_api_data(api_cli, tmp_path):
    cli, fake = api_cli, api_cli.fake
    assert cli()[0] == 0
    data_dir = cli.data_dir
    _, with_file, archive_only = _overlap(fake)
    fetched = {
        r[0]
        for r in query(data_dir, "select activity_id from strava.fetch_log where kind = 'streams' and status = 'ok'")
    }
    both = [a for a in with_file if a["id"] in fetched][:3]
    assert len(both) == 3
    ids = ",".join(str(a["id"]) for a in both)
    api_columns = query(
        data_dir,
        "select column_name from information_schema.columns where table_schema = 'strava' "
        "and table_name = 'activities' and column_name not like '\\_dlt%' escape '\\' "
        "order by 1",
    )
    cols = ", ".join(f'"{c}"' for (c,) in api_columns)
    rows_sql = f"select {cols} from strava.activities where id in ({ids}) order by id"
    streams_sql = (
        f"select activity_id, count(*), min(source), max(source) from strava.activity_streams "
        f"where activity_id in ({ids}) group by 1 order by 1"
    )
    api_rows, api_streams = query(data_dir, rows_sql), query(data_dir, streams_sql)
    assert {r[2] for r in api_streams} == {"api"}
    write_export(tmp_path / "export", both + archive_only, FILES / "gpx" / "strava_export.gpx")
    rc, out, err = cli("import-archive", "--import-only", str(tmp_path / "export"))
    assert rc == 0, err
    assert "3 kept as the API supplied them" in out and "3 streams already fetched from the API" in out
    assert query(data_dir, rows_sql) == api_rows and query(data_dir, streams_sql) == api_streams
    old = ",".join(str(a["id"]) for a in archive_only)
    assert query(data_dir, f"select distinct source, athlete_id from strava.activities where id in ({old})") == [
        ("archive", fake.athlete_id)
    ]
