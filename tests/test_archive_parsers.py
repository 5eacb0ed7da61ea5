"""Tests of the bulk-export archive parsers against the real reference files (shared/strava-reference/files)."""

import csv
import gzip
import io
import random
import shutil
import zipfile
from datetime import UTC, datetime

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from strava_pipeline import settings
from strava_pipeline.archive.activities_csv import clean_header, parse_activities_csv, parse_date
from strava_pipeline.archive.fit import parse_fit
from strava_pipeline.archive.gpx import parse_gpx
from strava_pipeline.archive.reader import ArchiveError, gunzip, open_archive
from strava_pipeline.archive.sport_types import sport_and_type
from strava_pipeline.archive.tcx import parse_tcx
from strava_pipeline.archive.tracks import parse_track
from strava_pipeline.archive.types import TRACK_SCHEMA, to_stream_table
from tests.support.reference import FILES

pytestmark = pytest.mark.skipif(
    not (FILES / "activities.csv").is_file(), reason=f"reference files not found in {FILES} (set STRAVA_REFERENCE_DIR)"
)


def noise(n: int, seed: int = 20250825) -> bytes:
    """'Random' bytes that are the same on every run, whatever subset of tests runs."""
    return random.Random(seed + n).randbytes(n)


def read(rel: str) -> bytes:
    return (FILES / rel).read_bytes()


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def non_null(table: pa.Table, column: str) -> int:
    return table.num_rows - table.column(column).null_count


# --------------------------------------------------------------------------------------------
# activities.csv


@pytest.fixture(scope="module")
def real_csv():
    return parse_activities_csv(read("activities.csv"))


@pytest.fixture(scope="module")
def real_by_id(real_csv):
    return {r["id"]: r for r in real_csv.rows}


@pytest.fixture(scope="module")
def raw_real_rows():
    rows = list(csv.reader(io.StringIO(read("activities.csv").decode("utf-8"), newline="")))
    return rows[1:]


def test_csv_row_count_ids_and_keys(real_csv):
    assert len(real_csv.rows) == 1845
    ids = [r["id"] for r in real_csv.rows]
    assert len(set(ids)) == 1845
    assert all(isinstance(i, int) for i in ids)
    assert max(ids) == 15586400430  # needs int64
    keys = set(real_csv.rows[0])
    assert all(set(r) == keys for r in real_csv.rows)  # one shape for every row
    for k in (
        "id",
        "name",
        "type",
        "sport_type",
        "start_date",
        "start_date_local",
        "utc_offset",
        "distance",
        "moving_time",
        "elapsed_time",
        "total_elevation_gain",
        "elev_high",
        "elev_low",
        "max_speed",
        "average_speed",
        "average_heartrate",
        "max_heartrate",
        "average_cadence",
        "average_watts",
        "weighted_average_watts",
        "kilojoules",
        "calories",
        "average_temp",
        "commute",
        "private",
        "gear_name",
        "description",
        "filename",
        "suffer_score",
        "perceived_exertion",
        "max_grade",
        "average_grade",
        "elevation_loss",
        "number_of_runs",
        "total_steps",
    ):
        assert k in keys, k


def test_csv_a_ride_by_hand(real_by_id):
    r = real_by_id[203707851]
    assert r["name"] == "Lunch Ride"
    assert (r["sport_type"], r["type"]) == ("Ride", "Ride")
    assert r["start_date"] == "2014-10-05T16:15:21Z"
    assert r["distance"] == 13609.2001953125  # col 17, metres, float32 noise kept
    assert r["elapsed_time"] == 2833 and r["moving_time"] == 2499
    assert r["max_speed"] == 11.0
    assert r["total_elevation_gain"] == 73.52400207519531
    assert (r["elev_low"], r["elev_high"]) == (241.0, 285.5)
    assert r["commute"] is False
    assert r["filename"] == "activities/203707851.gpx"
    assert r["start_date_local"] is None and r["utc_offset"] is None and r["private"] is None
    assert r["description"] is None and r["max_heartrate"] is None


