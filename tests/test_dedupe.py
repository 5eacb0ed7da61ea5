"""One activity per recording whatever the source: every pair of sources (API, archive, file) in both orders."""

import shutil
from datetime import UTC, datetime, timedelta

import pytest

from strava_pipeline.archive.dedupe import Known, RecordingIndex
from strava_pipeline.archive.file_sports import compatible_sports
from tests.support.device_files import shifted_gpx
from tests.support.reference import FILES, NOW, query, require, run_cli

SAMPLE = FILES / "sample_export.zip"

require(SAMPLE)


def test_match_rule():
    start = 1_600_000_000.0
    index = RecordingIndex(
        [Known(1, start, "MountainBikeRide", "api", True), Known(-5, start + 3000, "Run", "file", True)]
    )
    assert index.match(start + 59, "Ride").id == 1  # same family, within a minute
    assert index.match(start + 61, "Ride") is None  # too far apart
    assert index.match(start + 10, "Run") is None  # another sport
    assert index.match(start + 10, None).id == 1 and index.match(start + 10, "Workout").id == 1  # unknown, generic
    assert compatible_sports("VirtualRide", "Ride") and not compatible_sports("Swim", "Run")


def test_file_then_file_both_orders(tmp_path):
    gpx, tcx = FILES / "gpx" / "strava_export.gpx", FILES / "tcx" / "stopped_example.tcx"  # one run, two formats
    for first, second in ((gpx, tcx), (tcx, gpx)):
        data_dir = tmp_path / first.suffix[1:]
        assert run_cli(data_dir, "import", "--import-only", str(first))[0] == 0
        rc, out, err = run_cli(data_dir, "import", "--import-only", str(second))
        assert rc == 0, err
        assert "0 new activities" in out and "1 already loaded" in out
        assert query(data_dir, "select count(*), min(external_id) from strava.activities") == [(1, first.name)]
        # the duplicate's content is remembered: importing it again does not even parse it
        rc, out, err = run_cli(data_dir, "import", "--import-only", str(second))
        assert rc == 0 and "1 already imported (same content)" in out, out
        assert query(data_dir, "select result, count(*) from strava.imported_files group by 1 order by 1") == [
            ("duplicate", 1),
            ("new", 1),
        ]


def test_archive_then_file(tmp_path):
    data_dir = tmp_path / "data"
    assert run_cli(data_dir, "import", "--import-only", str(SAMPLE))[0] == 0
    before = query(data_dir, "select count(*) from strava.activities")
    # activity 900000002 of the sample export is this ride (Aug 16, 2013, 6:05:10 PM)
    rc, out, err = run_cli(
        data_dir, "import", "--import-only", str(FILES / "fit" / "Edge810-Vector-2013-08-16-15-35-10.fit")
    )
    assert rc == 0, err
    assert "0 new activities" in out and "1 already loaded" in out
    assert query(data_dir, "select count(*) from strava.activities") == before
    assert query(data_dir, "select count(*) from strava.activities where source = 'file'") == [(0,)]
    assert query(data_dir, "select distinct source from strava.activity_streams where activity_id = 900000002") == [
        ("archive",)
    ]


def test_file_then_archive(tmp_path):
    data_dir = tmp_path / "data"
    assert (
        run_cli(data_dir, "import", "--import-only", str(FILES / "fit" / "Edge810-Vector-2013-08-16-15-35-10.fit"))[0]
        == 0
    )
    assert query(data_dir, "select count(*) from strava.activities where source = 'file'") == [(1,)]
    rc, out, err = run_cli(data_dir, "import", "--import-only", str(SAMPLE))
    assert rc == 0, err
    assert "1 activities imported from loose files are this archive's: replaced." in out
    # the archive's row wins; the file row and its points are gone, nothing is counted twice
    assert query(data_dir, "select count(*) from strava.activities where source = 'file'") == [(0,)]
    assert query(data_dir, "select count(*) from strava.activity_streams where activity_id < 0") == [(0,)]
    assert query(data_dir, "select source from strava.activities where id = 900000002") == [("archive",)]


