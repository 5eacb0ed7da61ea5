"""Result types shared by the archive parsers: CsvResult, TrackResult and the per-point track schema."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa

from strava_pipeline import settings

# Columns the archive itself cannot know: the caller fills them when the track joins activity_streams.
CALLER_COLUMNS = ("athlete_id", "activity_id", "source")

# STREAM_SCHEMA in the same order, minus the caller's columns: what every parse_<fmt> returns.
TRACK_SCHEMA = pa.schema([f for f in settings.STREAM_SCHEMA if f.name not in CALLER_COLUMNS])


@dataclass
class CsvResult:
    """Rows of activities.csv as raw `activities` dicts (API field names), and what looked wrong."""

    rows: list[dict]
    warnings: list[str] = field(default_factory=list)
    # (activity id, column as the file names it, raw value) of every value that could not be read; the raw
    # value is also kept in the row's archive_fields under 'unreadable'
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)
    # how the file was read, for the summary: layout, language, date locale, decimal symbol
    layout: str = ""
    # set when the file is no activities.csv that can be read (unknown layout, empty): one sentence
    error: str | None = None


@dataclass
class TrackResult:
    """One activity file as a stream table (TRACK_SCHEMA) plus what the file says about itself.

    start_time_utc is the instant of `time == 0` (the earliest plausible point time), so
    start_time_utc + time gives each point's UTC time. damaged means the file could not be read
    to its end (the table holds what came before the damage) or was not a file of that format.
    utc_offset_s is the local-time offset in seconds when the file states one credibly (FIT
    activity.local_timestamp); the CSV has no local time, so this is the only source of it.
    summary holds the totals the file itself declares (FIT session, TCX laps) under the API's field
    names (distance, moving_time, elapsed_time, total_elevation_gain, average_heartrate, calories...);
    empty when the file declares none (GPX), then they are computed from the points.
    """

    table: pa.Table
    start_time_utc: datetime | None = None
    sport: str | None = None
    device: str | None = None
    warnings: list[str] = field(default_factory=list)
    damaged: bool = False
    utc_offset_s: float | None = None
    summary: dict = field(default_factory=dict)

    @property
    def points(self) -> int:
        return self.table.num_rows

    @property
    def gps_points(self) -> int:
        return self.table.num_rows - self.table.column("lat").null_count


def empty_track_table() -> pa.Table:
    return TRACK_SCHEMA.empty_table()


def failed(warning: str, **kwargs) -> TrackResult:
    """A parse that produced nothing: empty table, damaged, one warning (never an exception)."""
    return TrackResult(table=empty_track_table(), damaged=True, warnings=[warning], **kwargs)


def to_stream_table(track: pa.Table, activity_id: int, athlete_id: int | None, source: str = "archive") -> pa.Table:
    """Add the caller's columns to a TRACK_SCHEMA table, giving a settings.STREAM_SCHEMA table."""
    n = track.num_rows
    extra = {
        "athlete_id": pa.array(np.full(n, athlete_id, dtype=np.int64))
        if athlete_id is not None
        else pa.nulls(n, pa.int64()),
        "activity_id": pa.array(np.full(n, activity_id, dtype=np.int64)),
        "source": pa.array([source] * n, type=pa.string()),
    }
    columns = [extra[f.name] if f.name in extra else track.column(f.name) for f in settings.STREAM_SCHEMA]
    return pa.Table.from_arrays(columns, schema=settings.STREAM_SCHEMA)
