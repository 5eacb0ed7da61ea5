"""Parse the export's activities.csv, in any layout and language, into rows of the raw `activities` table.

What the real files taught (reference NOTES.md section 1, EXPORT-LAYOUTS.md):
- Strava writes the file in the account's language (headers, dates, decimal symbols, activity types), and the
  column ORDER of a layout is the same in every language. csv_header.read_header names the columns in English
  (by vocabulary, else by position in a known layout); locales.py reads the dates and numbers with CLDR data.
- Five names appear twice (Elapsed Time, Distance, Max Heart Rate, Relative Effort, Commute). The
  second copy is the precise one (float seconds, metres, numeric 0/1) and is used first; the
  first copy (integer seconds, rounded display distance, text true/false) is the fallback.
  The display Distance is km, metres for swims (`1,250`, `1.050` in Italian) and nautical miles for Sail.
- The summary columns (up to Filename) use the language's decimal symbol (`12,34` in Italian), the detail columns
  after it are plain floats (`13609.2001953125`); each column's symbol is read from its values where they tell.
- 'Activity Date' is in UTC with no zone marker. The local start time is not in the file, so
  start_date_local and utc_offset are None.
- Empty and "" fields are None; float32 noise (12.600000381469727) is kept as it is. A value that cannot be read
  is never dropped silently: it is kept raw in the row (archive_fields 'unreadable') and listed in the result.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from babel import Locale

from strava_pipeline.archive.csv_header import Header, UnknownLayout, clean_header, describe, read_header
from strava_pipeline.archive.locales import (
    STRAVA_LOCALES,
    choose_date_locale,
    column_decimal,
    date_reader,
    decimal_symbol,
    parse_number,
)
from strava_pipeline.archive.localized_sports import localized_sport
from strava_pipeline.archive.sport_types import sport_and_type
from strava_pipeline.archive.types import CsvResult

__all__ = ["clean_header", "parse_activities_csv", "parse_date"]

M_PER_KM = 1000.0
M_PER_NAUTICAL_MILE = 1852.0
M_PER_MILE = 1609.344
ISO_Z = "%Y-%m-%dT%H:%M:%SZ"

# how many dates decide the file's date locale, and what share of them a header read by position alone must
# parse (with ids that are numbers) before its values are trusted
DATE_SAMPLES = 200
POSITION_ONLY_MIN_SHARE = 0.5

_TRUE = {"true", "1", "1.0", "yes", "y", "t"}
_FALSE = {"false", "0", "0.0", "no", "n", "f"}

# Most rows are fine; per-row problems are grouped by kind and reported with a few example ids.
_MAX_EXAMPLE_IDS = 5
# key in a row (and so in archive_fields) holding the raw values that could not be read: {column: value}
UNREADABLE_KEY = "unreadable"


def parse_date(value: str | None, locale: str = "en_US") -> str | None:
    """An Activity Date -> 'YYYY-MM-DDTHH:MM:SSZ' (UTC, as the API writes start_date), or None.

    Reads the locale's medium format (default English: "Oct 5, 2014, 4:15:21 PM"), the day-first English form
    ("5 Oct 2014, 16:15:21") and ISO 8601."""
    for loc in dict.fromkeys((locale, "en_GB")):
        dt = date_reader(loc).parse(value)
        if dt is not None:
            return dt.strftime(ISO_Z)
    return None


class _Problems:
    """Collects per-row problems by kind so a bad file gives a few lines, not thousands."""

    def __init__(self):
        self.by_kind: dict[str, list] = defaultdict(list)
        self.unreadable: list[tuple[int, str, str]] = []

    def add(self, kind: str, row_id) -> None:
        self.by_kind[kind].append(row_id)

    def lines(self) -> list[str]:
        out = []
        for kind, ids in self.by_kind.items():
            shown = ", ".join(str(i) for i in ids[:_MAX_EXAMPLE_IDS])
            more = ", ..." if len(ids) > _MAX_EXAMPLE_IDS else ""
            out.append(f"{kind}: {len(ids)} row{'s' if len(ids) != 1 else ''} (id {shown}{more})")
        by_column: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for row_id, column, value in self.unreadable:
            by_column[column].append((row_id, value))
        for column, items in by_column.items():
            shown = ", ".join(f"{i} {v!r}" for i, v in items[:_MAX_EXAMPLE_IDS])
            more = ", ..." if len(items) > _MAX_EXAMPLE_IDS else ""
            out.append(
                f"unreadable {column!r} kept raw in archive_fields: {len(items)} row{'s' if len(items) != 1 else ''}"
                f" (id {shown}{more})"
            )
        return out


def _bool(value: str) -> bool:
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(value)


def _preferred_locales(language: str | None) -> tuple[str, ...]:
    if language is None:
        return ()
    return tuple(loc for loc in STRAVA_LOCALES if loc.split("_")[0] == language)


class _File:
    """One activities.csv: its header, its rows, and how its dates and numbers are written."""

    def __init__(self, header: Header, body: list[tuple[int, list[str]]]):
        self.header = header
        self.body = body
        date_pos = (header.copies("Activity Date") or [None])[0]
        samples = []
        if date_pos is not None:
            for _line, cells in body:
                if date_pos < len(cells) and cells[date_pos].strip():
                    samples.append(cells[date_pos])
                    if len(samples) >= DATE_SAMPLES:
                        break
        preferred = _preferred_locales(header.language)
        locale, self.dates_read = choose_date_locale(samples, preferred) if samples else (None, 0)
        self.date_samples = len(samples)
        self.locale = locale or (preferred[0] if preferred else "en_US")
        self.dates = date_reader(self.locale)
        self.decimal = decimal_symbol(self.locale)
        # the account's language: the header's, or the dates' when the header was left in English (a Portuguese
        # account's export with untranslated headers writes Portuguese dates and activity types)
        self.language = self.locale.split("_")[0] if header.language in (None, "en") else header.language
        self.summary_end = (header.copies("Filename") or [len(header.names) - 1])[0]
        self._decimals: dict[int, str] = {}

    def decimal_at(self, pos: int) -> str:
        """The decimal symbol of column pos (cached): its values decide, else the block it belongs to."""
        if pos not in self._decimals:
            default = self.decimal if pos <= self.summary_end else "."
            values = (cells[pos] for _line, cells in self.body if pos < len(cells))
            self._decimals[pos] = column_decimal(values, default)
        return self._decimals[pos]

    def check_position_only(self) -> str | None:
        """A header with no known cell was read by position alone: its ids and dates must look like Strava's."""
        if not self.header.by_position or self.header.recognised:
            return None
        id_pos = self.header.copies("Activity ID")[0]
        ids = [cells[id_pos].strip() for _line, cells in self.body[:DATE_SAMPLES] if id_pos < len(cells)]
        numeric = sum(1 for v in ids if v.isdigit())
        if not ids or numeric < 0.9 * len(ids) or self.dates_read < POSITION_ONLY_MIN_SHARE * self.date_samples:
            return describe(self.header.cells)
        return None

    def describe_reading(self) -> str:
        lang = self.header.language
        name = Locale.parse(lang).english_name if lang else "unrecognised"
        return (
            f"{len(self.header.cells)} columns read {self.header.how}; {name} header; dates read as "
            f"{self.locale} ({self.dates_read} of {self.date_samples} sampled); decimal symbol {self.decimal!r} "
            "in the summary columns"
        )


