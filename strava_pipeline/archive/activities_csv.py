"""Parse the export's activities.csv into rows of the raw `activities` table (Strava API field names).

What the real files taught (reference NOTES.md, section 1):
- Columns are found by header NAME, after stripping the HTML some exports put in header cells,
  so 87, 94, 99 or any other column count works; nothing depends on a fixed index.
- Five names appear twice (Elapsed Time, Distance, Max Heart Rate, Relative Effort, Commute). The
  second copy is the precise one (float seconds, metres, numeric 0/1) and is used first; the
  first copy (integer seconds, rounded display distance, text true/false) is the fallback.
  The display Distance is km, except for Sail where it is nautical miles.
- 'Activity Date' is "Oct 5, 2014, 4:15:21 PM" in UTC with no zone marker; it is parsed by hand
  so the process locale does not matter. The local start time is not in the file, so
  start_date_local and utc_offset are None.
- Empty and "" fields are None; float32 noise (12.600000381469727) is kept as it is.
"""

from __future__ import annotations

import csv
import html
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

from strava_pipeline.archive.sport_types import sport_and_type
from strava_pipeline.archive.types import CsvResult

M_PER_KM = 1000.0
M_PER_NAUTICAL_MILE = 1852.0
M_PER_MILE = 1609.344

# Header names that changed between exports -> the current name (all compared lower-case).
_HEADER_ALIASES = {
    "avg flow": "average flow",
    "avg elapsed speed": "average elapsed speed",
}

_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}
# "Oct 5, 2014, 4:15:21 PM" (the real format) and "5 Oct 2014, 16:15:21" (day first, 24 h)
_DATE_MDY = re.compile(
    r"^([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])?\.?[Mm]?\.?$"
)
_DATE_DMY = re.compile(
    r"^(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4}),?\s+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])?\.?[Mm]?\.?$"
)

_TRUE = {"true", "1", "1.0", "yes", "y", "t"}
_FALSE = {"false", "0", "0.0", "no", "n", "f"}

# Most rows are fine; per-row problems are grouped by kind and reported with a few example ids.
_MAX_EXAMPLE_IDS = 5


def clean_header(cell: str) -> str:
    """'<span class="translation_missing" ...>Avg Flow</span>' -> 'Avg Flow'."""
    text = html.unescape(re.sub(r"<[^>]*>", "", cell))
    return " ".join(text.split())


def parse_date(value: str | None) -> str | None:
    """An Activity Date -> 'YYYY-MM-DDTHH:MM:SSZ' (UTC, as the API writes start_date), or None."""
    if not value:
        return None
    text = value.strip()
    m = _DATE_MDY.match(text)
    if m:
        month_name, day, year, hour, minute, second, ampm = m.groups()
    else:
        m = _DATE_DMY.match(text)
        if m:
            day, month_name, year, hour, minute, second, ampm = m.groups()
    if m:
        month = _MONTHS.get(month_name[:3].lower())
        if month is None:
            return None
        h = int(hour)
        if ampm:
            if not 1 <= h <= 12:
                return None
            h = h % 12 + (12 if ampm.lower() == "p" else 0)
        try:
            dt = datetime(int(year), month, int(day), h, int(minute), int(second or 0))
        except ValueError:
            return None
        return dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    try:  # an export that writes ISO 8601 instead
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is not None:
        dt = dt.astimezone(UTC).replace(tzinfo=None)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class _Header:
    """Positions of every (cleaned, lower-case) column name; duplicates keep all positions."""

    def __init__(self, cells: list[str]):
        self.names = [clean_header(c) for c in cells]
        self.positions: dict[str, list[int]] = defaultdict(list)
        for i, name in enumerate(self.names):
            key = name.lower()
            self.positions[_HEADER_ALIASES.get(key, key)].append(i)

    def copies(self, name: str) -> list[int]:
        return self.positions.get(name.lower(), [])


class _Problems:
    """Collects per-row problems by kind so a bad file gives a few lines, not thousands."""

    def __init__(self):
        self.by_kind: dict[str, list] = defaultdict(list)

    def add(self, kind: str, row_id) -> None:
        self.by_kind[kind].append(row_id)

    def lines(self) -> list[str]:
        out = []
        for kind, ids in self.by_kind.items():
            shown = ", ".join(str(i) for i in ids[:_MAX_EXAMPLE_IDS])
            more = ", ..." if len(ids) > _MAX_EXAMPLE_IDS else ""
            out.append(f"{kind}: {len(ids)} row{'s' if len(ids) != 1 else ''} (id {shown}{more})")
        return out


def _text(value: str | None) -> str | None:
    return value if value not in (None, "") else None


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    x = float(value)  # ValueError is caught by the caller, which reports the column
    return x if math.isfinite(x) else None


def _bool(value: str | None) -> bool | None:
    if value is None or not value.strip():
        return None
    v = value.strip().lower()
    if v in _TRUE:
        return True
    if v in _FALSE:
        return False
    raise ValueError(value)


