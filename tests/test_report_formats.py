"""The report pages show durations as h:mm:ss and paces as m:ss, never as decimal minutes ("20.60" for 20:36).

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


def pages() -> list[Path]:
    return sorted(PAGES.rglob("*.md"))


def test_there_are_pages():
    assert len(pages()) >= 5


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(PAGES)))
def test_no_decimal_minutes(page):
    text = page.read_text()
    assert not DECIMAL_MINUTES.findall(text), f"{page.name}: minutes or a pace with a decimal format"
    assert not SECONDS_TO_MINUTES.findall(text), f"{page.name}: seconds turned into decimal minutes"


def test_the_check_catches_decimal_minutes():
    assert DECIMAL_MINUTES.search('<Column id=time_min title="Time (min)" fmt="#,##0.00"/>')
    assert DECIMAL_MINUTES.search('<Column id=pace_min_per_km title="min/km" fmt="#,##0.00"/>')
    assert SECONDS_TO_MINUTES.search("select moving_time_s / 60.0 as moving_time_min")
    assert not DECIMAL_MINUTES.search('<Column id=time_hms title="Time" align=right/>')