def test_file_fills_an_archive_activity_without_file(tmp_path):
    data_dir = tmp_path / "data"
    export = tmp_path / "export"
    shutil.unpack_archive(SAMPLE, export)
    csv = (export / "activities.csv").read_text()
    # the sample's 900000007 (a run, Jan 10, 2021, 8:54:28 AM) loses its file: a manual row as far as Strava knows
    csv = csv.replace("activities/910000007.gpx.gz", "")
    (export / "activities.csv").write_text(csv)
    assert run_cli(data_dir, "import", "--import-only", str(export))[0] == 0
    assert query(data_dir, "select count(*) from strava.activity_streams where activity_id = 900000007") == [(0,)]
    rc, out, err = run_cli(data_dir, "import", "--import-only", str(FILES / "tcx" / "stopped_example.tcx"))
    assert rc == 0, err
    assert "1 already loaded (1 of them gave their streams to an activity that had none)" in out
    assert query(
        data_dir, "select count(*), min(source) from strava.activity_streams where activity_id = 900000007"
    ) == [(1697, "file")]
    assert query(data_dir, "select count(*) from strava.activities where source = 'file'") == [(0,)]


# -------------------------------------------------------------------------------------------- with the API


@pytest.fixture
def api_cli(request):
    try:
        return request.getfixturevalue("cli")
    except pytest.FixtureLookupError:
        pytest.skip("needs the `cli` fixture (tests/conftest.py and the fake API)")


def _recent_with_gps(fake) -> dict:
    since = datetime.fromtimestamp(NOW, UTC) - timedelta(days=25)
    for a in fake.activities(visible_only=True):
        if not a["manual"] and a["start_date"] >= since.strftime("%Y-%m-%dT%H:%M:%SZ"):
            return a
    raise AssertionError("the fake athlete has no recent activity with a file")


def test_api_without_streams_then_file_fills_them(api_cli, tmp_path):
    cli, fake = api_cli, api_cli.fake
    rc, out, err = cli("--no-streams", "--import-only")
    assert rc == 0, err
    activity = _recent_with_gps(fake)
    aid = activity["id"]
    gpx = shifted_gpx(tmp_path / "ride.gpx", activity["start_date"], activity["sport_type"])
    rc, out, err = cli("import", "--import-only", str(gpx))
    assert rc == 0, err
    assert "0 new activities" in out and "gave their streams" in out
    assert cli.sql(f"select count(*), min(source) from strava.activity_streams where activity_id = {aid}") == [
        (1697, "file")
    ]
    assert cli.sql(f"select source from strava.activities where id = {aid}") == [("api",)]
    # the API's queue takes the file's streams as fetched
    fake.reset_log()
    assert cli("--import-only")[0] == 0
    assert not [e for e in fake.log if e.path.endswith(f"/{aid}/streams")]


def test_file_then_api_is_one_activity(api_cli, tmp_path):
    cli, fake = api_cli, api_cli.fake
    activity = _recent_with_gps(fake)
    aid = activity["id"]
    gpx = shifted_gpx(tmp_path / "ride.gpx", activity["start_date"], activity["sport_type"])
    rc, out, err = cli("import", "--import-only", str(gpx))
    assert rc == 0 and "1 new activities" in out, err
    assert cli("--import-only")[0] == 0
    # both rows are in the raw table until the next import; staging (stg_strava__activities) leaves the file's out,
    # so the marts count the recording once
    assert cli.sql("select count(*) from strava.activities where source = 'file'") == [(1,)]
    for dbt_args in (["seed"], ["run", "--select", "+fct_activities"]):  # the models only, not other models' tests
        rc, out, err = cli("dbt", *dbt_args)
        assert rc == 0, out + err
    start = activity["start_date"].replace("T", " ").replace("Z", "")
    assert cli.sql(
        "select activity_id, source from marts.fct_activities "
        f"where abs(epoch(start_at_utc) - epoch(timestamp '{start}')) <= 60"
    ) == [(aid, "api")]
    rc, out, err = cli("import", "--import-only", str(FILES / "fit" / "garmin-fenix-5-run.fit"))  # any next import
    assert rc == 0, err
    assert "1 file activities replaced by the same recording from Strava" in out
    assert cli.sql("select count(*) from strava.activities where source = 'file' and external_id = 'ride.gpx'") == [
        (0,)
    ]
    assert cli.sql(f"select source from strava.activities where id = {aid}") == [("api",)]
    assert cli.sql(f"select distinct source from strava.activity_streams where activity_id = {aid}") == [("api",)]
