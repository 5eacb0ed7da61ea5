"""activities.csv in every language and layout Strava writes: generated localized exports, old layouts, bad input."""

import csv
import io
import json
import os

import pytest
from babel.dates import format_datetime

from strava_pipeline.archive import export_layouts as L
from strava_pipeline.archive.activities_csv import parse_activities_csv
from strava_pipeline.archive.importer import import_archive
from strava_pipeline.archive.locales import STRAVA_LOCALES, date_reader, parse_number
from strava_pipeline.archive.reader import ArchiveError
from strava_pipeline.progress import Reporter
from tests.conftest import REFERENCE
from tests.support.localized_export import make_activities_csv, random_activities

ACTIVITIES = random_activities(40)
BY_ID = {a.id: a for a in ACTIVITIES}

# every language Strava offers, in the layouts a real export of it was seen in (or the current one)
CASES = [(loc, L.ENGLISH_99) for loc in STRAVA_LOCALES] + [
    ("it", L.ENGLISH_92),
    ("de", L.ENGLISH_101),
    ("fr", L.ENGLISH_103),
    ("en_US", L.ENGLISH_94),
    ("pt_BR", L.ENGLISH_87),
]


def _iso(dt) -> str:
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.parametrize("locale, layout", CASES, ids=[f"{loc}-{len(lay)}" for loc, lay in CASES])
def test_every_language_reads_like_english(locale, layout):
    result = parse_activities_csv(make_activities_csv(ACTIVITIES, locale, layout))
    assert result.error is None, result.warnings
    assert not result.unreadable, result.unreadable[:5]
    assert [r["id"] for r in result.rows] == [a.id for a in ACTIVITIES]
    for row in result.rows:
        a = BY_ID[row["id"]]
        assert row["start_date"] == _iso(a.start), (format_datetime(a.start, "medium", locale=locale), row)
        assert row["distance"] == pytest.approx(a.distance_m, abs=1e-6)
        assert row["moving_time"] == a.moving_s and row["elapsed_time"] == a.elapsed_s
        assert row["average_heartrate"] == a.avg_hr
        assert row["filename"] == a.filename
        assert row["commute"] is False
    # the sport is right where the language's names are known; elsewhere it is recorded, not guessed
    language = locale.split("_")[0]
    known = {r["sport_type"] for r in result.rows if r.get("unreadable") is None}
    if language in ("en", "it", "nl", "de", "fr", "es", "pt", "ja", "ru", "zh", "ko"):
        assert [r["sport_type"] for r in result.rows] == [a.sport for a in ACTIVITIES]
    assert known <= {a.sport for a in ACTIVITIES} | {"Workout"}
    assert f"{len(layout)} columns" in result.layout


@pytest.mark.parametrize("locale", ["it", "nl", "de", "fr", "es", "pt_BR", "ru", "en_US"])
def test_display_distance_alone_in_the_locale_units(locale):
    """Without the metres copy the display Distance is read in the locale's symbols: km, metres for swims."""
    result = parse_activities_csv(make_activities_csv(ACTIVITIES, locale, L.ENGLISH_99, precise=False))
    assert not result.unreadable
    for row in result.rows:
        a = BY_ID[row["id"]]
        expected = a.distance_m if a.sport == "Swim" else round(a.distance_m / 1000, 2) * 1000
        assert row["distance"] == pytest.approx(expected, abs=0.01), (locale, a)


def test_real_localized_value_formats():
    """The formats EXPORT-LAYOUTS.md lists, written as the real files write them."""
    header_it = ",".join(f'"{c}"' for c in L.ITALIAN_92)
    row = ["101", '"5 gen 2024, 07:03:12"', "Nuotata", "Nuoto", "", "1800", '"1.050"'] + [""] * 85
    row_run = ["102", '"17 mag 2023, 18:00:00"', "Corsa", "Corsa", "", "3600", '"12,34"'] + [""] * 85
    data = "\n".join([header_it, ",".join(row), ",".join(row_run)]).encode()
    result = parse_activities_csv(data)
    swim, run = result.rows
    assert (swim["sport_type"], swim["distance"], swim["start_date"]) == ("Swim", 1050.0, "2024-01-05T07:03:12Z")
    assert (run["sport_type"], run["distance"], run["start_date"]) == ("Run", 12340.0, "2023-05-17T18:00:00Z")
    assert "Italian" in result.layout