def _int(value: str | None) -> int | None:
    x = _number(value)
    return None if x is None else int(round(x))


def _gear_id(prefix: str, value: str | None) -> str | None:
    # 'Bike' holds bike ids as floats ("5858926.0"); the API writes gear ids as b<id> for bikes
    # and g<id> for shoes ('Gear' column, empty in the real file: inferred, not observed)
    x = _number(value)
    return None if x is None else f"{prefix}{int(x)}"


def parse_activities_csv(data: bytes) -> CsvResult:
    """activities.csv bytes -> CsvResult(rows, warnings). Never raises for bad data."""
    warnings: list[str] = []
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # not what Strava writes; cp1252 is what a spreadsheet round-trip on Windows produces
        text = data.decode("cp1252", errors="replace")
        warnings.append("activities.csv is not UTF-8; read as cp1252")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_cells = next(reader)
    except StopIteration:
        return CsvResult(rows=[], warnings=warnings + ["activities.csv is empty"])
    except csv.Error as exc:
        return CsvResult(rows=[], warnings=warnings + [f"activities.csv header cannot be read ({exc})"])
    header = _Header(header_cells)
    if not header.copies("Activity ID"):
        return CsvResult(
            rows=[],
            warnings=warnings + ["activities.csv has no 'Activity ID' column; is it the export's activities.csv?"],
        )

    known = {n.lower() for n in _COLUMNS_USED} | _COLUMNS_IGNORED
    unknown_cols = [n for n in header.names if n and _HEADER_ALIASES.get(n.lower(), n.lower()) not in known]
    if unknown_cols:
        # new columns are normal (exports grow); note them so a useful one can be mapped later
        warnings.append(f"columns not mapped: {', '.join(unknown_cols)}")

    problems = _Problems()
    rows: list[dict] = []
    seen: set[int] = set()
    width = len(header.names)
    line = 1
    try:
        for cells in reader:
            line += 1
            if not cells or all(not c.strip() for c in cells):
                continue
            if len(cells) != width:
                problems.add(f"rows with {len(cells)} fields instead of {width} (padded or cut)", f"line {line}")
                cells = (cells + [""] * width)[:width]
            row = _row(cells, header, problems, line)
            if row is None:
                continue
            if row["id"] in seen:
                problems.add("duplicate Activity ID, later row dropped", row["id"])
                continue
            seen.add(row["id"])
            rows.append(row)
    except csv.Error as exc:
        warnings.append(f"activities.csv cannot be read past line {line} ({exc}); kept the {len(rows)} rows before")
    return CsvResult(rows=rows, warnings=warnings + problems.lines())


def _row(cells: list[str], header: _Header, problems: _Problems, line: int) -> dict | None:
    def cell(pos: int) -> str | None:
        value = cells[pos].strip() if pos < len(cells) else ""
        return value or None

    def copies(name: str) -> list[str | None]:
        return [cell(p) for p in header.copies(name)]

    def precise(name: str) -> str | None:
        # duplicated names: the last copy is the precise one, earlier copies are fallbacks
        for v in reversed(copies(name)):
            if v is not None:
                return v
        return None

    raw_id = precise("Activity ID")
    try:
        activity_id = int(raw_id) if raw_id and raw_id.isdigit() else int(float(raw_id))
    except (TypeError, ValueError, OverflowError):
        activity_id = None
    if activity_id is None or not 0 < activity_id < 2**63:  # ids are positive int64
        problems.add("no usable Activity ID, row skipped", f"line {line}")
        return None

    def conv(name: str, fn: Callable, value: str | None):
        try:
            return fn(value)
        except (ValueError, OverflowError):
            problems.add(f"unreadable {name!r} left empty", activity_id)
            return None

    def num(name: str) -> float | None:
        return conv(name, _number, precise(name))

    display_type = precise("Activity Type")
    # the 2023 export had a 'Sport Type' column (empty there); when filled it is the finer one
    sport_display = precise("Sport Type") or display_type
    sport_type, legacy_type, known = sport_and_type(sport_display)
    if not known:
        problems.add(f"unknown activity type {sport_display!r} mapped to {sport_type!r}", activity_id)

    raw_date = precise("Activity Date")
    start_date = parse_date(raw_date)
    if raw_date and start_date is None:
        problems.add("unreadable Activity Date left empty", activity_id)

    elapsed_time = _elapsed(copies("Elapsed Time"), activity_id, problems)
    distance = _distance(header, cells, cell, sport_type, activity_id, problems)

    commute = None
    for v in reversed(copies("Commute")):
        commute = conv("Commute", _bool, v)
        if commute is not None:
            break

    total_work = num("Total Work")
    average_watts = num("Average Watts")
    moving_time = conv("Moving Time", _int, precise("Moving Time"))

    row = {
        "id": activity_id,
        "name": _text(cells[header.copies("Activity Name")[0]]) if header.copies("Activity Name") else None,
        "type": legacy_type,
        "sport_type": sport_type,
        "start_date": start_date,
        "start_date_local": None,  # not in the export
        "utc_offset": None,  # not in the export
        "distance": distance,
        "moving_time": moving_time,
        "elapsed_time": elapsed_time,
        "total_elevation_gain": num("Elevation Gain"),
        "elev_high": num("Elevation High"),
        "elev_low": num("Elevation Low"),
        "max_speed": num("Max Speed"),
        "average_speed": num("Average Speed"),
        "average_heartrate": num("Average Heart Rate"),
        "max_heartrate": num("Max Heart Rate"),
        "average_cadence": num("Average Cadence"),
        "average_watts": average_watts,
        "weighted_average_watts": num("Weighted Average Power"),
        "max_watts": num("Max Watts"),
        "kilojoules": _kilojoules(total_work, average_watts, moving_time),
        "calories": num("Calories"),
        "average_temp": num("Average Temperature"),
        "commute": commute,
        "private": None,  # not in the export
        "gear_id": conv("Bike", lambda v: _gear_id("b", v), precise("Bike"))
        or conv("Gear", lambda v: _gear_id("g", v), precise("Gear")),
        "suffer_score": num("Relative Effort"),
        "description": _text(cells[header.copies("Activity Description")[0]])
        if header.copies("Activity Description")
        else None,
        # export-only fields, snake_case of the CSV header
        "gear_name": precise("Activity Gear"),
        "filename": precise("Filename"),
        "perceived_exertion": num("Perceived Exertion"),
        "prefer_perceived_exertion": conv("Prefer Perceived Exertion", _bool, precise("Prefer Perceived Exertion")),
        "max_grade": num("Max Grade"),
        "average_grade": num("Average Grade"),
        "elevation_loss": num("Elevation Loss"),
        "max_cadence": num("Max Cadence"),
        "max_temp": num("Max Temperature"),
        "number_of_runs": conv("Number of Runs", _int, precise("Number of Runs")),
        "total_steps": conv("Total Steps", _int, precise("Total Steps")),
        "athlete_weight": num("Athlete Weight"),
        "from_upload": conv("From Upload", _bool, precise("From Upload")),
        "grade_adjusted_distance": num("Grade Adjusted Distance"),
        "average_elapsed_speed": num("Average Elapsed Speed"),
        "dirt_distance": num("Dirt Distance"),
        "timer_time": num("Timer Time"),
        "total_weight_lifted": num("Total Weight Lifted"),
        "pool_length": num("Pool Length"),
        "media": precise("Media"),
    }
    return row


