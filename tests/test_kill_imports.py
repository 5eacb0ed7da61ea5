"""`kill -9` during an archive import and a file import costs at most the file being parsed.

Each import runs in a child process (the same function as `strava.py import-archive` / `strava.py import`, one parser
process so that every parse is seen) that writes a line to a log as each parse starts. The test kills it a random
number of parses in (plus 0-50 ms: kills land in parses, in spool writes and in commits), three times in a row, then
lets a run finish. Files parsed more than once across the chain are the cost of the kills: at most one per kill (the
one in flight). Before the parse spool a kill cost every file parsed since the last commit (up to a batch: 200).
The warehouse then equals an uninterrupted import's, and the spool is gone.
"""

import os
import random
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from strava_pipeline.archive import fileimport, importer
from strava_pipeline.archive.fileimport import import_files
from strava_pipeline.archive.importer import import_archive
from strava_pipeline.clock import FakeClock
from strava_pipeline.progress import Reporter
from tests.conftest import NOW, REFERENCE
from tests.support.killrun import snapshot

ROOT = Path(__file__).resolve().parents[1]
FILES = REFERENCE / "files"
ROWS = 60  # fewer than a batch (200): without the spool a kill loses every file parsed before it
KILLS = 3

pytestmark = pytest.mark.skipif(
    not (FILES / "activities.csv").is_file(), reason=f"reference files missing in {FILES} (CI fails in conftest)"
)

CHILD = textwrap.dedent(
    """
    import io, os, sys
    from pathlib import Path
    from strava_pipeline.archive import fileimport, importer
    from strava_pipeline.clock import FakeClock
    from strava_pipeline.progress import Reporter

    kind, source, data_dir, log_path, now = sys.argv[1:6]
    log = os.open(log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    reporter = Reporter(stream=io.StringIO(), interactive=False)
    if kind == "archive":
        real = importer._parse_member

        def logged(data, name, damaged, warnings):
            os.write(log, (name + "\\n").encode())
            return real(data, name, damaged, warnings)

        importer._parse_member = logged
        importer.import_archive(source, Path(data_dir), reporter, clock=FakeClock(float(now)), workers=1)
    else:
        real = fileimport._parse

        def logged(data, name, damaged, warnings):
            os.write(log, (name + "\\n").encode())
            return real(data, name, damaged, warnings)

        fileimport._parse = logged
        fileimport.import_files([source], Path(data_dir), reporter, clock=FakeClock(float(now)), workers=1)
    print("done", flush=True)
    """
)


def tracks() -> list[Path]:
    """The reference GPX and TCX files (an XML comment at the end makes a distinct file of each copy)."""
    return [*sorted((FILES / "gpx").iterdir()), *sorted((FILES / "tcx").iterdir())]