def _delimiter(text: str) -> str:
    """',' as Strava writes it; ';' or a tab when a spreadsheet saved the file again in a language whose decimal
    symbol is the comma (the header line decides: it never holds a separator inside a cell)."""
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > counts[","] else ","


def _fail(message: str, warnings: list[str]) -> CsvResult:
    return CsvResult(rows=[], warnings=[message, *warnings], error=message)


def parse_activities_csv(data: bytes) -> CsvResult:
    """activities.csv bytes -> CsvResult(rows, warnings, unreadable, layout, error). Never raises for bad data."""
    warnings: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # not what Strava writes; cp1252 is what a spreadsheet round-trip on Windows produces
        text = data.decode("cp1252", errors="replace")
        warnings.append("activities.csv is not UTF-8; read as cp1252")
    delimiter = _delimiter(text)
    if delimiter != ",":
        warnings.append(f"activities.csv is separated by {delimiter!r}, not ','; read as such")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header_cells = next(reader)
    except StopIteration:
        return _fail("activities.csv is empty", warnings)
    except csv.Error as exc:
        return _fail(f"activities.csv header cannot be read ({exc})", warnings)
    try:
        header = read_header(header_cells)
    except UnknownLayout as exc:
        return _fail(str(exc), warnings)

    body: list[tuple[int, list[str]]] = []
    line = 1
    try:
        for cells in reader:
            line += 1
            if cells and any(c.strip() for c in cells):
                body.append((line, cells))
    except csv.Error as exc:
        warnings.append(f"activities.csv cannot be read past line {line} ({exc}); kept the {len(body)} rows before")
    file = _File(header, body)
    error = file.check_position_only()
    if error:
        return _fail(error, warnings)

    unmapped = [c for c, n in zip(header.cells, header.names) if c and (not n or n.lower() not in _KNOWN)]
    if unmapped:
        # new columns are normal (exports grow); note them so a useful one can be mapped later
        warnings.append(f"columns not mapped: {', '.join(unmapped)}")

    problems = _Problems()
    rows: list[dict] = []
    seen: set[int] = set()
    width = len(header.names)
    for line, cells in body:
        if len(cells) != width:
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]  # a trailing separator
            else:
                problems.add(f"rows with {len(cells)} fields instead of {width} (padded or cut)", f"line {line}")
                cells = (cells + [""] * width)[:width]
        row = _RowReader(file, cells, problems).row(line)
        if row is None:
            continue
        if row["id"] in seen:
            problems.add("duplicate Activity ID, later row dropped", row["id"])
            continue
        seen.add(row["id"])
        rows.append(row)
    return CsvResult(
        rows=rows,
        warnings=warnings + problems.lines(),
        unreadable=problems.unreadable,
        layout=file.describe_reading(),
    )