def test_csv_distance_is_metres_for_every_row(real_csv, raw_real_rows):
    raw = {int(c[0]): c for c in raw_real_rows}
    for r in real_csv.rows:
        assert r["distance"] == float(raw[r["id"]][17])
    # the display copy is km for everything but Sail (and one broken Hike)
    ride = next(r for r in real_csv.rows if r["sport_type"] == "Ride" and r["distance"] > 10000)
    assert abs(ride["distance"] / 1000 - float(raw[ride["id"]][6])) <= 0.011


def test_csv_sail_distance_is_metres_not_nautical_miles(real_csv, raw_real_rows):
    raw = {int(c[0]): c for c in raw_real_rows}
    sails = [r for r in real_csv.rows if r["sport_type"] == "Sail"]
    assert len(sails) == 20
    for r in sails:
        nm = float(raw[r["id"]][6])
        assert 1852 <= r["distance"] / nm <= 1915
    assert [r["distance"] for r in sails if r["id"] == 9024249421] == [29610.490234375]


def test_csv_hike_whose_two_copies_disagree(real_csv, real_by_id):
    r = real_by_id[14827328714]
    # the precise copies agree with Average Speed and Average Elapsed Speed; the display ones do not
    assert r["distance"] == 20195.80078125
    assert r["elapsed_time"] == 10744
    assert abs(r["distance"] / r["moving_time"] - r["average_speed"]) < 1e-3
    assert abs(r["distance"] / r["elapsed_time"] - r["average_elapsed_speed"]) < 1e-3
    flagged = [w for w in real_csv.warnings if "14827328714" in w]
    assert len(flagged) == 2  # Elapsed Time and Distance


def test_csv_elapsed_time_falls_back_to_the_integer_copy(real_by_id):
    assert real_by_id[2337394731]["elapsed_time"] == 7283  # col 15 empty in this row


def test_csv_dates_are_utc_iso(real_csv, real_by_id):
    assert all(r["start_date"] and r["start_date"].endswith("Z") for r in real_csv.rows)
    assert real_by_id[15586400430]["start_date"] == "2025-08-25T21:59:25Z"
    # "Jun 26, 2023, 2:04:32 AM" "Evening Ride": UTC date, not the local one
    assert min(r["start_date"] for r in real_csv.rows) == "2014-10-05T16:15:21Z"


def test_parse_date_without_locale():
    assert parse_date("Oct 5, 2014, 4:15:21 PM") == "2014-10-05T16:15:21Z"
    assert parse_date("Aug 13, 2021, 12:00:00 AM") == "2021-08-13T00:00:00Z"
    assert parse_date("Aug 13, 2021, 12:30:05 PM") == "2021-08-13T12:30:05Z"
    assert parse_date("Sep 2, 2017, 6:22:50 PM") == "2017-09-02T18:22:50Z"
    assert parse_date("5 Oct 2014, 16:15:21") == "2014-10-05T16:15:21Z"
    assert parse_date("2014-10-05T16:15:21Z") == "2014-10-05T16:15:21Z"
    assert parse_date("not a date") is None and parse_date("") is None


def test_csv_types_gear_and_extras(real_csv, real_by_id):
    counts = {}
    for r in real_csv.rows:
        counts[(r["sport_type"], r["type"])] = counts.get((r["sport_type"], r["type"]), 0) + 1
    assert counts[("NordicSki", "NordicSki")] == 58
    assert counts[("AlpineSki", "AlpineSki")] == 57
    assert counts[("Canoeing", "Canoeing")] == 1  # display name "Canoe"
    assert counts[("Velomobile", "Velomobile")] == 1
    assert all(r["number_of_runs"] for r in real_csv.rows if r["sport_type"] == "AlpineSki")
    assert all(r["commute"] is False for r in real_csv.rows)  # 46 rows only have the text copy
    kona = [r for r in real_csv.rows if r["gear_name"] == "Kona Rove ST"]
    assert len(kona) == 650 and {r["gear_id"] for r in kona} == {"b5858926"}
    assert real_by_id[622837009]["name"] == "2"  # a name that looks like a number stays text
    assert not [w for w in real_csv.warnings if "unknown activity type" in w]
    assert sum(1 for r in real_csv.rows if r["filename"].endswith(".gpx.gz")) == 18
    assert real_by_id[7796555307]["filename"] == "activities/8328132174.gpx.gz"


