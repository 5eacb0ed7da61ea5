"""`strava.py import PATH...` with loose device files: values against what the real files declare, stable ids, bad
input skipped with a reason, paths with nothing importable refused, re-import reads nothing again."""

import gzip
import hashlib
import io
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest

from strava_pipeline.archive.file_rows import FILE_HASH_ID_OFFSET, file_activity_id, file_activity_row
from strava_pipeline.archive.files import SKIP_BOMB, SKIP_EMPTY_FILE, FileRef, read_file
from strava_pipeline.archive.fit_records import crc_warning
from strava_pipeline.archive.tracks import detect_format, parse_track
from tests.support.reference import FILES, THIRD_PARTY, query, require, run_cli

require(THIRD_PARTY)


def row_of(path: Path) -> dict:
    data = path.read_bytes()
    track = parse_track(data, path.name, summary=True)
    return file_activity_row(track, detect_format(data, path.name), path.name, hashlib.sha256(data).hexdigest(), None)


# ------------------------------------------------------------------------------------------ values per file


# file -> (sport_type, trainer, distance m, moving s, elapsed s) as the FIT session declares them
# (total_distance, total_timer_time, total_elapsed_time; PROVENANCE.md gives the same distances)
FIT_DECLARED = {
    "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit": ("Ride", False, 78940.6, 13471, 23595),
    "python-fitparse/coros-pace-2-cycling-misaligned-fields.fit": ("Ride", False, 32145.8, 11287, 12719),
    "python-fitparse/garmin-edge-500-activity.fit": ("Ride", False, 92622.3, 10641, 12691),
    "python-fitparse/developer-types-sample.fit": ("Run", False, 6754.0, 3424, 3424),
    "python-fitparse/garmin-fenix-5-walk.fit": ("Walk", False, 67.8, 45, 45),
    "python-fitparse/elemnt-bolt-no-application-id-inside-developer-data-id.fit": ("Ride", False, 963.6, 132, 140),
    "swim-report/data.fit": ("Swim", False, 2300.0, 4012, 4012),
    "fitdecode/garmin-fr935-cr.fit": ("Swim", False, 0.0, 7553, 7553),
}


@pytest.mark.parametrize("name", sorted(FIT_DECLARED))
def test_fit_row_takes_the_session_totals(name):
    sport, trainer, distance, moving, elapsed = FIT_DECLARED[name]
    row = row_of(THIRD_PARTY / name)
    assert (row["sport_type"], row["trainer"]) == (sport, trainer)
    assert row["distance"] == pytest.approx(distance, abs=0.1)
    assert (row["moving_time"], row["elapsed_time"]) == (moving, elapsed)
    assert row["source"] == "file" and row["id"] < 0 and row["manual"] is False


def test_fit_rows_details():
    wahoo = row_of(THIRD_PARTY / "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit")
    assert wahoo["start_date"] == "2019-02-17T06:26:44Z" and wahoo["id"] == -int(
        datetime(2019, 2, 17, 6, 26, 44, tzinfo=UTC).timestamp()
    )
    assert (wahoo["average_heartrate"], wahoo["max_heartrate"], wahoo["average_watts"]) == (124.0, 170.0, 102.0)
    assert wahoo["total_elevation_gain"] == 185.0 and wahoo["archive_fields"]["calories"] == 1724
    # Stryd: power only in the file's developer fields and the session's avg_power
    stryd = row_of(THIRD_PARTY / "python-fitparse/developer-types-sample.fit")
    assert stryd["average_watts"] == 218.0 and stryd["device_watts"] is True
    # swims without GPS: no position, heart rate from the strap's hr messages
    pool = row_of(THIRD_PARTY / "swim-report/data.fit")
    assert pool["start_latlng"] is None and pool["average_heartrate"] == 119.0
    indoor = row_of(FILES / "fit" / "null_compressed_speed_dist.fit")
    assert (indoor["sport_type"], indoor["trainer"]) == ("VirtualRide", True)
    # the session says heart rate 0 (no strap): missing, not 0
    assert indoor["average_heartrate"] is None and indoor["has_heartrate"] is False
    rower = row_of(FILES / "fit" / "20170518-191602-1740899583.fit")
    assert (rower["sport_type"], rower["trainer"]) == ("Rowing", True)
    assert rower["distance"] > 6000  # the session says 0; the distance is in a developer field


def test_truncated_fit_keeps_its_records():
    data = (THIRD_PARTY / "python-fitparse/activity-unexpected-eof.fit").read_bytes()
    track = parse_track(data, "x.fit", summary=True)
    assert track.damaged and track.points == 14 and any("ends early" in w for w in track.warnings)
    row = row_of(THIRD_PARTY / "python-fitparse/activity-unexpected-eof.fit")
    assert row["distance"] == pytest.approx(5.73, abs=0.05) and row["sport_type"] == "Run"


