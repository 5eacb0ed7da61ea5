"""The archive's unit conversions, value by value on hand-made activities.csv rows: the display Distance per sport
(km, metres for swims, nautical miles for Sail), when the display and metres copies agree, the two Elapsed Time
copies, Total Work in J or kJ, and numbers in either decimal convention. Exact values, so a wrong unit, factor or
tolerance fails here (issue 16 point 5: these are the tests of the mutation run in RELIABILITY.md)."""

import pytest

from strava_pipeline.archive import export_layouts as L
from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.locales import column_decimal, decimal_symbol, parse_number

DISAGREE = "the two Distance columns disagree"
METRES_EMPTY = "metres Distance empty"
ELAPSED_DISAGREE = "the two Elapsed Time columns disagree"


def _positions(layout, name):
    return [i for i, c in enumerate(layout) if c == name]


def _csv(rows, header=L.ENGLISH_92, layout=L.ENGLISH_92) -> bytes:
    """rows: dicts of English column name -> value, or -> (first copy, second copy) for the names given twice;
    header: the cells written (a localized layout has the English one's column order)."""
    lines = [",".join(f'"{c}"' for c in header)]
    for i, values in enumerate(rows, start=1):
        cells = [""] * len(layout)
        cells[0], cells[1] = str(100 + i), "Oct 5, 2014, 4:15:21 PM"
        for name, value in values.items():
            copies = value if isinstance(value, tuple) else (value,)
            for pos, v in zip(_positions(layout, name), copies):
                cells[pos] = v
        lines.append(",".join(f'"{c}"' for c in cells))
    return "\n".join(lines).encode()


def _one(values, **kw):
    result = parse_activities_csv(_csv([values], **kw))
    assert result.error is None, result.warnings
    (row,) = result.rows
    return row, "\n".join(result.warnings)


# ------------------------------------------------------------------------------- display Distance alone, per sport


@pytest.mark.parametrize(
    ("sport", "display", "metres"),
    [
        ("Sail", "5.8", 5.8 * 1852.0),
        ("Sail", "15.9", 15.9 * 1852.0),
        ("Swim", "1,250", 1250.0),
        ("Swim", "800", 800.0),
        ("Ride", "13.61", 13.61 * 1000.0),
        ("Run", "10", 10000.0),
        ("Workout", "2.5", 2500.0),
        ("", "2.5", 2500.0),  # no type: km
    ],
)
def test_the_display_distance_alone_is_converted_in_the_unit_of_its_sport(sport, display, metres):
    row, warnings = _one({"Activity Type": sport, "Distance": (display, "")})
    assert row["distance"] == metres
    assert METRES_EMPTY in warnings and DISAGREE not in warnings


def test_a_localized_sail_is_nautical_miles_with_the_decimal_comma():
    row, warnings = _one(
        {"Activity Date": "5 ott 2014, 16:15:21", "Activity Type": "Vela", "Distance": ("15,9", "")},
        header=L.ITALIAN_92,
    )
    assert (row["sport_type"], row["start_date"]) == ("Sail", "2014-10-05T16:15:21Z")
    assert row["distance"] == 15.9 * 1852.0
    assert METRES_EMPTY in warnings


def test_the_metres_copy_wins_and_no_warning_without_the_display_copy():
    row, warnings = _one({"Activity Type": "Sail", "Distance": ("", "29610.490234375")})
    assert row["distance"] == 29610.490234375
    assert METRES_EMPTY not in warnings and DISAGREE not in warnings


def test_no_distance_at_all_is_none_without_a_warning():
    row, warnings = _one({"Activity Type": "Ride"})
    assert row["distance"] is None
    assert "Distance" not in warnings


# ------------------------------------------------------------------------------- the two copies agree or not


@pytest.mark.parametrize(
    ("sport", "display", "metres", "agree"),
    [
        # km, rounded to 2 decimals: up to 0.011 km apart
        ("Ride", "13.61", "13609.2001953125", True),
        ("Ride", "10.0105", "10000", True),
        ("Ride", "9.9895", "10000", True),
        ("Ride", "10.0115", "10000", False),
        ("Ride", "9.9885", "10000", False),
        ("Hike", "3.80", "20195.80078125", False),  # the real broken Hike 14827328714
        # metres for swims: up to 1 m apart, or written in km
        ("Swim", "1051", "1050", True),
        ("Swim", "1049", "1050", True),
        ("Swim", "1051.5", "1050", False),
        ("Swim", "1048.5", "1050", False),
        ("Swim", "1.05", "1050", True),
        # nautical miles for Sail, truncated to 1 decimal: up to 0.11 nm apart
        ("Sail", "15.9", "29610.490234375", True),
        ("Sail", "10.105", "18520", True),
        ("Sail", "9.895", "18520", True),
        ("Sail", "10.115", "18520", False),
        ("Sail", "9.885", "18520", False),
        ("Sail", "18.52", "18520", True),  # a Sail written in km
        # statute miles (an account set to imperial units): up to 0.011 mi apart, whatever the sport
        ("Ride", "10.01", "16093.44", True),
        ("Ride", "10.0115", "16093.44", False),
        ("Ride", "9.9885", "16093.44", False),
        ("Run", "8.6895", "16093.44", True),  # 8.6898 nm, within a Sail's 0.11
        ("Sail", "0.11053995680345573", "1", True),  # exactly 0.11 nm apart in floating point
    ],
)
def test_the_display_and_metres_copies_agree_within_the_rounding_of_their_unit(sport, display, metres, agree):
    row, warnings = _one({"Activity Type": sport, "Distance": (display, metres)})
    assert row["distance"] == float(metres)  # the metres copy is kept either way
    assert (DISAGREE not in warnings) is agree
    assert METRES_EMPTY not in warnings