def test_sport_type_mapping():
    assert sport_and_type("Nordic Ski") == ("NordicSki", "NordicSki", True)
    assert sport_and_type("Virtual Ride") == ("VirtualRide", "VirtualRide", True)
    assert sport_and_type("Stand Up Paddling") == ("StandUpPaddling", "StandUpPaddling", True)
    assert sport_and_type("Weight Training") == ("WeightTraining", "WeightTraining", True)
    assert sport_and_type("E-Bike Ride") == ("EBikeRide", "EBikeRide", True)
    assert sport_and_type("Trail Run") == ("TrailRun", "Run", True)
    assert sport_and_type("Rock Climb") == ("RockClimbing", "RockClimbing", True)
    assert sport_and_type("Mountain Bike Ride") == ("MountainBikeRide", "Ride", True)
    assert sport_and_type("Padel tennis") == ("PadelTennis", "Workout", False)


@pytest.mark.parametrize(
    "rel, rows",
    [
        ("older-exports/activities_2023-10-25_87cols.csv", 1122),
        ("older-exports/activities_2024-12-17_94cols.csv", 1587),
    ],
)
def test_csv_older_exports(rel, rows, real_by_id):
    result = parse_activities_csv(read(rel))
    assert len(result.rows) == rows
    assert not [w for w in result.warnings if "not mapped" in w]  # HTML stripped, Avg -> Average
    for r in result.rows:
        assert r["id"] in real_by_id  # every older id is still in the 2025 export
        newer = real_by_id[r["id"]]
        assert r["start_date"] == newer["start_date"]
        assert r["sport_type"] == newer["sport_type"]
    shared = result.rows[0]
    assert shared["distance"] == real_by_id[shared["id"]]["distance"]


def test_csv_older_export_has_bin_gz_filename():
    rows = parse_activities_csv(read("older-exports/activities_2024-12-17_94cols.csv")).rows
    assert [r["filename"] for r in rows if r["id"] == 10105638284] == ["activities/10825299000.bin.gz"]


def test_clean_header_strips_html():
    cell = (
        '<span class="translation_missing" title="translation missing: '
        'en-US.lib.export.portability_exporter.activities.horton_values.avg_flow">Avg Flow</span>'
    )
    assert clean_header(cell) == "Avg Flow"


def test_csv_unknown_type_short_rows_and_bad_values():
    header = read("activities.csv").split(b"\n", 1)[0].decode()
    width = header.count(",") + 1
    row = ["1", '"Jan 2, 2020, 1:02:03 PM"', "x", "Padel"] + [""] * (width - 4)
    row[17] = "oops"
    row[6] = "1.50"
    short = ["2", '"Jan 3, 2020, 1:02:03 AM"', "y", "Trail Run"]
    data = "\n".join([header, ",".join(row), ",".join(short), ""]).encode()
    result = parse_activities_csv(data)
    a, b = result.rows
    assert (a["sport_type"], a["type"]) == ("Padel", "Workout")
    assert a["distance"] == 1500.0  # metres copy unreadable -> display km
    assert (b["sport_type"], b["type"], b["start_date"]) == ("TrailRun", "Run", "2020-01-03T01:02:03Z")
    text = "\n".join(result.warnings)
    assert "Padel" in text and "fields instead of" in text and "'Distance'" in text


@pytest.mark.parametrize("data", [b"", b"\x00\x01\x02garbage\xff\xfe", b"a,b,c\n1,2,3\n", noise(2000)])
def test_csv_garbage_never_raises(data):
    result = parse_activities_csv(data)
    assert result.rows == [] and result.warnings


# --------------------------------------------------------------------------------------------
# tracks

