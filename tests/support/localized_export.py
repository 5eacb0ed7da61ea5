"""Write activities.csv files the way Strava writes them in other languages, for the parser's tests.

Headers: the real localized headers where one is known (Italian, Dutch, German, French), else a header that no
vocabulary knows (so the parser must fall back to the layout's positions). Values: dates in the locale's CLDR
medium format (what Strava writes: `5 gen 2024, 07:03:12`), the summary columns with the locale's decimal and
group symbols (`12,34` km, `1.050` m for swims), the detail columns as plain floats, activity types in the
language where the parser has a name for them.
"""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from babel.dates import format_datetime
from babel.numbers import format_decimal

from strava_pipeline.archive import export_layouts as L
from strava_pipeline.archive.localized_sports import LOCALIZED_SPORTS

# CLDR locale -> (real header or None, English layout); None: a header in words no export vocabulary holds
REAL_HEADERS = {
    "it": L.ITALIAN_92,
    "nl": L.DUTCH_99,
    "de": L.GERMAN_101,
    "fr": L.FRENCH_103,
}
SPORTS = ("Run", "Ride", "Swim", "Walk", "Hike", "Workout", "VirtualRide", "WeightTraining")


@dataclass
class Activity:
    id: int
    start: datetime  # UTC
    sport: str
    distance_m: float
    moving_s: int
    elapsed_s: int
    avg_hr: float | None
    filename: str | None


def random_activities(n: int, seed: int = 1) -> list[Activity]:
    rng = random.Random(seed)
    out = []
    t = datetime(2019, 1, 3, 6, 0, 0)
    for i in range(n):
        t += timedelta(days=rng.randint(1, 20), seconds=rng.randint(0, 86399))
        sport = SPORTS[i % len(SPORTS)]
        if sport == "Swim":
            distance = float(rng.choice([850, 1050, 1250, 1623, 2000, 3800]))
        elif sport in ("Workout", "WeightTraining"):
            distance = 0.0
        else:
            distance = round(rng.uniform(1500, 90000), 1)
        moving = rng.randint(600, 14000)
        out.append(
            Activity(
                id=1_000_000_000 + i * 7919,
                start=t.replace(microsecond=0),
                sport=sport,
                distance_m=distance,
                moving_s=moving,
                elapsed_s=moving + rng.randint(0, 900),
                avg_hr=round(rng.uniform(110, 170), 1) if i % 3 else None,
                filename=f"activities/{1_000_000_000 + i * 7919}.fit.gz" if sport != "WeightTraining" else None,
            )
        )
    return out


def header_for(locale: str, layout: tuple[str, ...]) -> list[str]:
    language = locale.split("_")[0]
    real = REAL_HEADERS.get(language)
    if real is not None and len(real) == len(layout):
        return list(real)
    # no real header of this language and width: words no vocabulary holds (read by position)
    return [f"«{language}» {i + 1}" for i in range(len(layout))]


def sport_name(sport: str, locale: str) -> str:
    language = locale.split("_")[0]
    for name, enum in LOCALIZED_SPORTS.get(language, {}).items():
        if enum == sport:
            return name
    return {"VirtualRide": "Virtual Ride", "WeightTraining": "Weight Training"}.get(sport, sport)


def _display_distance(a: Activity, locale: str) -> str:
    if a.sport == "Swim":  # metres with the locale's grouping: 1,250 / 1.250 / 1 250
        return format_decimal(a.distance_m, format="#,##0", locale=locale)
    return format_decimal(round(a.distance_m / 1000, 2), format="0.00", locale=locale)


def make_activities_csv(
    activities: list[Activity], locale: str = "en_US", layout: tuple[str, ...] = L.ENGLISH_99, precise: bool = True
) -> bytes:
    """activities.csv bytes in this locale and layout; precise=False leaves the metres/seconds copies empty."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header_for(locale, layout))
    for a in activities:
        values = {
            "Activity ID": str(a.id),
            "Activity Date": format_datetime(a.start, "medium", locale=locale),
            "Activity Name": f"{a.sport} {a.id}",
            "Activity Type": sport_name(a.sport, locale),
            "Filename": a.filename or "",
            "Commute": ["false", "0.0"],
            "Elapsed Time": [str(a.elapsed_s), f"{float(a.elapsed_s)}" if precise else ""],
            "Distance": [_display_distance(a, locale), repr(a.distance_m) if precise else ""],
            "Moving Time": f"{float(a.moving_s)}" if precise else "",
            "Average Heart Rate": repr(a.avg_hr) if a.avg_hr is not None else "",
        }
        seen: dict[str, int] = {}
        row = []
        for name in layout:
            v = values.get(name, "")
            if isinstance(v, list):
                i = seen.get(name, 0)
                seen[name] = i + 1
                v = v[min(i, len(v) - 1)]
            row.append(v)
        w.writerow(row)
    return buf.getvalue().encode("utf-8")


# summary columns whose numbers Strava writes with the locale's symbols (the precise copies after Filename are
# plain floats)
_SUMMARY_NUMBERS = {"Distance", "Elapsed Time", "Max Heart Rate", "Relative Effort"}


def translate_export_csv(english: bytes, locale: str, layout: tuple[str, ...]) -> bytes:
    """An English activities.csv rewritten as an export of this locale and layout would hold it: localized header
    (real where known), dates in the locale's medium format, summary numbers with its symbols, activity types in
    its language. Columns the target layout lacks are dropped; those it adds stay empty."""
    from strava_pipeline.archive.activities_csv import parse_date

    rows = list(csv.reader(io.StringIO(english.decode("utf-8-sig"), newline="")))
    names = rows[0]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header_for(locale, layout))
    for cells in rows[1:]:
        copies: dict[str, list[str]] = {}
        for name, value in zip(names, cells):
            copies.setdefault(name, []).append(value)
        seen: dict[str, int] = {}
        out = []
        for name in layout:
            i = seen.get(name, 0)
            seen[name] = i + 1
            values = copies.get(name, [])
            value = values[i] if i < len(values) else ""
            if value and name == "Activity Date":
                start = datetime.strptime(parse_date(value), "%Y-%m-%dT%H:%M:%SZ")
                value = format_datetime(start, "medium", locale=locale)
            elif value and name == "Activity Type":
                enum = value.replace(" ", "")
                localized = sport_name(enum, locale)
                value = localized if localized != enum else value
            elif value and name in _SUMMARY_NUMBERS and i == 0:
                value = format_decimal(float(value.replace(",", "")), format="#,##0.##", locale=locale)
            out.append(value)
        w.writerow(out)
    return buf.getvalue().encode("utf-8")