def test_old_short_english_layout_swims_in_metres_with_a_thousands_comma():
    data = (
        ",".join(L.ENGLISH_11) + "\n"
        '1,"25 Jun 2015, 07:03:12",Pool,Swim,,2400,"1,623",,false,,\n'
        '2,"Oct 5, 2014, 4:15:21 PM",Lunch Ride,Ride,,2833,13.61,,false,,activities/2.gpx\n'
    ).encode()
    result = parse_activities_csv(data)
    swim, ride = result.rows
    assert swim["distance"] == 1623.0 and swim["start_date"] == "2015-06-25T07:03:12Z"
    assert ride["distance"] == pytest.approx(13610.0) and ride["start_date"] == "2014-10-05T16:15:21Z"
    assert not result.unreadable and not [w for w in result.warnings if "display Distance" in w]


def test_oldest_lowercase_layout_iso_dates_and_metres():
    data = (
        b"id,date,name,type,description,elapsed_time,distance,commute,gear,filename\n"
        b"7,2015-06-25 07:03:12,Morning Run,Run,,1800,5012.3,false,Shoes,activities/7.gpx\n"
    )
    (row,) = parse_activities_csv(data).rows
    assert (row["id"], row["start_date"], row["distance"], row["sport_type"]) == (
        7,
        "2015-06-25T07:03:12Z",
        5012.3,
        "Run",
    )
    assert row["gear_name"] == "Shoes" and row["filename"] == "activities/7.gpx"


def test_unreadable_values_are_kept_raw_and_listed():
    first = ACTIVITIES[0]
    data = make_activities_csv(ACTIVITIES[:3], "it", L.ENGLISH_92).decode()
    data = data.replace(repr(first.distance_m), '"12,3x4"', 1)  # the precise Distance of the first row
    result = parse_activities_csv(data.encode())
    row = result.rows[0]
    assert row["unreadable"] == {"Distanza": "12,3x4"}
    assert (first.id, "Distanza", "12,3x4") in result.unreadable
    text = "\n".join(result.warnings)
    assert "Distanza" in text and "12,3x4" in text
    # the display copy still gives a distance
    assert row["distance"] == pytest.approx(round(first.distance_m / 1000, 2) * 1000, abs=0.01)


def test_unknown_localized_type_is_recorded_not_guessed():
    acts = random_activities(2)
    data = make_activities_csv(acts, "it", L.ENGLISH_92).decode().replace(",Corsa,", ",Corsa sui trampoli,")
    result = parse_activities_csv(data.encode())
    row = result.rows[0]
    assert row["sport_type"] == "Workout" and row["unreadable"] == {"Tipo attività": "Corsa sui trampoli"}
    assert (acts[0].id, "Tipo attività", "Corsa sui trampoli") in result.unreadable


@pytest.mark.parametrize(
    "header",
    [
        ",".join(f"col{i}" for i in range(37)),
        "Date,Title,Sport,Duration,Distance",
        "id,name\n",
    ],
)
def test_unknown_layout_is_one_sentence_naming_what_was_seen(header):
    data = (header + "\n" + ",".join(["x"] * (header.count(",") + 1)) + "\n").encode()
    result = parse_activities_csv(data)
    assert result.rows == [] and result.error
    width = len(header.strip().split(","))
    assert f"{width} columns" in result.error and header.split(",")[0] in result.error


def test_a_header_read_by_position_alone_must_have_strava_values():
    """A 99-column header in words nobody knows is read by position only when its ids and dates look right."""
    good = make_activities_csv(ACTIVITIES[:5], "ru", L.ENGLISH_99)
    assert len(parse_activities_csv(good).rows) == 5
    lines = good.decode().splitlines()
    junk = [lines[0]] + [",".join(["abc"] * 99) for _ in range(5)]
    result = parse_activities_csv("\n".join(junk).encode())
    assert result.rows == [] and "99 columns" in result.error