def test_the_distance_warnings_name_the_rows_word_for_word():
    result = parse_activities_csv(
        _csv(
            [
                {"Activity Type": "Hike", "Distance": ("3.80", "20195.80078125")},
                {"Activity Type": "Sail", "Distance": ("5.8", "")},
                {"Activity Type": "Ride", "Distance": ("13.61", "13609.2001953125")},
            ]
        )
    )
    assert [r["distance"] for r in result.rows] == [20195.80078125, 5.8 * 1852.0, 13609.2001953125]
    assert result.warnings == [
        "the two Distance columns disagree; used the metres copy: 1 row (id 101)",
        "metres Distance empty; converted the display Distance (km; metres for swims, nautical miles for Sail):"
        " 1 row (id 102)",
    ]


# ------------------------------------------------------------------------------- durations


@pytest.mark.parametrize(
    ("copies", "seconds", "disagree"),
    [
        (("1800", "1800.4"), 1800, False),
        (("1800", "1800.6"), 1801, False),
        (("1800", "1801.0"), 1801, False),  # one second apart: the rounding of the integer copy
        (("1800", "1799.0"), 1799, False),
        (("1800", "1801.5"), 1802, True),
        (("1800", "1798.5"), 1798, True),
        (("9550", "10744.0"), 10744, True),  # the real Hike 14827328714
        (("7283", ""), 7283, False),
        (("", "7283.6"), 7284, False),
        (("", ""), None, False),
    ],
)
def test_elapsed_time_is_the_float_copy_rounded_and_a_gap_over_a_second_is_reported(copies, seconds, disagree):
    row, warnings = _one({"Activity Type": "Hike", "Elapsed Time": copies})
    assert row["elapsed_time"] == seconds
    assert (ELAPSED_DISAGREE in warnings) is disagree


def test_the_elapsed_time_warning_names_the_row_word_for_word():
    result = parse_activities_csv(_csv([{"Elapsed Time": ("1800", "1800.0")}, {"Elapsed Time": ("9550", "10744.0")}]))
    assert [r["elapsed_time"] for r in result.rows] == [1800, 10744]
    assert result.warnings == ["the two Elapsed Time columns disagree; used the second (float) copy: 1 row (id 102)"]


@pytest.mark.parametrize(
    ("value", "seconds"), [("2499.6", 2500), ("2499.4", 2499), ("2499", 2499), ("", None), ("nan", None), ("inf", None)]
)
def test_moving_time_is_rounded_to_whole_seconds(value, seconds):
    row, _ = _one({"Activity Type": "Ride", "Moving Time": value})
    assert row["moving_time"] == seconds
    assert seconds is None or type(row["moving_time"]) is int


# ------------------------------------------------------------------------------- Total Work -> kilojoules


@pytest.mark.parametrize(
    ("work", "watts", "moving", "kilojoules"),
    [
        ("360000", "100", "3600", 360.0),  # joules: 1000 x average power x moving time
        ("360", "100", "3600", 360.0),  # already kJ: average power x moving time is 1000 x the value
        ("72", "100", "3600", 0.072),  # a fifth of the expected kJ or less is joules
        ("73", "100", "3600", 73.0),
        ("1800", "100", "3600", 1.8),  # five times the expected kJ or more is joules
        ("1799", "100", "3600", 1799.0),
        ("360", "", "3600", 0.36),  # nothing to compare with: joules
        ("360", "100", "", 0.36),
        ("360", "-100", "3600", 0.36),
        ("", "100", "3600", None),
        ("0.0005", "0.5", "1", 0.0005),  # under a joule of power x time: still compared
    ],
)
def test_total_work_is_joules_unless_power_times_time_says_kilojoules(work, watts, moving, kilojoules):
    row, _ = _one({"Activity Type": "Ride", "Total Work": work, "Average Watts": watts, "Moving Time": moving})
    assert row["kilojoules"] == kilojoules