class _RowReader:
    """Reads one row's cells into an `activities` dict, recording every value it cannot read."""

    def __init__(self, file: _File, cells: list[str], problems: _Problems):
        self.file, self.header, self.cells, self.problems = file, file.header, cells, problems
        self.activity_id: int | None = None
        self.unreadable: dict[str, str] = {}

    def cell(self, pos: int | None) -> str | None:
        if pos is None or pos >= len(self.cells):
            return None
        value = self.cells[pos].strip()
        return value or None

    def bad(self, pos: int, value: str) -> None:
        column = self.header.cells[pos] or self.header.names[pos]
        self.unreadable.setdefault(column, value)
        self.problems.unreadable.append((self.activity_id, column, value))

    def convert(self, pos: int | None, fn: Callable[[str, int], Any]) -> Any:
        value = self.cell(pos)
        if value is None:
            return None
        try:
            return fn(value, pos)
        except (ValueError, OverflowError):
            self.bad(pos, value)
            return None

    def read(self, name: str, fn: Callable[[str, int], Any] | None = None) -> Any:
        """The last copy of the column that reads (the precise one when a name appears twice); the copies that
        do not read are recorded."""
        fn = fn or self.number
        for pos in reversed(self.header.copies(name)):
            x = self.convert(pos, fn)
            if x is not None:
                return x
        return None

    def text(self, name: str, first: bool = False) -> str | None:
        positions = self.header.copies(name)
        if not positions:
            return None
        if first:
            return self.cell(positions[0])
        for pos in reversed(positions):
            if self.cell(pos) is not None:
                return self.cell(pos)
        return None

    def number(self, value: str, pos: int) -> float | None:
        return parse_number(value, self.file.decimal_at(pos))

    def integer(self, value: str, pos: int) -> int | None:
        x = self.number(value, pos)
        return None if x is None else int(round(x))

    def flag(self, value: str, _pos: int) -> bool:
        return _bool(value)

    def gear(self, prefix: str) -> Callable[[str, int], str | None]:
        # 'Bike' holds bike ids as floats ("5858926.0"); the API writes gear ids as b<id> for bikes
        # and g<id> for shoes ('Gear' column, empty in the real file: inferred, not observed)
        def read(value: str, pos: int) -> str | None:
            x = self.number(value, pos)
            return None if x is None else f"{prefix}{int(x)}"

        return read

    def row(self, line: int) -> dict | None:
        raw_id = self.text("Activity ID")
        try:
            activity_id = int(raw_id) if raw_id and raw_id.isdigit() else int(parse_number(raw_id) or 0)
        except (TypeError, ValueError, OverflowError):
            activity_id = None
        if activity_id is None or not 0 < activity_id < 2**63:  # ids are positive int64
            self.problems.add("no usable Activity ID, row skipped", f"line {line}")
            return None
        self.activity_id = activity_id

        sport_type, legacy_type = self.sport()
        date_pos = (self.header.copies("Activity Date") or [None])[0]
        start = self.convert(date_pos, lambda v, _p: _required(self.file.dates.parse(v)))
        moving_time = self.read("Moving Time", self.integer)
        average_watts = self.read("Average Watts")
        row = {
            "id": activity_id,
            "name": self.text("Activity Name", first=True),
            "type": legacy_type,
            "sport_type": sport_type,
            "start_date": start.strftime(ISO_Z) if start else None,
            "start_date_local": None,  # not in the export
            "utc_offset": None,  # not in the export
            "distance": self.distance(sport_type),
            "moving_time": moving_time,
            "elapsed_time": self.elapsed(),
            "total_elevation_gain": self.read("Elevation Gain"),
            "elev_high": self.read("Elevation High"),
            "elev_low": self.read("Elevation Low"),
            "max_speed": self.read("Max Speed"),
            "average_speed": self.read("Average Speed"),
            "average_heartrate": self.read("Average Heart Rate"),
            "max_heartrate": self.read("Max Heart Rate"),
            "average_cadence": self.read("Average Cadence"),
            "average_watts": average_watts,
            "weighted_average_watts": self.read("Weighted Average Power"),
            "max_watts": self.read("Max Watts"),
            "kilojoules": _kilojoules(self.read("Total Work"), average_watts, moving_time),
            "calories": self.read("Calories"),
            "average_temp": self.read("Average Temperature"),
            "commute": self.read("Commute", self.flag),
            "private": None,  # not in the export
            "gear_id": self.read("Bike", self.gear("b")) or self.read("Gear", self.gear("g")),
            "suffer_score": self.read("Relative Effort"),
            "description": self.text("Activity Description", first=True),
            # export-only fields, snake_case of the CSV header
            "gear_name": self.text("Activity Gear"),
            "filename": self.text("Filename"),
            "perceived_exertion": self.read("Perceived Exertion"),
            "prefer_perceived_exertion": self.read("Prefer Perceived Exertion", self.flag),
            "max_grade": self.read("Max Grade"),
            "average_grade": self.read("Average Grade"),
            "elevation_loss": self.read("Elevation Loss"),
            "max_cadence": self.read("Max Cadence"),
            "max_temp": self.read("Max Temperature"),
            "number_of_runs": self.read("Number of Runs", self.integer),
            "total_steps": self.read("Total Steps", self.integer),
            "athlete_weight": self.read("Athlete Weight"),
            "from_upload": self.read("From Upload", self.flag),
            "grade_adjusted_distance": self.read("Grade Adjusted Distance"),
            "average_elapsed_speed": self.read("Average Elapsed Speed"),
            "dirt_distance": self.read("Dirt Distance"),
            "timer_time": self.read("Timer Time"),
            "total_weight_lifted": self.read("Total Weight Lifted"),
            "pool_length": self.read("Pool Length"),
            "media": self.text("Media"),
        }
        # the raw text of what could not be read, so nothing is lost: it ends up in archive_fields
        row[UNREADABLE_KEY] = self.unreadable or None
        return row

    def sport(self) -> tuple[str | None, str | None]:
        """(sport_type, legacy type) from 'Activity Type' (the 2023 export's 'Sport Type' when filled): English
        names, then the localized names of the header's language; an unknown name is recorded."""
        positions = self.header.copies("Sport Type") + self.header.copies("Activity Type")
        pos = next((p for p in positions if self.cell(p)), None)
        display = self.cell(pos)
        sport_type, legacy_type, known = sport_and_type(display)
        if known:
            return sport_type, legacy_type
        localized = localized_sport(display, self.file.language)
        if localized is not None:
            sport_type, legacy_type, _known = sport_and_type(localized)
            return sport_type, legacy_type
        if self.file.language == "en":
            # an English name Strava added after this table: its CamelCase is the enum value Strava gives it
            self.problems.add(f"unknown activity type {display!r} mapped to {sport_type!r}", self.activity_id)
            return sport_type, legacy_type
        self.bad(pos, display)
        return "Workout", "Workout"

    def elapsed(self) -> int | None:
        """Seconds from the float copy (second), else the integer copy; report copies that disagree."""
        parsed = [self.convert(pos, self.number) for pos in self.header.copies("Elapsed Time")]
        present = [x for x in parsed if x is not None]
        if not present:
            return None
        chosen = present[-1]
        if len(present) > 1 and abs(present[0] - chosen) > 1:
            # seen once (Hike 14827328714: 9550 vs 10744.0); the float copy matches 'Average
            # Elapsed Speed' there, so it is the one kept
            self.problems.add("the two Elapsed Time columns disagree; used the second (float) copy", self.activity_id)
        return int(round(chosen))

    def distance(self, sport_type: str | None) -> float | None:
        """Metres from the precise Distance copy; the display copy (km; metres for swims, nautical miles for Sail)
        is the fallback. A single Distance column is the display one, except in the oldest layout (metres) and
        when it sits after 'Filename' like the precise copy does."""
        positions = self.header.copies("Distance")
        if not positions:
            return None
        if len(positions) > 1:
            display_pos, metres_pos = positions[0], positions[-1]
        elif self.header.metres_distance or positions[0] > self.file.summary_end:
            display_pos, metres_pos = None, positions[0]
        else:
            display_pos, metres_pos = positions[0], None
        metres = self.convert(metres_pos, self.number)
        display = self.convert(display_pos, self.number)
        unit = _display_unit(sport_type)
        if metres is not None:
            if display is not None and not _display_matches(display, metres, unit):
                # seen once (Hike 14827328714: 3.80 vs 20195.8 m); the metres copy matches
                # 'Average Speed' x 'Moving Time' there, so it is the one kept
                self.problems.add("the two Distance columns disagree; used the metres copy", self.activity_id)
            return metres
        if display is None:
            return None
        if metres_pos is not None or len(positions) > 1:
            self.problems.add(
                "metres Distance empty; converted the display Distance (km; metres for swims, nautical miles for Sail)",
                self.activity_id,
            )
        return display * unit