# file -> (points, GPS points, damaged); counts from NOTES.md sections 2-4. Differences from the
# NOTES record counts: nick.fit has one exact duplicate record (14,391 records, 14,390 points);
# the Strava app writes each second as two records (merged: 473 records -> 236 points) and its
# last record is corrupt (year 2085, dropped), so 236 of its 237 GPS fixes remain.
TRACKS = {
    "fit/activity-small-fenix2-run.fit": (2809, 2809, False),
    "fit/Edge810-Vector-2013-08-16-15-35-10.fit": (4700, 4700, False),
    "fit/sample-activity-indoor-trainer.fit": (2263, 0, False),
    "fit/20170518-191602-1740899583.fit": (1641, 0, False),
    "fit/strava-android-app-201.10-b1218918.fit": (236, 236, True),
    "fit/null_compressed_speed_dist.fit": (1808, 1808, False),
    "fit/event_timestamp.fit": (4376, 0, False),
    "fit/garmin-fenix-5-run.fit": (21, 21, False),
    "fit/2015-10-13-08-43-15.fit": (221, 221, False),
    "fit/nick.fit": (14390, 14390, True),
    "gpx/strava_export.gpx": (1697, 1697, False),
    "gpx/around-visnjan-with-car.gpx": (104, 104, False),
    "gpx/cerknicko-jezero.gpx": (296, 296, False),
    "gpx/korita-zbevnica.gpx": (871, 871, False),
    "gpx/Mojstrovka.gpx": (184, 184, False),
    "gpx/track-with-empty-segment.gpx": (9, 9, False),
    "tcx/test.tcx": (384, 383, False),
    "tcx/sup_activity_1.tcx": (111, 111, False),
    "tcx/stopped_example.tcx": (1697, 1628, False),
}
PARSE = {"fit": parse_fit, "gpx": parse_gpx, "tcx": parse_tcx}


@pytest.fixture(scope="module")
def parsed():
    cache = {}

    def get(rel):
        if rel not in cache:
            cache[rel] = PARSE[rel.split("/")[0]](read(rel))
        return cache[rel]

    return get


def test_every_reference_track_file_is_covered():
    on_disk = {p.relative_to(FILES).as_posix() for d in ("fit", "gpx", "tcx") for p in (FILES / d).iterdir()}
    assert on_disk == set(TRACKS)


@pytest.mark.parametrize("rel", sorted(TRACKS))
def test_track_counts_and_shape(rel, parsed):
    points, gps, damaged = TRACKS[rel]
    r = parsed(rel)
    t = r.table
    assert t.schema == TRACK_SCHEMA
    assert (r.points, r.gps_points, r.damaged) == (points, gps, damaged), r.warnings
    assert t.column("point_index").to_pylist() == list(range(points))
    assert pc.min(t.column("time")).as_py() in (0, None)
    assert t.column("lat").null_count == t.column("lng").null_count
    assert t.column("grade_smooth").null_count == points
    if damaged:
        assert r.warnings
    # parse_track picks the same parser from the content
    assert parse_track(read(rel)).table.equals(t)
    full = to_stream_table(t, activity_id=42, athlete_id=7)
    assert full.schema == settings.STREAM_SCHEMA
    assert full.column("source").to_pylist()[:1] == (["archive"] if points else [])


def test_fit_positions_are_degrees(parsed):
    t = parsed("fit/Edge810-Vector-2013-08-16-15-35-10.fit").table
    assert abs(t.column("lat")[0].as_py() - 47.6268) < 1e-4
    assert abs(t.column("lng")[0].as_py() - -52.8155) < 1e-4
    r = parsed("fit/activity-small-fenix2-run.fit")
    assert abs(r.table.column("lat")[0].as_py() - 58.96) < 0.01
    assert abs(r.table.column("lng")[0].as_py() - 5.73) < 0.01


def test_fit_start_sport_device_offset(parsed):
    r = parsed("fit/activity-small-fenix2-run.fit")
    assert r.start_time_utc == utc(2015, 8, 15, 14, 45, 8)
    assert r.table.column("time")[-1].as_py() == (utc(2015, 8, 15, 15, 32, 21) - r.start_time_utc).seconds
    assert (r.sport, r.device, r.utc_offset_s) == ("running", "garmin fenix2", 7200.0)
    assert non_null(r.table, "heartrate") == 2808
    z = parsed("fit/null_compressed_speed_dist.fit")
    assert z.sport == "cycling/virtual_activity" and z.utc_offset_s is None  # Zwift's local time is bogus
    assert parsed("fit/2015-10-13-08-43-15.fit").start_time_utc == utc(2015, 10, 13, 15, 43, 15)