def test_unknown_layout_archive_is_refused_with_exit_2_and_nothing_written(tmp_path):
    export = tmp_path / "export"
    export.mkdir()
    (export / "activities.csv").write_text("Foo,Bar,Baz\n1,2,3\n")
    data_dir = tmp_path / "data"
    with pytest.raises(ArchiveError) as exc:
        import_archive(export, data_dir, Reporter(stream=io.StringIO(), interactive=False))
    message = str(exc.value)
    assert "3 columns" in message and "'Foo'" in message and "\n" not in message
    assert not (data_dir / "strava.duckdb").exists()


def test_italian_export_imports_into_the_warehouse(tmp_path):
    from strava_pipeline.warehouse import open_warehouse

    export = tmp_path / "export"
    export.mkdir()
    (export / "activities.csv").write_bytes(make_activities_csv(ACTIVITIES, "it", L.ENGLISH_92))
    data_dir = tmp_path / "data"
    summary = import_archive(export, data_dir, Reporter(stream=io.StringIO(), interactive=False), workers=1)
    assert summary.activities == len(ACTIVITIES)
    with open_warehouse(data_dir / "strava.duckdb") as con:
        got = dict(con.sql("select id, distance from strava.activities").fetchall())
    assert got == pytest.approx({a.id: a.distance_m for a in ACTIVITIES})


def test_numbers_in_both_conventions():
    assert parse_number("1,250", ".") == 1250.0
    assert parse_number("1.050", ",") == 1050.0
    assert parse_number("12,34", ",") == 12.34
    assert parse_number("13609.2001953125", ",") == pytest.approx(13609.2001953125)
    assert parse_number("1\u202f250,5", ",") == 1250.5
    assert parse_number("", ",") is None
    with pytest.raises(ValueError):
        parse_number("1,2,3", ",")


def test_dates_with_day_periods_and_odd_spaces():
    assert date_reader("en_US").parse("Sep 20, 2026, 2:12:12\u202fPM").hour == 14
    assert date_reader("zh_Hant").parse("2024年1月5日 晚上7:03:12").hour == 19
    assert date_reader("zh_Hant").parse("2024年1月5日 上午7:03:12").hour == 7
    assert date_reader("ko").parse("2024. 1. 5. 오후 7:03:12").hour == 19
    assert date_reader("es_419").parse("5 ene 2024, 7:03:12 p.m.").hour == 19
    assert date_reader("fr").parse("5 janv. 2024 à 07:03:12").day == 5
    assert date_reader("de").parse("09.12.2022, 15:24:49").month == 12
    assert date_reader("en_GB").parse("25 Sept 2024, 19:03:12").month == 9
    assert date_reader("en_GB").parse("25 Sep 2024, 19:03:12").month == 9
    assert date_reader("it").parse("not a date") is None


def test_cli_summary_lists_unreadable_values_and_the_warehouse_keeps_them(tmp_path):
    from strava_pipeline.cli import main
    from strava_pipeline.warehouse import open_warehouse

    first = ACTIVITIES[0]
    export = tmp_path / "export"
    export.mkdir()
    data = make_activities_csv(ACTIVITIES[:4], "nl", L.ENGLISH_99).decode()
    (export / "activities.csv").write_text(data.replace(repr(first.distance_m), '"12,3x4"', 1))
    out, err = io.StringIO(), io.StringIO()
    rc = main(["import-archive", str(export), "--import-only", "--data-dir", str(tmp_path / "data")], out=out, err=err)
    assert rc == 0, err.getvalue()
    text = out.getvalue()
    assert f"{first.id} 'Afstand' '12,3x4'" in text
    assert "Dutch header" in text and "dates read as nl" in text
    with open_warehouse(tmp_path / "data" / "strava.duckdb") as con:
        (fields,) = con.sql(f"select archive_fields from strava.activities where id = {first.id}").fetchone()
    assert json.loads(fields)["unreadable"] == {"Afstand": "12,3x4"}