def _required(value):
    if value is None:
        raise ValueError("unreadable")
    return value


def _display_unit(sport_type: str | None) -> float:
    """Metres per unit of the display Distance: km, but metres for swims and nautical miles for Sail."""
    if sport_type == "Sail":
        return M_PER_NAUTICAL_MILE
    if sport_type == "Swim":
        return 1.0
    return M_PER_KM


def _display_matches(display: float, metres: float, unit: float) -> bool:
    # rounded (km, 2 decimals; metres for swims) or truncated (Sail, nautical miles, 1 decimal); miles is
    # a guess for exports of accounts set to imperial units
    return (
        abs(metres / unit - display) <= (1.0 if unit == 1.0 else 0.011)
        or abs(metres / M_PER_KM - display) <= 0.011
        or abs(metres / M_PER_MILE - display) <= 0.011
        or abs(metres / M_PER_NAUTICAL_MILE - display) <= 0.11
    )


def _kilojoules(total_work: float | None, average_watts: float | None, moving_time: int | None) -> float | None:
    """'Total Work' -> the API's kilojoules. The column is empty in every real file here, so its
    unit is unverified: it is taken as joules (/ 1000), unless average power x moving time (in J)
    is close to 1000 x the value, which means the file already wrote kJ."""
    if total_work is None:
        return None
    if average_watts and moving_time:
        expected_j = average_watts * moving_time
        if expected_j > 0 and 0.2 < total_work * 1000 / expected_j < 5:
            return total_work
    return total_work / 1000.0


