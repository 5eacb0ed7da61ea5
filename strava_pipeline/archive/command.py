"""`strava.py import-archive PATH`: load a Strava bulk-export archive (.zip or unpacked folder) without the API."""

import argparse

from strava_pipeline.archive.importer import import_archive
from strava_pipeline.archive.reader import ArchiveError
from strava_pipeline.config import UserError
from strava_pipeline.progress import Reporter

# plain-output progress: a line per this many activities (an archive has thousands)
PROGRESS_EVERY = 100


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "import-archive",
        help="import your Strava bulk-export archive (.zip or unpacked folder): your whole history, no API requests",
        description="Import the archive Strava sends from Settings > My Account > Download or Delete Your Account "
        "(activities.csv and the GPX/FIT/TCX files in activities/) into the warehouse, source "
        "'archive'. Rows and streams the API already supplied are kept; streams the archive supplies "
        "are not fetched again by later API runs. Importing the same archive again changes nothing; "
        "after a Ctrl-C, run it again to finish.",
    )
    parser.add_argument(
        "path", metavar="PATH", help="the export .zip as downloaded from Strava, or the folder it was unpacked into"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, ctx) -> int:
    reporter = Reporter(stream=ctx.out, clock=ctx.clock, every=PROGRESS_EVERY)
    try:
        summary = import_archive(args.path, ctx.data_dir, reporter, clock=ctx.clock)
    except ArchiveError as exc:
        raise UserError(str(exc)) from None
    except KeyboardInterrupt:
        # a second Ctrl-C while a batch was being committed: dlt finishes that package on the next run
        print(
            "Stopped by Ctrl-C: the batches committed so far are kept; run the same command again to finish.",
            file=ctx.err,
            flush=True,
        )
        return 130
    for line in summary.lines():
        print(line, file=ctx.out, flush=True)
    return 130 if summary.interrupted else 0