def test_fit_indoor_trainer_has_no_gps_distance_or_speed(parsed):
    t = parsed("fit/sample-activity-indoor-trainer.fit").table
    for col in ("lat", "distance", "velocity_smooth", "moving"):
        assert non_null(t, col) == 0, col
    assert non_null(t, "heartrate") == 2263 and non_null(t, "watts") == 2222


def test_fit_rower_developer_fields_replace_zero_native(parsed):
    r = parsed("fit/20170518-191602-1740899583.fit")
    t = r.table
    assert r.sport == "fitness_equipment/indoor_rowing"
    assert pc.max(t.column("distance")).as_py() == 6163
    assert non_null(t, "velocity_smooth") == 1641 and non_null(t, "watts") == 1641
    assert any("developer field" in w for w in r.warnings)


def test_fit_strava_app_keeps_points_before_the_damage(parsed):
    r = parsed("fit/strava-android-app-201.10-b1218918.fit")
    t = r.table
    assert r.damaged and r.sport == "running" and r.device == "strava 102"
    assert r.start_time_utc == utc(2021, 9, 27, 14, 13, 10)
    assert 925 < t.column("distance")[-1].as_py() < 930  # ~928 m of the 11.3 km run
    assert t.column("time")[-1].as_py() == 314  # 2085 record gone
    assert non_null(t, "distance") == non_null(t, "lat") == 236  # position + distance records merged
    assert non_null(t, "altitude") == 236


def test_fit_unterminated_file_keeps_every_record(parsed):
    r = parsed("fit/nick.fit")
    t = r.table
    assert r.damaged and r.sport == "cycling"
    assert r.start_time_utc == utc(2020, 9, 12, 12, 23, 38)
    assert r.start_time_utc.timestamp() + t.column("time")[-1].as_py() == utc(2020, 9, 12, 17, 2, 21).timestamp()
    assert non_null(t, "watts") == 0 and non_null(t, "cadence") == 0  # all-zero series -> null
    assert non_null(t, "heartrate") == 14390


def test_fit_all_zero_heart_rate_is_null(parsed):
    r = parsed("fit/null_compressed_speed_dist.fit")
    assert non_null(r.table, "heartrate") == 0
    assert non_null(r.table, "watts") == 1808  # real power kept, zeros and all
    assert abs(r.table.column("distance")[-1].as_py() - 13400.14) < 0.01


def test_fit_swim_heart_rate_from_hr_messages(parsed):
    r = parsed("fit/event_timestamp.fit")
    hr = r.table.column("heartrate")
    assert r.sport == "swimming/lap_swimming" and r.utc_offset_s == -14400.0
    assert hr.null_count < 200
    assert 100 < pc.mean(hr).as_py() < 160  # session avg 142


def test_gpx_strava_export(parsed):
    r = parsed("gpx/strava_export.gpx")
    t = r.table
    assert (r.sport, r.device) == ("9", "StravaGPX")
    assert r.start_time_utc == utc(2021, 1, 10, 8, 54, 28)
    assert non_null(t, "heartrate") == non_null(t, "cadence") == 1697
    assert 12500 < t.column("distance")[-1].as_py() < 12700  # gpxpy length_2d 12,609 m
    assert t.column("time")[-1].as_py() == 5127


def test_gpx_broken_1901_clock_keeps_geometry_without_time(parsed):
    r = parsed("gpx/Mojstrovka.gpx")
    t = r.table
    assert r.start_time_utc is None and not r.damaged
    assert non_null(t, "time") == 0 and non_null(t, "velocity_smooth") == 0 and non_null(t, "moving") == 0
    assert 2650 < t.column("distance")[-1].as_py() < 2750  # gpxpy 2,700.65 m
    assert any("implausible" in w for w in r.warnings)