# Every header the parser reads (lower-case comparison); the rest is reported once as not mapped.
_COLUMNS_USED = (
    "Activity ID",
    "Activity Date",
    "Activity Name",
    "Activity Type",
    "Activity Description",
    "Elapsed Time",
    "Distance",
    "Max Heart Rate",
    "Relative Effort",
    "Commute",
    "Activity Gear",
    "Filename",
    "Athlete Weight",
    "Moving Time",
    "Max Speed",
    "Average Speed",
    "Elevation Gain",
    "Elevation Loss",
    "Elevation Low",
    "Elevation High",
    "Max Grade",
    "Average Grade",
    "Max Cadence",
    "Average Cadence",
    "Average Heart Rate",
    "Max Watts",
    "Average Watts",
    "Calories",
    "Max Temperature",
    "Average Temperature",
    "Total Work",
    "Number of Runs",
    "Perceived Exertion",
    "Weighted Average Power",
    "Prefer Perceived Exertion",
    "Total Weight Lifted",
    "From Upload",
    "Grade Adjusted Distance",
    "Bike",
    "Gear",
    "Average Elapsed Speed",
    "Dirt Distance",
    "Total Steps",
    "Pool Length",
    "Timer Time",
    "Media",
    "Sport Type",
)
# Known columns deliberately left out: weather, display-only or always empty in real exports.
_COLUMNS_IGNORED = {
    c.lower()
    for c in (
        "Activity Private Note",
        "Bike Weight",
        "Average Positive Grade",
        "Average Negative Grade",
        "Uphill Time",
        "Downhill Time",
        "Other Time",
        "Type",
        "Start Time",
        "Power Count",
        "Perceived Relative Effort",
        "Weather Observation Time",
        "Weather Condition",
        "Weather Temperature",
        "Apparent Temperature",
        "Dewpoint",
        "Humidity",
        "Weather Pressure",
        "Wind Speed",
        "Wind Gust",
        "Wind Bearing",
        "Precipitation Intensity",
        "Sunrise Time",
        "Sunset Time",
        "Moon Phase",
        "Precipitation Probability",
        "Precipitation Type",
        "Cloud Cover",
        "Weather Visibility",
        "UV Index",
        "Weather Ozone",
        "Jump Count",
        "Total Grit",
        "Average Flow",
        "Flagged",
        "Newly Explored Distance",
        "Newly Explored Dirt Distance",
        "Activity Count",
        "Carbon Saved",
        "Training Load",
        "Intensity",
        "Average Grade Adjusted Pace",
        "Total Cycles",
        "Recovery",
        "With Pet",
        "Competition",
        "Long Run",
        "For a Cause",
        "With Kid",
        "Downhill Distance",
        "Total Sets",
        "Total Reps",
    )
}

_KNOWN = {n.lower() for n in _COLUMNS_USED} | _COLUMNS_IGNORED | {"avg flow", "avg elapsed speed"}