def _elapsed(values: list[str | None], activity_id: int, problems: _Problems) -> int | None:
    """Seconds from the float copy (second), else the integer copy; report copies that disagree."""
    parsed = []
    for v in values:
        try:
            parsed.append(_number(v))
        except ValueError:
            problems.add("unreadable 'Elapsed Time' left empty", activity_id)
            parsed.append(None)
    present = [x for x in parsed if x is not None]
    if not present:
        return None
    chosen = present[-1]
    if len(present) > 1 and abs(present[0] - chosen) > 1:
        # seen once (Hike 14827328714: 9550 vs 10744.0); the float copy matches 'Average
        # Elapsed Speed' there, so it is the one kept
        problems.add("the two Elapsed Time columns disagree; used the second (float) copy", activity_id)
    return int(round(chosen))


def _distance(
    header: _Header, cells, cell, sport_type: str | None, activity_id: int, problems: _Problems
) -> float | None:
    """Metres from the precise Distance copy; the display copy (km, nautical miles for Sail) is
    the fallback. A single Distance column is metres unless it sits before 'Filename' like the
    display copy does."""
    positions = header.copies("Distance")
    if not positions:
        return None
    if len(positions) == 1:
        filename_pos = (header.copies("Filename") or [len(cells)])[0]
        display_pos, metres_pos = (positions[0], None) if positions[0] < filename_pos else (None, positions[0])
    else:
        display_pos, metres_pos = positions[0], positions[-1]

    def read(pos):
        if pos is None:
            return None
        try:
            return _number(cell(pos))
        except ValueError:
            problems.add("unreadable 'Distance' left empty", activity_id)
            return None

    metres = read(metres_pos)
    display = read(display_pos)
    if metres is not None:
        if display is not None and not _display_matches(display, metres):
            # seen once (Hike 14827328714: 3.80 vs 20195.8 m); the metres copy matches
            # 'Average Speed' x 'Moving Time' there, so it is the one kept
            problems.add("the two Distance columns disagree; used the metres copy", activity_id)
        return metres
    if display is None:
        return None
    unit = M_PER_NAUTICAL_MILE if sport_type == "Sail" else M_PER_KM
    problems.add("metres Distance empty; converted the display Distance (km, nautical miles for Sail)", activity_id)
    return display * unit


def _display_matches(display: float, metres: float) -> bool:
    # rounded (km, 2 decimals) or truncated (Sail, nautical miles, 1 decimal); miles is
    # a guess for exports of accounts set to imperial units
    return (
        abs(metres / M_PER_KM - display) <= 0.011
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
    )
}