def test_tcx_and_gpx_rows():
    no_hr = row_of(THIRD_PARTY / "python-tcxparser/no_hr.tcx")
    assert no_hr["distance"] == pytest.approx(4689.24, abs=0.1) and no_hr["sport_type"] == "Run"
    assert no_hr["has_heartrate"] is False and no_hr["average_heartrate"] is None
    assert no_hr["moving_time"] == 1992 and no_hr["elapsed_time"] == 1992
    # the same recording with heart rate: the same id
    with_hr = row_of(FILES / "tcx" / "test.tcx")
    assert with_hr["id"] == no_hr["id"] and with_hr["average_heartrate"] == pytest.approx(160.2, abs=0.1)
    # GPX: distance along each segment (PROVENANCE: 4,580 m), no jump between the 8 tracks
    plain = row_of(THIRD_PARTY / "gpxpy/cerknicko-jezero-without-elevations.gpx")
    assert plain["distance"] == pytest.approx(4580, abs=5) and plain["total_elevation_gain"] is None
    assert plain["elapsed_time"] == 7176 and 0 < plain["moving_time"] < plain["elapsed_time"]
    assert row_of(FILES / "gpx" / "cerknicko-jezero.gpx")["total_elevation_gain"] > 100
    # Strava's own GPX says <type>9</type> for a run; it is the same run as stopped_example.tcx
    gpx, tcx = row_of(FILES / "gpx" / "strava_export.gpx"), row_of(FILES / "tcx" / "stopped_example.tcx")
    assert gpx["sport_type"] == tcx["sport_type"] == "Run" and gpx["id"] == tcx["id"]


def test_a_file_without_times_gets_a_content_id():
    data = (FILES / "gpx" / "Mojstrovka.gpx").read_bytes()  # a broken clock: every time is 1901
    track = parse_track(data, "m.gpx", summary=True)
    assert track.start_time_utc is None
    sha = hashlib.sha256(data).hexdigest()
    assert file_activity_id(track, sha) < -FILE_HASH_ID_OFFSET
    assert file_activity_id(track, sha) == file_activity_id(parse_track(data, "other.gpx"), sha)
    assert row_of(FILES / "gpx" / "Mojstrovka.gpx")["moving_time"] is None


