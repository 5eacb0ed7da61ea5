"""Archive import speed (activities and stream points per second) and the API requests the import saves.

Run: uv run python benchmarks/bench_archive.py [--limit N] [--reps 3]

Two archives, both made of the real files in ../shared/strava-reference/files (env STRAVA_REFERENCE_DIR overrides):
  sample  = sample_export.zip as it is (12 activities, FIT/GPX/TCX, gzipped, one damaged, one missing)
  history = a folder assembled in a temp dir: the real activities.csv (1,845 rows) with the 19 reference GPX/FIT/TCX
            files reused in turn under its Filename paths (gzipped where the name ends in .gz); --limit N keeps
            the first N rows
Each is imported into a fresh warehouse through strava_pipeline.archive.importer.import_archive (the same code as
`strava.py import-archive`, batches of 200 activities / 500k points); the history is imported a second time into
the same warehouse (re-import: nothing to change). Then the requests the same history costs through the API (list
pages + detail + streams) and the days that takes at 1,000 reads a day.

The parse-only floor: the same files parsed in the same process pool with nothing loaded (read, gunzip, parse). The
first import's time over that floor says what loading adds; the re-import's over the first import says what a
re-import of an unchanged archive saves (target: under a tenth).
"""

import argparse
import gzip
import io
import os
import shutil
import tempfile
import time
from pathlib import Path

from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.importer import API_READS_PER_DAY, ImportSummary, default_workers, import_archive
from strava_pipeline.config import warehouse_path
from strava_pipeline.progress import Reporter

REFERENCE = Path(
    os.environ.get("STRAVA_REFERENCE_DIR") or Path(__file__).resolve().parents[2] / "shared" / "strava-reference"
)
FILES = REFERENCE / "files"
TRACK_DIRS = ("fit", "gpx", "tcx")


def assemble_history(target: Path, limit: int | None = None) -> tuple[int, int]:
    """The real activities.csv plus the reference track files under its Filename paths; returns (rows, files)."""
    target.mkdir(parents=True)
    csv_bytes = (FILES / "activities.csv").read_bytes()
    if limit is not None:
        lines = csv_bytes.split(b"\n")  # one line per row in this file (NOTES.md: no embedded newlines)
        csv_bytes = b"\n".join(lines[: limit + 1]) + b"\n"
    (target / "activities.csv").write_bytes(csv_bytes)
    tracks = [p.read_bytes() for d in TRACK_DIRS for p in sorted((FILES / d).iterdir())]
    rows = parse_activities_csv(csv_bytes).rows
    files = 0
    for i, row in enumerate(rows):
        if not row["filename"]:
            continue
        data = tracks[i % len(tracks)]
        path = target / row["filename"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
        files += 1
    return len(rows), files


def _parse_one(path: str) -> int:
    from strava_pipeline.archive.reader import gunzip
    from strava_pipeline.archive.tracks import parse_track

    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gunzip(data)[0]
    return parse_track(data, path).points


def parse_floor(folder: Path, workers: int) -> tuple[float, int]:
    """Seconds to parse every activity file under folder in a pool of `workers` processes, and the points."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    paths = sorted(str(p) for p in (folder / "activities").rglob("*") if p.is_file())
    started = time.perf_counter()
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        points = sum(pool.map(_parse_one, paths, chunksize=8))
    return time.perf_counter() - started, points


def timed_import(path: Path, data_dir: Path, workers: int | None = None) -> ImportSummary:
    return import_archive(path, data_dir, Reporter(stream=io.StringIO(), interactive=False), workers=workers)


def rate(n: float, seconds: float) -> str:
    return f"{n / seconds:,.0f}/s" if seconds > 0 else "n/a"


def report(label: str, s: ImportSummary) -> None:
    print(
        f"{label:<46} {s.activities:>6,} activities {s.points:>10,} points {s.seconds:7.1f} s  "
        f"{rate(s.activities, s.seconds):>9} activities  {rate(s.points, s.seconds):>11} points  "
        f"(parse {s.parse_seconds:.1f} CPU s"
        + (f" = {s.points / s.parse_seconds:,.0f} points per CPU second" if s.parse_seconds else "")
        + "; "
        f"load {s.load_seconds:.1f} s in {s.batches} batches)",
        flush=True,
    )


def load_average() -> str:
    # the figures above are wall-clock: on a shared machine they move with what else runs
    return "load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} CPUs"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=int, help="use the first N rows of activities.csv for the history archive")
    ap.add_argument("--reps", type=int, default=3, help="imports of sample_export.zip (best one reported)")
    ap.add_argument("--workers", type=int, help="parser processes (default: one per CPU, as the command line)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench_archive_"))
    print(f"({load_average()} at the start)")
    try:
        best = None
        for rep in range(args.reps):
            s = timed_import(FILES / "sample_export.zip", work / f"sample{rep}")
            best = s if best is None or s.seconds < best.seconds else best
        report("sample_export.zip", best)

        started = time.perf_counter()
        rows, files = assemble_history(work / "history", args.limit)
        print(f"(history folder assembled: {rows:,} rows, {files:,} files in {time.perf_counter() - started:.1f} s)")
        workers = args.workers or default_workers()
        floor_s, floor_points = parse_floor(work / "history", workers)
        print(
            f"{'history (parse only, no load: the floor)':<46} {floor_points:>10,} points {floor_s:7.1f} s  "
            f"{rate(floor_points, floor_s):>11} points",
            flush=True,
        )
        first = timed_import(work / "history", work / "data", args.workers)
        report(f"history (first import, {workers} parser process(es))", first)
        again = timed_import(work / "history", work / "data", args.workers)
        report("history (re-import)", again)
        print(
            f"first import / parse-only floor = {first.seconds / floor_s:.2f}x; "
            f"re-import / first import = {again.seconds / first.seconds:.3f}"
        )
        size = warehouse_path(work / "data")
        if size.exists():
            print(f"warehouse after both: {size.stat().st_size / 1e6:,.0f} MB")

        c = first.cost
        print()
        print(f"The same history through the API ({first.activities:,} activities, {c.streams:,} with a file):")
        print(
            f"  list pages {c.list_pages:,} + detail {c.detail:,} + streams {c.streams:,} = {c.total:,} requests "
            f"= {c.days():,} days at {API_READS_PER_DAY:,} reads a day"
        )
        saved = c.list_pages + first.stream_activities
        print(
            f"  the import supplied the list and {first.stream_activities:,} activities' streams: {saved:,} "
            f"requests ({-(-saved // API_READS_PER_DAY):,} days) the API no longer needs; detail ({c.detail:,}) "
            "is still queued for the API (laps, best efforts, splits are not in the archive)"
        )
        print(f"  archive import: {first.seconds / 60:.1f} minutes")
        print(f"({load_average()} at the end)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