def test_gpx_points_without_time_and_many_tracks(parsed):
    r = parsed("gpx/korita-zbevnica.gpx")
    assert non_null(r.table, "time") == 513
    assert r.start_time_utc == utc(2010, 10, 3, 9, 36, 30)
    c = parsed("gpx/cerknicko-jezero.gpx")
    assert c.table.column("time")[-1].as_py() == (utc(2010, 8, 5, 16, 23, 49) - utc(2010, 8, 5, 14, 23, 59)).seconds


def test_gpx_extension_namespaces_power_and_temp():
    gpx = b"""<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:ns3="http://www.garmin.com/xmlschemas/TrackPointExtension/v1"
     xmlns:pw="http://www.garmin.com/xmlschemas/PowerExtension/v1">
 <trk><type>cycling</type><trkseg>
  <trkpt lat="1.0" lon="2.0"><time>2020-01-01T00:00:00Z</time>
   <extensions><power>200</power><ns3:TrackPointExtension><ns3:hr>120</ns3:hr><ns3:atemp>21</ns3:atemp>
   </ns3:TrackPointExtension></extensions></trkpt>
  <trkpt lat="1.0001" lon="2.0"><time>2020-01-01T00:00:05Z</time>
   <extensions><pw:PowerExtension><pw:PowerInWatts>210</pw:PowerInWatts></pw:PowerExtension>
   <ns3:TrackPointExtension><ns3:hr>121</ns3:hr><ns3:cad>80</ns3:cad></ns3:TrackPointExtension></extensions></trkpt>
 </trkseg><trkseg/></trk></gpx>"""
    r = parse_gpx(gpx)
    t = r.table
    assert r.sport == "cycling"
    assert t.column("watts").to_pylist() == [200.0, 210.0]
    assert t.column("heartrate").to_pylist() == [120.0, 121.0]
    assert t.column("temp").to_pylist() == [21.0, None]
    assert t.column("time").to_pylist() == [0, 5]
    assert abs(t.column("distance")[1].as_py() - 11.12) < 0.05  # 0.0001 deg of latitude
    assert t.column("moving").to_pylist() == [True, True]


def test_tcx_files(parsed):
    t = parsed("tcx/test.tcx")
    assert (t.sport, t.device) == ("Running", "Forerunner 410 Software Version 2.20")
    last = t.table.slice(383).to_pylist()[0]
    assert last["time"] == 1992 and last["lat"] is None and last["distance"] is None
    assert abs(t.table.column("distance")[382].as_py() - 4686.31) < 0.01
    s = parsed("tcx/sup_activity_1.tcx")
    assert s.sport == "Other" and s.start_time_utc == utc(2022, 7, 16, 16, 8, 25)
    assert non_null(s.table, "velocity_smooth") == 111 and non_null(s.table, "altitude") == 0
    e = parsed("tcx/stopped_example.tcx")
    assert non_null(e.table, "cadence") == 1690 and non_null(e.table, "heartrate") == 1692
    assert e.device is None


def test_tcx_and_gpx_of_the_same_activity_share_times(parsed):
    gpx = parsed("gpx/strava_export.gpx")
    tcx = parsed("tcx/stopped_example.tcx")
    assert gpx.start_time_utc == tcx.start_time_utc
    assert gpx.table.column("time").equals(tcx.table.column("time"))


BAD_INPUTS = [
    b"",
    b"   ",
    noise(4096),
    b"PK\x03\x04 not really",
    b"<html><body>404</body></html>",
    b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT" + noise(500),
]


@pytest.mark.parametrize("parser", [parse_fit, parse_gpx, parse_tcx, parse_track])
@pytest.mark.parametrize("data", BAD_INPUTS)
def test_bad_input_gives_empty_damaged_result(parser, data):
    r = parser(data)
    assert r.damaged and r.warnings
    assert r.table.schema == TRACK_SCHEMA
    assert r.points == 0 or parser in (parse_fit, parse_track)  # random FIT body may decode a record