def test_same_content_same_id_whatever_the_name_or_compression(tmp_path):
    data = (THIRD_PARTY / "python-fitparse/garmin-fenix-5-bike.fit").read_bytes()
    (tmp_path / "a.fit").write_bytes(data)
    (tmp_path / "renamed.bin.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(tmp_path / "z.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("GARMIN/Activity/x.FIT", data)
    reads = [
        read_file(FileRef(str(tmp_path / "a.fit"))),
        read_file(FileRef(str(tmp_path / "renamed.bin.gz"))),
        read_file(FileRef(str(tmp_path / "z.zip"), "GARMIN/Activity/x.FIT")),
    ]
    assert {r.sha256 for r in reads} == {hashlib.sha256(data).hexdigest()}
    ids = {file_activity_id(parse_track(r.data, r.ref.name), r.sha256) for r in reads}
    assert len(ids) == 1


def test_bombs_and_empty_files_are_refused_before_they_inflate(tmp_path):
    (tmp_path / "bomb.fit.gz").write_bytes(gzip.compress(b"\0" * (20 << 20)))
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("ride.fit", b"\0" * (20 << 20))
    (tmp_path / "empty.fit").write_bytes(b"")
    assert read_file(FileRef(str(tmp_path / "bomb.fit.gz"))).skip == SKIP_BOMB
    assert read_file(FileRef(str(tmp_path / "bomb.zip"), "ride.fit")).skip == SKIP_BOMB
    assert read_file(FileRef(str(tmp_path / "empty.fit"))).skip == SKIP_EMPTY_FILE


# ------------------------------------------------------------------------------------------ the command


@pytest.fixture(scope="module")
def imported(tmp_path_factory):
    """A device folder as users drop them (nested folders, .gz, a zip, bad files) imported once by the command."""
    root = tmp_path_factory.mktemp("files")
    drop = root / "drop"
    (drop / "Wahoo" / "2019").mkdir(parents=True)
    shutil.copy(THIRD_PARTY / "python-fitparse/2019-02-17-062644-ELEMNT-297E-195-0.fit", drop / "Wahoo" / "2019")
    (drop / "coros.fit.gz").write_bytes(
        gzip.compress((THIRD_PARTY / "python-fitparse/coros-pace-2-cycling-misaligned-fields.fit").read_bytes())
    )
    with zipfile.ZipFile(drop / "garmin_export.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(THIRD_PARTY / "swim-report/data.fit", "DI_CONNECT/DI-Connect-Uploaded-Files/data.fit")
        zf.write(THIRD_PARTY / "python-tcxparser/no_hr.tcx", "DI_CONNECT/DI-Connect-Uploaded-Files/no_hr.tcx")
        zf.writestr("DI_CONNECT/DI-Connect-Fitness/profile.json", "{}")
        inner = io.BytesIO()  # Garmin's uploaded files come as zips inside the export zip
        with zipfile.ZipFile(inner, "w", zipfile.ZIP_DEFLATED) as iz:
            iz.write(THIRD_PARTY / "python-fitparse/garmin-fenix-5-walk.fit", "walk.fit")
        zf.writestr("DI_CONNECT/DI-Connect-Uploaded-Files/UploadedFiles_0-_Part1.zip", inner.getvalue())
        zf.writestr("bomb.fit", b"\0" * (20 << 20))
    shutil.copy(THIRD_PARTY / "python-fitparse/activity-unexpected-eof.fit", drop)
    shutil.copy(THIRD_PARTY / "gpxpy/cerknicko-jezero-without-elevations.gpx", drop)
    (drop / "empty.fit").write_bytes(b"")
    (drop / "notes.gpx").write_text("these are my notes, not a track")
    (drop / "evil.gpx").write_text(
        '<?xml version="1.0"?><!DOCTYPE gpx [<!ENTITY x "xx">]><gpx version="1.1"><trk><trkseg>'
        '<trkpt lat="1" lon="1"><time>2020-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>'
    )
    (drop / "README.txt").write_text("ignored: not an activity file name")
    data_dir = root / "data"
    rc, out, err = run_cli(data_dir, "import", "--import-only", str(drop))
    return data_dir, drop, rc, out, err


def test_import_command_imports_the_files_and_skips_the_bad_ones(imported):
    data_dir, _drop, rc, out, err = imported
    assert rc == 0, err
    assert "7 new activities (source file)" in out, out
    assert "1 damaged" in out
    assert "empty file" in out and SKIP_BOMB in out
    evil = next(line for line in out.splitlines() if "evil.gpx" in line)
    assert "DTD" in evil.upper() or "DOCTYPE" in evil.upper()
    assert "notes.gpx" in out
    rows = query(data_dir, "select sport_type, source from strava.activities order by id")
    assert len(rows) == 7 and {s for _, s in rows} == {"file"}
    assert sorted(r[0] or "?" for r in rows) == ["?", "Ride", "Ride", "Run", "Run", "Swim", "Walk"]
    per_activity = dict(
        query(
            data_dir,
            "select a.external_id, count(*) from strava.activity_streams s join strava.activities a "
            "on a.id = s.activity_id where s.source = 'file' group by 1",
        )
    )
    assert per_activity["2019-02-17-062644-ELEMNT-297E-195-0.fit"] == 13471
    assert per_activity["activity-unexpected-eof.fit"] == 14
    assert per_activity["data.fit"] == 4019
    assert per_activity["walk.fit"] == 17


def test_reimport_reads_nothing_again(imported):
    data_dir, drop, _rc, _out, _err = imported
    rc, out, err = run_cli(data_dir, "import", "--import-only", str(drop))
    assert rc == 0, err
    assert "0 new activities" in out and "7 already imported (same content)" in out
    assert query(data_dir, "select count(*) from strava.activities") == [(7,)]


def test_nothing_importable_is_one_sentence_and_exit_2(tmp_path):
    data_dir = tmp_path / "data"
    rc, out, err = run_cli(data_dir, "import", "--import-only", str(tmp_path / "missing.fit"))
    assert rc == 2 and "does not exist" in err and "Traceback" not in err
    empty = tmp_path / "photos"
    empty.mkdir()
    (empty / "holiday.jpg").write_bytes(b"\xff\xd8\xff")
    rc, out, err = run_cli(data_dir, "import", "--import-only", str(empty))
    assert rc == 2 and "no FIT, GPX or TCX file" in err and len(err.strip().splitlines()) == 1
    # one good path beside a missing one: nothing is written either
    rc, out, err = run_cli(
        data_dir, "import", "--import-only", str(THIRD_PARTY / "swim-report/data.fit"), str(tmp_path / "nope")
    )
    assert rc == 2
    assert not (data_dir / "strava.duckdb").exists()


def test_a_fit_with_a_bad_crc_keeps_its_records_with_a_warning(tmp_path):
    data = bytearray((THIRD_PARTY / "python-fitparse/garmin-fenix-5-bike.fit").read_bytes())
    assert crc_warning(bytes(data)) is None  # the real file's CRC matches: the check is FIT's CRC-16
    data[-1] ^= 0xFF  # the stored CRC no longer matches the content
    (tmp_path / "drop").mkdir()
    (tmp_path / "drop" / "bike.fit").write_bytes(bytes(data))
    rc, out, err = run_cli(tmp_path / "data", "import", "--import-only", str(tmp_path / "drop"))
    assert rc == 0, err
    assert "CRC does not match" in out and "1 new activities" in out
    assert query(tmp_path / "data", "select count(*) from strava.activity_streams") == [(19,)]
