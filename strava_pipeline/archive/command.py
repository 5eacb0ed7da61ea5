"""`strava.py import PATH...` (and the older `import-archive PATH`): exports and device files, no API needed.

Each PATH is a Strava bulk export (.zip or unpacked folder), or FIT/GPX/TCX files, .gz of them, folders or zips of
them (a Garmin Connect export, a Wahoo, Zwift or COROS folder). `import --inbox` imports what waits in
<data dir>/inbox/ instead. Like `strava.py` after an API import, a finished import goes on with the rest of the job
(dbt build, reports, tiles, map: chain.run_steps) unless --import-only.
"""

import argparse
from pathlib import Path

from strava_pipeline.config import UserError
from strava_pipeline.progress import Reporter

# plain-output progress: a line per this many activities (an archive has thousands)
PROGRESS_EVERY = 100

_ARCHIVE_DESCRIPTION = (
    "Import the archive Strava sends from Settings > My Account > Download or Delete Your Account "
    "(activities.csv and the GPX/FIT/TCX files in activities/) into the warehouse, source "
    "'archive'. Rows and streams the API already supplied are kept; streams the archive supplies "
    "are not fetched again by later API runs. Importing the same archive again changes nothing; "
    "after a Ctrl-C, run it again to finish."
)


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "import",
        help="import Strava exports and device files (FIT, GPX, TCX; .gz, folders, zips): no API requests",
        description="Import each PATH: a Strava bulk export (.zip or the folder it was unpacked into, source "
        "'archive'), or activity files from a device or another app (FIT, GPX, TCX, gzipped or not, folders "
        "and zips of them; source 'file'). One activity per recording: a file that is an activity already "
        "loaded (same start within a minute, compatible sport) only fills in its streams if it has none; API "
        "data wins over archive data, archive data over file data. With --inbox, imports what waits in "
        "<data dir>/inbox/ and moves it to inbox/done/ (or inbox/failed/ with a .why.txt).",
    )
    parser.add_argument("paths", metavar="PATH", nargs="*", help="an export, a device file, a folder or a zip")
    parser.add_argument(
        "--inbox", action="store_true", help="import what waits in <data dir>/inbox/ (files still being copied wait)"
    )
    _import_only_option(parser)
    parser.set_defaults(run=run_import)
    legacy = commands.add_parser(
        "import-archive",
        help="import your Strava bulk-export archive (.zip or unpacked folder): your whole history, no API requests",
        description=_ARCHIVE_DESCRIPTION,
    )
    legacy.add_argument(
        "path", metavar="PATH", help="the export .zip as downloaded from Strava, or the folder it was unpacked into"
    )
    _import_only_option(legacy)
    legacy.set_defaults(run=run)


def _import_only_option(parser) -> None:
    parser.add_argument(
        "--import-only",
        action="store_true",
        # absent here must not undo `strava.py --import-only import ...` (a subcommand's defaults win in argparse)
        default=argparse.SUPPRESS,
        help="load only; without it the import goes on with dbt build, the reports, the tiles and the map",
    )


def _and_the_rest(args: argparse.Namespace, ctx, code: int) -> int:
    """After an import that finished: dbt build, reports, tiles and map, as `strava.py` runs them after an API import
    (exit code of the first step that failed; the import is kept whatever happens after it)."""
    if code != 0 or args.import_only:
        return code
    from strava_pipeline.chain import run_steps

    try:
        return run_steps(ctx)
    except KeyboardInterrupt:
        print("Stopped by Ctrl-C: the import is saved; run the same command again to build the rest.", file=ctx.err)
        return 130


def _interrupted(ctx) -> int:
    # a second Ctrl-C while a batch was being committed: dlt finishes that package on the next run
    print(
        "Stopped by Ctrl-C: the batches committed so far are kept; run the same command again to finish.",
        file=ctx.err,
        flush=True,
    )
    return 130


