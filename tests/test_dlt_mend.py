"""The mend of dlt's interrupted normalize commit (warehouses.has_pending_data), on a state made on purpose.

dlt commits a normalized package in two steps: it renames load/new/<id> to load/normalized/<id>, then deletes the
extracted copy normalize/extracted/<id>. A child process running an archive import is killed (SIGKILL, by itself)
exactly between the two. Without the mend every later run normalizes the extracted copy again and fails on the rename
("Directory not empty"); with it the next run loads the pending package and ends with the data of an uninterrupted
import.
"""

import io
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from strava_pipeline import warehouses
from strava_pipeline.archive.importer import import_archive
from strava_pipeline.clock import FakeClock
from strava_pipeline.progress import Reporter
from tests.conftest import NOW, REFERENCE
from tests.support.killrun import snapshot

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = REFERENCE / "files" / "sample_export.zip"
BATCH = 5  # sample_export.zip has 12 activities: three load packages

pytestmark = pytest.mark.skipif(not SAMPLE.is_file(), reason=f"{SAMPLE} missing (CI fails in conftest)")

CHILD = textwrap.dedent(
    """
    import io, os, signal, sys
    from pathlib import Path
    from dlt.common.storages.load_storage import LoadStorage
    from strava_pipeline.archive.importer import import_archive
    from strava_pipeline.clock import FakeClock
    from strava_pipeline.progress import Reporter

    commit = LoadStorage.commit_new_load_package
    commits = []

    def commit_then_die(self, load_id):
        commit(self, load_id)  # load/new/<id> -> load/normalized/<id>
        commits.append(load_id)
        if len(commits) == 2:  # the second batch: the first one is loaded and the pipeline's state is on disk
            os.kill(os.getpid(), signal.SIGKILL)  # before dlt deletes normalize/extracted/<id>

    LoadStorage.commit_new_load_package = commit_then_die
    reporter = Reporter(stream=io.StringIO(), interactive=False)
    import_archive(sys.argv[1], Path(sys.argv[2]), reporter, clock=FakeClock(float(sys.argv[3])), workers=1,
                   batch_activities=int(sys.argv[4]))
    """
)


def quiet() -> Reporter:
    return Reporter(stream=io.StringIO(), interactive=False)


def killed_between_the_commit_steps(data_dir: Path) -> str:
    """An archive import killed right after dlt renamed its second normalized package; returns its load id."""
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(SAMPLE), str(data_dir), str(NOW), str(BATCH)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-3000:]
    root = Path(warehouses.make_pipeline(data_dir).working_dir)
    extracted = [p.name for p in (root / "normalize" / "extracted").iterdir()]
    normalized = [p.name for p in (root / "load" / "normalized").iterdir()]
    # the state a kill leaves: the package both normalized and still extracted
    assert len(extracted) == 1 and extracted == normalized, (extracted, normalized)
    return extracted[0]


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    clean = tmp_path_factory.mktemp("mend") / "clean"
    import_archive(SAMPLE, clean, quiet(), clock=FakeClock(NOW), workers=1, batch_activities=BATCH)
    return snapshot(clean)


def test_a_kill_between_the_two_normalize_commit_steps_is_mended_by_the_next_run(reference, tmp_path):
    data_dir = tmp_path / "data"
    load_id = killed_between_the_commit_steps(data_dir)
    summary = import_archive(SAMPLE, data_dir, quiet(), clock=FakeClock(NOW), workers=1, batch_activities=BATCH)
    assert not summary.interrupted
    assert snapshot(data_dir) == reference
    root = Path(warehouses.make_pipeline(data_dir).working_dir)
    assert not (root / "normalize" / "extracted" / load_id).exists()
    assert not warehouses.make_pipeline(data_dir).has_pending_data
    # the package the kill left was loaded, not made again: its load id is in the warehouse
    loads = {row[0] for row in snapshot_loads(data_dir)}
    assert load_id in loads


def snapshot_loads(data_dir: Path) -> list:
    from strava_pipeline.warehouse import open_warehouse

    with open_warehouse(data_dir / "strava.duckdb") as con:
        return con.execute("select load_id from strava._dlt_loads where status = 0").fetchall()


def test_without_the_mend_the_next_run_fails(tmp_path, monkeypatch):
    """What the mend is for: dlt alone cannot resume from that state."""
    data_dir = tmp_path / "data"
    killed_between_the_commit_steps(data_dir)
    monkeypatch.setattr(warehouses, "has_pending_data", lambda pipeline: pipeline.has_pending_data)
    with pytest.raises(Exception, match="(?i)not empty|exists"):
        import_archive(SAMPLE, data_dir, quiet(), clock=FakeClock(NOW), workers=1, batch_activities=BATCH)
    shutil.rmtree(data_dir)