def test_real_german_row_from_a_public_issue():
    """The start of a real German row (92 columns) as pasted in a public issue: summary columns in German
    (`"9,44"` km), detail columns as plain floats (`2070.0` s moving, metres)."""
    header = ",".join(f'"{c}"' for c in L.GERMAN_92)
    start = '8228026758,"09.12.2022, 15:24:49",2022-12-09 16:24,Radfahrt,"bewölkt, 0°C",3189,"9,44",,,true,"",'
    start += "Patria,activities/8228026758.gpx,,20.0,3189.0,2070.0,9440.5"
    row = start + "," * (92 - 18)
    (got,) = parse_activities_csv(f"{header}\n{row}\n".encode()).rows
    assert got["start_date"] == "2022-12-09T15:24:49Z" and got["sport_type"] == "Ride"
    assert (got["distance"], got["moving_time"], got["elapsed_time"]) == (9440.5, 2070, 3189)
    assert got["commute"] is True and got["gear_name"] == "Patria" and got["name"] == "2022-12-09 16:24"


@pytest.mark.parametrize("locale, layout", [("it", L.ENGLISH_92), ("de", L.ENGLISH_101), ("ko", L.ENGLISH_99)])
def test_localized_sample_export_imports_like_the_english_one(tmp_path, locale, layout):
    """The reference sample export (real FIT/GPX/TCX files), its activities.csv rewritten in another language and
    layout, imports into the same activities and streams as the English original."""
    import zipfile

    from strava_pipeline.warehouse import open_warehouse
    from tests.support.localized_export import translate_export_csv

    source = REFERENCE / "files" / "sample_export.zip"
    if not source.is_file():
        if os.environ.get("CI"):
            pytest.fail(f"reference file missing in CI: {source}")
        pytest.skip(f"reference files not found in {REFERENCE} (set STRAVA_REFERENCE_DIR)")
    localized = tmp_path / "export.zip"
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(localized, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "activities.csv":
                data = translate_export_csv(data, locale, layout)
            zout.writestr(info, data)

    def load(path, name):
        data_dir = tmp_path / name
        import_archive(path, data_dir, Reporter(stream=io.StringIO(), interactive=False), workers=1)
        with open_warehouse(data_dir / "strava.duckdb") as con:
            acts = con.sql(
                "select id, start_date, round(distance, 2), moving_time, elapsed_time, sport_type, gear_id "
                "from strava.activities order by id"
            ).fetchall()
            points = con.sql("select activity_id, count(*) from strava.activity_streams group by 1 order by 1")
            return acts, points.fetchall()

    assert load(localized, "localized") == load(source, "english")


def test_untranslated_header_with_portuguese_values():
    """A Portuguese account's export whose header was left in English (87 columns, HTML in some cells) still
    writes Portuguese dates, decimal commas and activity types."""
    data = make_activities_csv(ACTIVITIES, "pt_BR", L.ENGLISH_87).decode()
    english_header = ",".join(f'"{c}"' for c in L.ENGLISH_87)
    data = english_header + "\n" + data.split("\n", 1)[1]
    result = parse_activities_csv(data.encode())
    assert not result.unreadable and "dates read as pt_BR" in result.layout
    assert [r["sport_type"] for r in result.rows] == [a.sport for a in ACTIVITIES]
    assert [r["start_date"] for r in result.rows] == [_iso(a.start) for a in ACTIVITIES]


def test_a_spreadsheet_resaved_with_semicolons_still_reads():
    data = make_activities_csv(ACTIVITIES[:5], "de", L.ENGLISH_101).decode()
    rows = list(csv.reader(io.StringIO(data)))
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\r\n").writerows(rows)
    result = parse_activities_csv(buf.getvalue().encode("utf-8-sig"))
    assert [r["distance"] for r in result.rows] == pytest.approx([a.distance_m for a in ACTIVITIES[:5]])
    assert any("';'" in w for w in result.warnings)
