"""The report pages show durations as h:mm:ss (totals h:mm) and paces as m:ss, never as decimal minutes ("20.60" for
20:36) or decimal hours ("3.1" for 3:06).

A static check of every page under reports/pages: no table column or value of minutes or of a pace is given a
decimal number format, and no page query turns seconds into decimal minutes for display."""

import re
from pathlib import Path

import pytest

PAGES = Path(__file__).resolve().parents[1] / "reports" / "pages"
# a column, value or chart axis of minutes or of a pace (min/km) with a number format that has decimals
DECIMAL_MINUTES = re.compile(
    r"<(Column|Value|BigValue)\b[^>]*\b(id|column|value)=\w*(_min\b|_min_|pace)\w*[^>]*\bfmt=\"[^\"]*\.0",
    re.IGNORECASE,
)
# seconds divided into decimal minutes in a page query (a chart may plot minutes, a table must not show them)
SECONDS_TO_MINUTES = re.compile(r"_s\s*/\s*60(\.0)?\s+as\s+\w*_min\b", re.IGNORECASE)
# a chart of minutes or of a pace whose axis has a decimal format ("5.18" for 5:11)
DECIMAL_AXIS = re.compile(r"<\w*Chart\b[^>]*\by=\w*(_min\b|_min_|pace)\w*[^>]*\byFmt=\"[^\"]*\.0", re.IGNORECASE)
# hours shown as a number: a table column, value or big value (or its comparison) of an hours column, a heatmap of
# hours, a printf of hours with decimals ("3.1 h"), a title in hours; a chart may plot hours on its axis
DECIMAL_HOURS = re.compile(
    r"<(Column|Value|BigValue|CalendarHeatmap)\b[^>]*\b(id|column|value|comparison)=\w*_h(_vs_\w*)?\b"
    r"|printf\('[^']*%[-.0-9]*f[^']*\bh\b[^']*'"
    r"|\btitle=\"[^\"]*\((h|hours)\)\"",
    re.IGNORECASE,
)
# a unit written into a page instead of read from strava.units (reports.units: metric or imperial)
UNIT_LITERAL = re.compile(
    r"""(\b(title|yAxisTitle|xAxisTitle)="[^"]*\b(km|km/h|mi|mph|m|ft)\b[^"]*"|'\s*/(km|mi|100m|100yd)'|"""
    r"""printf\('[^']*%[.0-9]*f (km|mi|m|ft)')""",
    re.IGNORECASE,
)
# what may stay: the Eddington number is defined in km; the activity page's metric fallback before strava.units loads
UNIT_LITERAL_ALLOWED = {
    "fitness.md": ['title="Longest day (km)"', 'title="Days at next km"'],
    "activity.md": ["'/km'", "'/100m'"],
}


def pages() -> list[Path]:
    return sorted(PAGES.rglob("*.md"))


def test_there_are_pages():
    assert len(pages()) >= 5


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(PAGES)))
def test_no_decimal_minutes(page):
    text = page.read_text()
    assert not DECIMAL_MINUTES.findall(text), f"{page.name}: minutes or a pace with a decimal format"
    assert not SECONDS_TO_MINUTES.findall(text), f"{page.name}: seconds turned into decimal minutes"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(PAGES)))
def test_no_decimal_hours(page):
    found = [m.group(0) for m in DECIMAL_HOURS.finditer(page.read_text())]
    assert not found, f"{page.name}: hours shown as a decimal number instead of h:mm(:ss): {found}"


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(PAGES)))
def test_no_decimal_pace_axis_and_no_hard_coded_units(page):
    text = page.read_text()
    assert not DECIMAL_AXIS.findall(text), f"{page.name}: a pace or minutes axis with a decimal format"
    allowed = UNIT_LITERAL_ALLOWED.get(page.name, [])
    literals = [m.group(0) for m in UNIT_LITERAL.finditer(text) if m.group(0) not in allowed]
    assert not literals, f"{page.name}: units written into the page instead of read from strava.units: {literals}"


def test_the_unit_checks_catch_what_they_look_for():
    assert DECIMAL_AXIS.search('<LineChart data={p} x=effort y=pace_min yAxisTitle="min per km" yFmt="0.00"/>')
    assert not DECIMAL_AXIS.search('<LineChart data={p} x=effort y=pace_d yFmt="[m]:ss"/>')
    for literal in (
        '<Column id=distance_km title="km" fmt="#,##0.0"/>',
        '<BigValue data={y} value=elevation_gain_m title="Elevation (m)"/>',
        "select printf('%d:%02d', m, s) || ' /km' as pace",
        "printf('%.0f km', remaining_km)",
        'yAxisTitle="km per week"',
    ):
        assert UNIT_LITERAL.search(literal), literal
    assert not UNIT_LITERAL.search('<Column id=distance title={u[0]?.distance_unit} fmt="#,##0.0"/>')
    assert not UNIT_LITERAL.search('title="Moving time (h)"')


def test_the_check_catches_decimal_minutes():
    assert DECIMAL_MINUTES.search('<Column id=time_min title="Time (min)" fmt="#,##0.00"/>')
    assert DECIMAL_MINUTES.search('<Column id=pace_min_per_km title="min/km" fmt="#,##0.00"/>')
    assert SECONDS_TO_MINUTES.search("select moving_time_s / 60.0 as moving_time_min")
    assert not DECIMAL_MINUTES.search('<Column id=time_hms title="Time" align=right/>')


def test_the_check_catches_decimal_hours():
    # what the overview showed before: "3.1" hours and a "+0.4" change
    assert DECIMAL_HOURS.search(
        '<BigValue data={w} value=moving_time_h title="Moving time (h)" fmt="#,##0.0" '
        "comparison=moving_time_h_vs_last/>"
    )
    assert DECIMAL_HOURS.search("<BigValue data={w} value=moving_s comparison=moving_time_h_vs_last/>")
    assert DECIMAL_HOURS.search('<Value data={totals} column=moving_time_h fmt="#,##0"/> hours')
    assert DECIMAL_HOURS.search('<CalendarHeatmap data={d} date=day value=moving_time_h valueFmt="0.0"/>')
    assert DECIMAL_HOURS.search("printf('%.1f of %.0f h', moving_time_since_h, replace_after_h)")
    assert DECIMAL_HOURS.search("printf('%.1f h', remaining_h)")
    assert DECIMAL_HOURS.search('<BigValue data={w} value=moving title="Moving time (h)"/>')
    assert not DECIMAL_HOURS.search('<BigValue data={w} value=moving_time title="Moving time (h:mm)"/>')
    assert not DECIMAL_HOURS.search('<BarChart data={w} x=week_start y=moving_time_h yAxisTitle="hours"/>')
    assert not DECIMAL_HOURS.search("printf('%d:%02d', h, m) || ' h'")