def make_export(folder: Path) -> Path:
    """activities.csv's first ROWS real rows, each with a file of its own."""
    import csv
    import io

    (folder / "activities").mkdir(parents=True)
    with open(FILES / "activities.csv", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    files = tracks()
    for i, row in enumerate(rows[:ROWS]):
        track = files[i % len(files)]
        name = f"activities/{i}{track.suffix}"
        (folder / name).write_bytes(track.read_bytes() + f"\n<!-- copy {i} -->\n".encode())
        row[12] = name
        writer.writerow(row)
    (folder / "activities.csv").write_text(buf.getvalue())
    return folder


def make_files(folder: Path) -> Path:
    """ROWS loose files, each a distinct recording: the k-th copy of a file has its times moved to year 2000 + 4k
    (the dedupe would take copies with one start for one recording)."""
    folder.mkdir(parents=True)
    files = tracks()
    for i in range(ROWS):
        track = files[i % len(files)]
        year = 2000 + 4 * (i // len(files))  # leap years: a 29 February stays a date
        text = re.sub(r'(?<=[>"])\d{4}(?=-\d\d-\d\dT)', str(year), track.read_text())
        (folder / f"{i}{track.suffix}").write_text(text + f"\n<!-- copy {i} -->\n")
    return folder


def spawn(kind: str, source: Path, data_dir: Path, log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, kind, str(source), str(data_dir), str(log), str(NOW)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def parses(log: Path) -> list[str]:
    return log.read_text().split() if log.exists() else []


def kill_chain(kind: str, source: Path, data_dir: Path, seed: int) -> dict:
    """KILLS runs killed a random number of parses in, then a run to the end; what the parses cost."""
    rng = random.Random(seed)
    log = data_dir.parent / f"parses-{seed}.log"
    kills = []
    for _ in range(KILLS):
        before = len(parses(log))
        left = ROWS - len(set(parses(log)))
        target, delay = before + rng.randint(1, max(1, left)), rng.uniform(0, 0.05)
        proc = spawn(kind, source, data_dir, log)
        while len(parses(log)) < target and proc.poll() is None:
            time.sleep(0.005)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        if proc.returncode != -signal.SIGKILL:
            assert proc.returncode == 0, err[-3000:]
            break  # it finished before the kill
        kills.append((target - before, round(delay, 3)))
    proc = spawn(kind, source, data_dir, log)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0 and "done" in out, err[-3000:]
    counts = Counter(parses(log))
    return {
        "kills": kills,
        "parses": sum(counts.values()),
        "files": len(counts),
        "repeated": sum(n - 1 for n in counts.values()),
    }


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> dict:
    base = tmp_path_factory.mktemp("kill_imports")
    export, folder = make_export(base / "export"), make_files(base / "files")
    quiet = Reporter(stream=open(os.devnull, "w"), interactive=False)  # noqa: SIM115 - for the module
    clean_archive, clean_files = base / "clean_archive", base / "clean_files"
    done = import_archive(export, clean_archive, quiet, clock=FakeClock(NOW), workers=1)
    assert done.files_parsed == ROWS and done.batches == 1
    done = import_files([folder], clean_files, quiet, clock=FakeClock(NOW), workers=1)
    assert done.new + done.duplicates + sum(done.skipped.values()) == ROWS and done.new > ROWS // 2, done.lines()
    return {
        "archive": (export, snapshot(clean_archive)),
        "files": (folder, snapshot(clean_files)),
    }


@pytest.mark.parametrize(("kind", "seed"), [("archive", 1), ("files", 3)])
def test_a_kill_costs_at_most_the_file_being_parsed(sources, tmp_path, kind, seed):
    source, reference = sources[kind]
    data_dir = tmp_path / "data"
    result = kill_chain(kind, source, data_dir, seed)
    print(f"{kind} seed {seed}: {result}")
    assert result["files"] == ROWS
    assert result["repeated"] <= len(result["kills"]), result
    assert snapshot(data_dir) == reference
    spool = importer.SPOOL_FILE if kind == "archive" else fileimport.SPOOL_FILE
    assert not (data_dir / spool).exists()  # a completed run leaves no parse results behind


def test_the_spool_gives_back_what_the_parser_gave_and_survives_damage(tmp_path):
    from strava_pipeline.archive.parse_spool import ParseSpool, parse_key
    from strava_pipeline.archive.tracks import parse_track

    path = FILES / "fit" / "garmin-fenix-5-run.fit"
    data = path.read_bytes()
    track = parse_track(data, path.name)
    key = parse_key(data, path.name, False, [])
    assert key != parse_key(data, path.name, True, []) != parse_key(data + b"\0", path.name, False, [])
    spool = ParseSpool(tmp_path / "data" / "spool.sqlite")
    assert spool.get(key) is None and not spool.path.exists()  # nothing is created to answer "no"
    spool.put(key, "fit", track)
    assert spool.path.stat().st_mode & 0o777 == 0o600  # the athlete's tracks
    spool.close()
    fmt, back = ParseSpool(spool.path).get(key)
    assert fmt == "fit" and back.table.equals(track.table) and back.table.schema == track.table.schema
    for name in ("start_time_utc", "sport", "device", "warnings", "damaged", "utc_offset_s", "summary"):
        assert getattr(back, name) == getattr(track, name), name
    spool = ParseSpool(spool.path)
    spool.discard([key])
    assert spool.get(key) is None
    spool.close()
    spool.path.write_bytes(b"SQLite format 3\x00" + b"\x13" * 5000)  # damaged: costs parses, nothing else
    spool = ParseSpool(spool.path)
    assert spool.get(key) is None
    spool.put(key, None, track)
    assert spool.get(key)[1].table.equals(track.table)
    spool.clear()
    assert list(spool.path.parent.iterdir()) == []