# ------------------------------------------------------------------------------- numbers in either convention


@pytest.mark.parametrize(
    ("text", "decimal", "number"),
    [
        ("1,250.5", ".", 1250.5),
        ("12,345,678", ".", 12345678.0),
        ("1.234.567,8", ",", 1234567.8),
        ("1.050", ",", 1050.0),
        ("1,050.", ".", 1050.0),
        ("1,23", ".", 1.23),
        ("1.23", ",", 1.23),
        ("12,34", ",", 12.34),
        ("12.34", ".", 12.34),
        ("1'250", ".", 1250.0),
        ("1\u00a0250,5", ",", 1250.5),
        ("\u22125.5", ".", -5.5),
        ("-1,250", ".", -1250.0),
        ("1.5e3", ".", 1500.0),
        ("  7 ", ".", 7.0),
        ("", ".", None),
        ("   ", ",", None),
        (None, ".", None),
        ("nan", ".", None),
        ("inf", ".", None),
        ("-inf", ",", None),
    ],
)
def test_numbers_read_in_the_decimal_convention_of_their_column(text, decimal, number):
    assert parse_number(text, decimal) == number


@pytest.mark.parametrize(
    ("text", "decimal"),
    [("1,2,3", ","), ("1.2.3", "."), ("1,25,0", "."), ("1,250.5.5", "."), ("12.3x4", "."), ("1.250,5", ".")],
)
def test_what_is_not_a_number_in_the_convention_is_a_value_error(text, decimal):
    with pytest.raises(ValueError):
        parse_number(text, decimal)


def test_a_misplaced_group_symbol_is_a_value_error_naming_the_value():
    with pytest.raises(ValueError) as exc:
        parse_number("1,25,0", ".")
    assert str(exc.value) == "1,25,0"


def test_the_default_decimal_is_the_point():
    assert parse_number("1,250") == 1250.0
    assert parse_number("12.5") == 12.5


@pytest.mark.parametrize(
    ("values", "locale_decimal", "decimal"),
    [
        (["12,34"], ".", ","),
        (["12.34"], ",", "."),
        (["13609.2001953125"], ",", "."),
        (["1.050"], ",", ","),  # cannot tell: the locale's
        (["1.050"], ".", "."),
        (["1.050", "12,5"], ".", ","),
        (["", None, "12.5"], ",", "."),
        (["1.5", "1,5"], ",", ","),  # both seen: the locale's
        (["1.5", "1,5"], ".", "."),
        (["1.234,5"], ".", ","),
        (["1 234,5"], ".", ","),
        (["1.5e3"], ",", "."),
        ([], ",", ","),
        ([], ".", "."),
    ],
)
def test_a_column_s_decimal_symbol_is_what_its_values_show_else_the_locale_s(values, locale_decimal, decimal):
    assert column_decimal(values, locale_decimal) == decimal


@pytest.mark.parametrize(
    ("locale", "decimal"), [("en_US", "."), ("en_GB", "."), ("it", ","), ("de", ","), ("fr", ","), ("ja", ".")]
)
def test_the_locale_s_decimal_symbol(locale, decimal):
    assert decimal_symbol(locale) == decimal


def test_summary_columns_use_the_locale_s_symbol_and_detail_columns_the_point():
    """In an Italian export an ambiguous `1.050` is 1050 in the summary block and 1.05 after Filename."""
    row, _ = _one(
        {
            "Activity Date": "5 ott 2014, 16:15:21",
            "Activity Type": "Nuoto",
            "Distance": ("1.050", ""),
            "Max Speed": "1.050",
        },
        header=L.ITALIAN_92,
    )
    assert row["sport_type"] == "Swim"
    assert row["distance"] == 1050.0
    assert row["max_speed"] == 1.05


def test_a_short_row_beside_a_full_one_reads_the_columns_it_has():
    """A row cut before a column does not stop that column's decimal symbol being read from the other rows."""
    header = [f'"{c}"' for c in L.ENGLISH_92]
    full = ["101", '"Oct 5, 2014, 4:15:21 PM"', "", "Ride"] + [""] * 88
    full[18] = "11.5"  # Max Speed
    short = ["102", '"Oct 5, 2014, 4:15:21 PM"', "", "Ride"] + [""] * 14  # ends just before Max Speed
    result = parse_activities_csv("\n".join(",".join(r) for r in (header, full, short)).encode())
    assert [(r["id"], r["max_speed"]) for r in result.rows] == [(101, 11.5), (102, None)]
    assert result.warnings == ["rows with 18 fields instead of 92 (padded or cut): 1 row (id line 3)"]
