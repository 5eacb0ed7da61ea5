"""The inbox with device files: imported and moved to done/, unreadable ones to failed/ with a .why.txt, files still
being copied left for the next run, the same file dropped twice imported once; the Dagster sensor waits for copies."""

import gzip
import io
import os
import shutil
import threading
import time
from pathlib import Path

from strava_pipeline.archive.inbox import import_inbox
from strava_pipeline.cli import main
from strava_pipeline.clock import FakeClock
from strava_pipeline.progress import Reporter
from tests.support.reference import FILES, NOW, THIRD_PARTY, query, require

HOUR_AGO = time.time() - 3600

require(THIRD_PARTY)


def quiet() -> Reporter:
    return Reporter(stream=io.StringIO(), interactive=False)


def old(path: Path) -> Path:
    """Copied an hour ago: not being written any more."""
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (HOUR_AGO, HOUR_AGO))
    return path


def test_inbox_imports_device_files_and_sets_aside_the_rest(tmp_path):
    data_dir = tmp_path / "data"
    inbox = data_dir / "inbox"
    inbox.mkdir(parents=True)
    old(Path(shutil.copy(THIRD_PARTY / "swim-report/data.fit", inbox / "pool.fit")))
    (inbox / "run.gpx.gz").write_bytes(gzip.compress((FILES / "gpx" / "strava_export.gpx").read_bytes()))
    old(inbox / "run.gpx.gz")
    wahoo = inbox / "Wahoo"
    wahoo.mkdir()
    shutil.copy(THIRD_PARTY / "python-fitparse/elemnt-bolt-no-application-id-inside-developer-data-id.fit", wahoo)
    (wahoo / "broken.fit").write_bytes(b"")
    old(wahoo)
    old(Path(shutil.copy(FILES / "NOTES.md", inbox / "notes.txt")))
    (inbox / "ride.fit.part").write_bytes(b"half")
    shutil.copy(THIRD_PARTY / "python-fitparse/garmin-fenix-5-bike.fit", inbox / "fresh.fit")  # just copied
    items = {i.name: i for i in import_inbox(data_dir, quiet(), min_age_s=60, settle_s=0, workers=1)}
    assert {n: i.status for n, i in items.items()} == {
        "pool.fit": "imported",
        "run.gpx.gz": "imported",
        "Wahoo": "imported",
        "notes.txt": "failed",
        "fresh.fit": "waiting",
    }
    assert (inbox / "done" / "pool.fit").exists() and (inbox / "done" / "Wahoo").is_dir()
    # the folder had one unreadable file: said beside it
    assert "broken.fit: empty file" in (inbox / "done" / "Wahoo.why.txt").read_text()
    why = (inbox / "failed" / "notes.txt.why.txt").read_text()
    assert "nothing importable in notes.txt" in why and "not a FIT, GPX or TCX file" in why
    assert (inbox / "ride.fit.part").exists() and (inbox / "fresh.fit").exists()
    assert query(data_dir, "select count(*) from strava.activities where source = 'file'") == [(3,)]
    # the same recording dropped again under another name: nothing new, moved to done/
    old(Path(shutil.copy(THIRD_PARTY / "swim-report/data.fit", inbox / "pool again.fit")))
    old(inbox / "fresh.fit")
    again = {i.name: i for i in import_inbox(data_dir, quiet(), min_age_s=60, settle_s=0, workers=1)}
    assert {n: i.status for n, i in again.items()} == {"pool again.fit": "duplicate", "fresh.fit": "imported"}
    assert (inbox / "done" / "pool again.fit").exists()
    assert query(data_dir, "select count(*) from strava.activities where source = 'file'") == [(4,)]


def test_a_file_growing_while_the_inbox_looks_waits(tmp_path):
    data_dir = tmp_path / "data"
    inbox = data_dir / "inbox"
    inbox.mkdir(parents=True)
    data = (THIRD_PARTY / "python-fitparse/garmin-edge-500-activity.fit").read_bytes()
    target = inbox / "edge.fit"
    target.write_bytes(data[:1000])
    old(target)  # an old time, as a copy tool that keeps the source's time would set

    def keep_copying():
        time.sleep(0.3)
        with open(target, "ab") as fh:
            fh.write(data[1000:])

    writer = threading.Thread(target=keep_copying)
    writer.start()
    items = import_inbox(data_dir, quiet(), min_age_s=0, settle_s=1.0, workers=1)
    writer.join()
    assert [(i.name, i.status) for i in items] == [("edge.fit", "waiting")]
    assert target.exists() and not (data_dir / "strava.duckdb").exists()


def test_import_inbox_command(tmp_path):
    data_dir = tmp_path / "data"
    out, err = io.StringIO(), io.StringIO()
    assert main(["--data-dir", str(data_dir), "import", "--inbox"], clock=FakeClock(NOW), out=out, err=err) == 0
    assert "was empty (created it)" in out.getvalue() and (data_dir / "inbox").is_dir()
    out = io.StringIO()
    rc = main(["--data-dir", str(data_dir), "import", "--inbox", "x.fit"], clock=FakeClock(NOW), out=out, err=err)
    assert rc == 2 and "either paths or --inbox" in err.getvalue()


def test_sensor_waits_until_the_copy_ends(tmp_path):
    from orchestration.defs.archive import inbox_fingerprint

    inbox = tmp_path / "inbox"
    assert inbox_fingerprint(tmp_path) == ""
    inbox.mkdir()
    (inbox / "ride.fit").write_bytes(b"being copied")
    assert inbox_fingerprint(tmp_path) == ""  # changed just now: no run yet
    old(inbox / "ride.fit")
    first = inbox_fingerprint(tmp_path)
    assert first
    (inbox / "ride.fit.crdownload").write_bytes(b"partial")
    old(inbox / "ride.fit.crdownload")
    assert inbox_fingerprint(tmp_path) == first  # partial downloads are not what the sensor waits for