def run(args: argparse.Namespace, ctx) -> int:
    """`import-archive PATH`: one Strava export."""
    from strava_pipeline.archive.importer import import_archive
    from strava_pipeline.archive.reader import ArchiveError

    reporter = Reporter(stream=ctx.out, clock=ctx.clock, every=PROGRESS_EVERY)
    try:
        summary = import_archive(args.path, ctx.data_dir, reporter, clock=ctx.clock, athlete_id=args.athlete)
    except ArchiveError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        return _interrupted(ctx)
    for line in summary.lines():
        print(line, file=ctx.out, flush=True)
    return _and_the_rest(args, ctx, 130 if summary.interrupted else 0)


def run_import(args: argparse.Namespace, ctx) -> int:
    """`import PATH... | --inbox`: exports first (so files find their activities), then every device file at once."""
    from strava_pipeline.archive.fileimport import find_files, import_files
    from strava_pipeline.archive.importer import import_archive
    from strava_pipeline.archive.reader import ArchiveError, open_archive

    if args.inbox:
        return _run_inbox(args, ctx)
    if not args.paths:
        raise UserError("Pass what to import (a Strava export, FIT/GPX/TCX files or folders of them), or --inbox.")
    exports: list[str] = []
    device: list[str] = []
    try:
        for raw in args.paths:
            if not Path(raw).expanduser().exists():
                raise ArchiveError(
                    f"{raw} does not exist: pass a Strava export (.zip or folder), FIT/GPX/TCX files, or folders "
                    "or zips of them."
                )
            try:
                open_archive(raw).close()
                exports.append(raw)
            except ArchiveError:
                device.append(raw)
        # every path is checked before anything is written: nothing importable anywhere ends here
        refs, ignored = find_files(device) if device else ([], 0)
        if device and not refs:
            raise ArchiveError(
                f"{', '.join(device)}: no Strava export and no FIT, GPX or TCX file there; nothing was imported."
            )
    except ArchiveError as exc:
        raise UserError(str(exc)) from None
    reporter = Reporter(stream=ctx.out, clock=ctx.clock, every=PROGRESS_EVERY)
    interrupted = False
    try:
        for path in exports:
            try:
                summary = import_archive(
                    path, ctx.data_dir, reporter, clock=ctx.clock, holder="strava.py import", athlete_id=args.athlete
                )
            except ArchiveError as exc:
                raise UserError(str(exc)) from None
            for line in summary.lines():
                print(line, file=ctx.out, flush=True)
            if summary.interrupted:
                return 130
        if refs:
            files = import_files(device, ctx.data_dir, reporter, clock=ctx.clock, refs=refs, athlete_id=args.athlete)
            files.ignored = ignored
            for line in files.lines():
                print(line, file=ctx.out, flush=True)
            interrupted = files.interrupted
    except KeyboardInterrupt:
        return _interrupted(ctx)
    return _and_the_rest(args, ctx, 130 if interrupted else 0)


def _run_inbox(args, ctx) -> int:
    from strava_pipeline.archive.inbox import import_inbox, inbox_dir

    if args.paths:
        raise UserError("Pass either paths or --inbox, not both.")
    inbox = inbox_dir(ctx.data_dir)
    if not inbox.is_dir():
        inbox.mkdir(parents=True, exist_ok=True)
        print(f"The inbox {inbox} was empty (created it): drop exports or activity files there.", file=ctx.out)
        return 0
    reporter = Reporter(stream=ctx.out, clock=ctx.clock, every=PROGRESS_EVERY)
    try:
        items = import_inbox(ctx.data_dir, reporter, clock=ctx.clock, athlete_id=args.athlete)
    except KeyboardInterrupt:
        return _interrupted(ctx)
    if not items:
        print(f"Nothing waits in {inbox}.", file=ctx.out)
    summaries = []
    for item in items:
        line = f"{item.name}: {item.status}"
        if item.status == "failed":
            line += f" ({item.error}); moved to {item.path}"
        elif item.status == "waiting":
            line += " (still being copied; the next run takes it)"
        print(line, file=ctx.out, flush=True)
        if item.summary is not None and all(item.summary is not s for s in summaries):
            summaries.append(item.summary)
    for summary in summaries:
        for line in summary.lines():
            print(line, file=ctx.out, flush=True)
    if any(i.status == "interrupted" for i in items):
        return 130
    return _and_the_rest(args, ctx, 0) if any(i.status == "imported" for i in items) else 0
