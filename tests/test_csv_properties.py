"""Property tests of the activities.csv reader: any date in any Strava language, any number in either convention,
any bytes, never an exception."""

from datetime import datetime

from babel.dates import format_datetime
from babel.numbers import format_decimal
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from strava_pipeline.archive import export_layouts as L
from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.locales import STRAVA_LOCALES, date_reader, decimal_symbol, parse_number

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

instants = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2035, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


@FAST
@given(instants, st.sampled_from(STRAVA_LOCALES))
def test_any_medium_date_reads_back_exactly(dt, locale):
    assert date_reader(locale).parse(format_datetime(dt, "medium", locale=locale)) == dt


@FAST
@given(
    st.floats(min_value=0, max_value=1e7, allow_nan=False).map(lambda x: round(x, 2)), st.sampled_from(STRAVA_LOCALES)
)
def test_any_localized_number_reads_back(x, locale):
    text = format_decimal(x, format="#,##0.00", locale=locale)
    assert parse_number(text, decimal_symbol(locale)) == x


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_never_raise(data):
    result = parse_activities_csv(data)
    assert result.rows == [] or result.error is None


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=12), min_size=1, max_size=20), st.integers(0, 120))
def test_any_row_under_a_real_header_never_raises(cells, width):
    header = ",".join(f'"{c}"' for c in L.ITALIAN_92)
    row = ",".join('"' + c.replace('"', '""') + '"' for c in (cells * (width // max(len(cells), 1) + 1))[:width])
    result = parse_activities_csv(f"{header}\n1,{row}\n".encode())
    for r in result.rows:
        assert isinstance(r["id"], int)