@pytest.mark.parametrize(
    "rel, minimum",
    [
        ("fit/Edge810-Vector-2013-08-16-15-35-10.fit", 1000),
        ("gpx/strava_export.gpx", 300),
        ("tcx/stopped_example.tcx", 300),
    ],
)
def test_truncated_files_keep_points_before_the_cut(rel, minimum):
    data = read(rel)
    r = parse_track(data[: len(data) // 2], rel)
    assert r.damaged and r.warnings
    assert minimum < r.points < TRACKS[rel][0]


@pytest.mark.parametrize("seed", range(40))
def test_mutated_files_never_raise(seed):
    rng = random.Random(seed)
    rel = rng.choice([r for r in sorted(TRACKS) if "nick" not in r and "stopped" not in r])
    data = bytearray(read(rel))
    for _ in range(rng.randint(1, 30)):
        data[rng.randrange(len(data))] = rng.randrange(256)
    data = bytes(data[: rng.randrange(len(data) // 2, len(data) + 1)])
    result = parse_track(data, rel)
    assert result.table.schema == TRACK_SCHEMA


def test_xml_with_entities_is_refused():
    bomb = b'<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY a "aaaaaaaa">]><gpx version="1.1">&a;</gpx>'
    r = parse_gpx(bomb)
    assert r.damaged and "DOCTYPE" in r.warnings[0]


# --------------------------------------------------------------------------------------------
# gzip and the archive


def test_gunzip_truncated_and_concatenated():
    raw = read("gpx/strava_export.gpx")
    packed = gzip.compress(raw)
    data, damaged, warnings = gunzip(packed[: len(packed) // 3])
    assert damaged and warnings and 0 < len(data) < len(raw) and raw.startswith(data)
    data, damaged, _ = gunzip(packed)
    assert data == raw and not damaged
    data, damaged, _ = gunzip(gzip.compress(b"abc") + gzip.compress(b"def"))
    assert (data, damaged) == (b"abcdef", False)
    data, damaged, warnings = gunzip(b"\x1f\x8b" + noise(100))
    assert damaged and warnings


def test_sample_export_every_member_resolves_or_is_missing():
    with open_archive(FILES / "sample_export.zip") as archive:
        result = parse_activities_csv(archive.read_csv_bytes())
        assert len(result.rows) == 12
        by_id = {r["id"]: r for r in result.rows}
        assert "comma" in by_id[900000001]["description"] and "\n" in by_id[900000001]["description"]
        assert by_id[900000004]["sport_type"] == "VirtualRide"
        assert by_id[900000010]["sport_type"] == "StandUpPaddling"
        assert by_id[10105602916]["filename"] is None
        outcome = {}
        for row in result.rows:
            member = archive.open_member(row["filename"])
            if member is None:
                outcome[row["id"]] = "missing"
                continue
            track = parse_track(member, member.name)
            outcome[row["id"]] = (member.name, track.points, track.gps_points, track.damaged)
        assert archive.warnings == []
    assert outcome[203707851] == "missing" and outcome[10105602916] == "missing"
    assert outcome[900000001] == ("activities/900000001.fit.gz", 2809, 2809, False)
    assert outcome[900000002] == ("activities/900000002.fit", 4700, 4700, False)
    assert outcome[900000003][1:] == (2263, 0, False)
    assert outcome[900000005][1:] == (236, 236, True)
    assert outcome[900000007] == ("activities/910000007.gpx.gz", 1697, 1697, False)
    assert outcome[900000008][1:] == (184, 184, False)
    assert outcome[900000009][1:] == (384, 383, False)
    assert outcome[900000010][1:] == (111, 111, False)
    assert len(outcome) == 12


def test_unpacked_folder_and_nested_folder(tmp_path):
    with zipfile.ZipFile(FILES / "sample_export.zip") as zf:
        zf.extractall(tmp_path / "flat")
        zf.extractall(tmp_path / "outer" / "export_123")
    for root in (tmp_path / "flat", tmp_path / "outer"):
        with open_archive(root) as archive:
            assert archive.kind == "folder"
            assert len(parse_activities_csv(archive.read_csv_bytes()).rows) == 12
            assert "activities/900000002.fit" in archive.members()
            member = archive.open_member("activities/900000006.fit.gz")
            assert member.name == "activities/900000006.fit.gz" and member[8:12] == b".FIT"
            assert archive.open_member("activities/203707851.gpx") is None


def test_zip_with_single_top_level_folder_and_gz_twin(tmp_path):
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(FILES / "sample_export.zip") as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            name = info.filename
            if name == "activities/900000008.gpx":  # listed plain, stored gzipped
                name, data = name + ".gz", gzip.compress(data)
            dst.writestr("export_42/" + name, data)
        dst.writestr("__MACOSX/export_42/._activities.csv", b"junk")
    with open_archive(path) as archive:
        assert archive.members()[0] == "activities.csv"
        member = archive.open_member("activities/900000008.gpx")
        assert member.name == "activities/900000008.gpx.gz" and member.startswith(b"<?xml")


def test_truncated_gzip_member_in_archive(tmp_path):
    packed = gzip.compress(read("gpx/strava_export.gpx"))
    path = tmp_path / "cut.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("activities.csv", read("activities.csv")[:2000])
        zf.writestr("activities/1.gpx.gz", packed[: len(packed) // 2])
    with open_archive(path) as archive:
        member = archive.open_member("activities/1.gpx.gz")
        assert member.damaged and member.warnings
        track = parse_track(member, member.name)
        assert track.damaged and 500 < track.points < 1697
        assert track.warnings[0] == member.warnings[0]


def test_path_traversal_is_refused(tmp_path):
    (tmp_path / "export").mkdir()
    shutil.copy(FILES / "activities.csv", tmp_path / "export" / "activities.csv")
    (tmp_path / "secret.txt").write_text("secret")
    (tmp_path / "export" / "link.txt").symlink_to(tmp_path / "secret.txt")
    with open_archive(tmp_path / "export") as archive:
        for bad in ("../secret.txt", "/etc/passwd", "activities/../../secret.txt", "C:\\secret.txt", "link.txt"):
            assert archive.open_member(bad) is None, bad
        assert archive.open_member("./activities.csv").startswith(b"Activity ID")
    with open_archive(FILES / "sample_export.zip") as archive:
        assert archive.open_member("../activities.csv") is None
        assert archive.warnings


def test_archive_errors(tmp_path):
    cases = {}
    cases["missing"] = tmp_path / "nope.zip"
    (tmp_path / "notes.txt").write_bytes(b"hello, not a zip")
    cases["not a zip"] = tmp_path / "notes.txt"
    (tmp_path / "random.bin").write_bytes(noise(3000))
    cases["random"] = tmp_path / "random.bin"
    whole = (FILES / "sample_export.zip").read_bytes()
    (tmp_path / "cut.zip").write_bytes(whole[: len(whole) // 2])
    cases["truncated zip"] = tmp_path / "cut.zip"
    broken = bytearray(whole)
    eocd = broken.rfind(b"PK\x05\x06")
    broken[eocd + 16 : eocd + 20] = b"\xff\xff\xff\x7f"  # central directory offset out of range
    (tmp_path / "broken.zip").write_bytes(bytes(broken))
    cases["corrupt directory"] = tmp_path / "broken.zip"
    empty_zip = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty_zip, "w") as zf:
        zf.writestr("profile.csv", b"x")
    cases["no csv"] = empty_zip
    (tmp_path / "emptydir").mkdir()
    cases["folder without csv"] = tmp_path / "emptydir"
    for label, path in cases.items():
        with pytest.raises(ArchiveError) as err:
            open_archive(path)
        message = str(err.value)
        assert str(path) in message and message.count(".") >= 1, label
        assert any(w in message for w in ("pass", "download", "check")), label


def test_corrupt_member_data_is_flagged(tmp_path):
    path = tmp_path / "flip.zip"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("activities.csv", b"Activity ID\n1\n")
        zf.writestr("activities/1.fit", read("fit/garmin-fenix-5-run.fit"))
    raw = bytearray(path.read_bytes())
    start = raw.find(b"activities/1.fit") + len("activities/1.fit")
    for i in range(start + 200, start + 260):
        raw[i] ^= 0x55
    path.write_bytes(bytes(raw))
    with open_archive(path) as archive:
        member = archive.open_member("activities/1.fit")
        assert member is not None and member.damaged and member.warnings
        parse_track(member, member.name)  # must not raise
