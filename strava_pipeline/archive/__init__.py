"""Strava's bulk-export archive and loose device files: parsers for activities.csv and GPX/FIT/TCX tracks, the dlt
source `strava_archive` and the import runs (import_archive, import_files, import_inbox) that load them."""

from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.fileimport import FileImportSummary, import_files
from strava_pipeline.archive.fit import parse_fit
from strava_pipeline.archive.gpx import parse_gpx
from strava_pipeline.archive.importer import ImportSummary, import_archive
from strava_pipeline.archive.inbox import InboxItem, import_inbox
from strava_pipeline.archive.reader import Archive, ArchiveError, MemberBytes, gunzip, open_archive
from strava_pipeline.archive.source import strava_archive
from strava_pipeline.archive.tcx import parse_tcx
from strava_pipeline.archive.tracks import detect_format, parse_track
from strava_pipeline.archive.types import TRACK_SCHEMA, CsvResult, TrackResult, to_stream_table

__all__ = [
    "Archive",
    "ArchiveError",
    "CsvResult",
    "FileImportSummary",
    "ImportSummary",
    "InboxItem",
    "MemberBytes",
    "TRACK_SCHEMA",
    "TrackResult",
    "detect_format",
    "gunzip",
    "import_archive",
    "import_files",
    "import_inbox",
    "open_archive",
    "parse_activities_csv",
    "parse_fit",
    "parse_gpx",
    "parse_tcx",
    "parse_track",
    "strava_archive",
    "to_stream_table",
]
