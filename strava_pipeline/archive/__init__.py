"""Parsers for Strava's bulk-export archive: activities.csv rows and GPX/FIT/TCX tracks, no I/O beyond the archive."""

from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.fit import parse_fit
from strava_pipeline.archive.gpx import parse_gpx
from strava_pipeline.archive.reader import Archive, ArchiveError, MemberBytes, gunzip, open_archive
from strava_pipeline.archive.tcx import parse_tcx
from strava_pipeline.archive.tracks import detect_format, parse_track
from strava_pipeline.archive.types import TRACK_SCHEMA, CsvResult, TrackResult, to_stream_table

__all__ = [
    "Archive",
    "ArchiveError",
    "CsvResult",
    "MemberBytes",
    "TRACK_SCHEMA",
    "TrackResult",
    "detect_format",
    "gunzip",
    "open_archive",
    "parse_activities_csv",
    "parse_fit",
    "parse_gpx",
    "parse_tcx",
    "parse_track",
    "to_stream_table",
]
