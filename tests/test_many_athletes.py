"""Several athletes under one Strava app: `auth` adds them, every run imports all of them within the app's one
budget (new activities of every athlete first, then the backfill round-robin), a refused token skips one athlete,
--athlete picks one, token files are 0600, and a data dir of one athlete carries on unchanged."""

import io
import json
import stat
from datetime import UTC, datetime

import pytest

from strava_pipeline.cli import build_parser, main
from strava_pipeline.clock import FakeClock
from strava_pipeline.fake_api import AthleteSpec, FakeStrava
from tests.conftest import NOW, Cli
from tests.support.device_files import shifted_gpx
from tests.support.reference import FILES, require

DAY, WINDOW = 86400, 900
FIRST = AthleteSpec(seed=21, first_day=None, n_activities=12, stream_scale=0.02)
SECOND = AthleteSpec(seed=22, first_day=None, n_activities=8, stream_scale=0.02)
THIRD = AthleteSpec(seed=23, first_day=None, n_activities=5, stream_scale=0.02)


@pytest.fixture
def club(clock):
    """One app, three athletes, Strava's real limits (100 reads / 15 min, 1,000 / day) shared by all of them."""
    with FakeStrava(athletes=[FIRST, SECOND, THIRD], clock=clock) as fake:
        yield fake


def authorize(cli: Cli, fake, athlete_id: int, monkeypatch) -> str:
    """`strava.py auth` as this athlete: the code the fake would send the browser back with, pasted."""
    code = fake.issue_authorization_code(athlete_id=athlete_id)
    monkeypatch.setattr("builtins.input", lambda prompt="": code)
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(cli.data_dir), "auth"], clock=cli.clock, out=out, err=err)
    assert rc == 0, err.getvalue()
    return out.getvalue()


@pytest.fixture
def club_cli(club, clock, tmp_path, monkeypatch):
    """The first athlete configured in secrets (as a one-athlete install has it), the two others added by `auth`."""
    cli = Cli(club, clock, tmp_path / "data", monkeypatch, club.issue_refresh_token())
    for athlete_id in club.athlete_ids[1:]:
        authorize(cli, club, athlete_id, monkeypatch)
    return cli


def per_athlete(cli: Cli, table: str = "activities") -> dict:
    return dict(cli.sql(f"select athlete_id, count(*) from strava.{table} group by 1"))


def listing_afters(fake, since: float) -> list[int]:
    return [int(e.query["after"]) for e in fake.log if e.time >= since and e.path.endswith("/athlete/activities")]


def test_every_athlete_is_imported_within_one_budget(club, club_cli, clock):
    first_day = min(a["start_date"] for i in club.athlete_ids for a in club.activities(athlete_id=i))[:10]
    club.set_usage(read_15min=80, overall_15min=80)  # another run of this app spent most of this quarter hour
    rc, out, err = club_cli("--start-date", first_day)
    assert rc == 0, err
    expected = {i: len(club.activities(athlete_id=i)) for i in club.athlete_ids}
    assert per_athlete(club_cli) == expected
    assert per_athlete(club_cli, "activity_details") == expected
    # the app's one budget: the 20 reads left did not suffice, the run waited for the next quarter hour (all
    # athletes' requests counted together), and Strava never said 429
    used = sum(n for k, n in club.counts().items() if not k.startswith("POST /oauth"))
    assert used > 20 and club.count_429 == 0 and clock.now() >= (NOW // WINDOW + 1) * WINDOW
    assert f"API requests: {used:,}" in out


def test_each_athlete_has_their_own_incremental_cursor(club, club_cli, clock):
    assert club_cli()[0] == 0
    resources = club_cli.state()["sources"]["strava"]["resources"]
    cursors = {
        name: r["incremental"]["start_date"]["last_value"] for name, r in resources.items() if "incremental" in r
    }
    others = [f"activities_{i}" for i in club.athlete_ids[1:]]
    assert set(cursors) == {"activities", *others}  # the first athlete keeps the cursor one athlete always had
    clock.advance(DAY)
    new = club.add_activity(athlete_id=club.athlete_ids[2])
    since = clock.now()
    rc, out, err = club_cli()
    assert rc == 0, err
    # one "anything new?" page per athlete, each after that athlete's own last activity
    expected_afters = sorted(
        int(
            datetime.fromisoformat(max(a["start_date"] for a in club.activities(athlete_id=i) if a["id"] != new["id"]))
            .replace(tzinfo=UTC)
            .timestamp()
        )
        for i in club.athlete_ids
    )
    assert sorted(listing_afters(club, since)) == expected_afters
    assert club_cli.sql(f"select athlete_id from strava.activity_details where id = {new['id']}") == [
        (club.athlete_ids[2],)
    ]


def test_a_revoked_athlete_is_skipped_and_the_others_continue(club, club_cli, clock):
    assert club_cli()[0] == 0
    revoked = club.athlete_ids[1]
    club.revoke_athlete(revoked)
    clock.advance(DAY)
    club.expire_access_tokens()  # the next request needs the refresh token Strava no longer accepts
    news = {i: club.add_activity(athlete_id=i)["id"] for i in club.athlete_ids}
    rc, out, err = club_cli()
    assert rc == 2  # something was skipped, though the others were imported
    skipped = [line for line in out.splitlines() if line.startswith("Skipped")]
    assert len(skipped) == 1 and f"athlete {revoked}" in skipped[0] and "strava.py" in skipped[0]
    assert "auth" in skipped[0] and "Traceback" not in out + err
    loaded = {r[0] for r in club_cli.sql("select id from strava.activity_details")}
    assert {news[i] for i in club.athlete_ids if i != revoked} <= loaded and news[revoked] not in loaded


def test_all_athletes_revoked_is_one_sentence(club, club_cli, clock):
    for athlete_id in club.athlete_ids:
        club.revoke_athlete(athlete_id)
    club.expire_access_tokens()
    clock.advance(DAY)
    rc, out, err = club_cli()
    assert rc == 2 and err.count("\n") == 1 and "all 3 athletes" in err and "auth" in err


def test_athlete_option_imports_one_athlete(club, club_cli, clock):
    assert club_cli()[0] == 0
    clock.advance(DAY)
    news = {i: club.add_activity(athlete_id=i)["id"] for i in club.athlete_ids}
    chosen = club.athlete_ids[2]
    since = clock.now()
    rc, out, err = club_cli("--athlete", str(chosen))
    assert rc == 0, err
    assert len(listing_afters(club, since)) == 1
    loaded = {r[0] for r in club_cli.sql("select id from strava.activity_details")}
    assert news[chosen] in loaded and not {news[i] for i in club.athlete_ids if i != chosen} & loaded
    # the first athlete (configured in secrets) is known by id after its first run, so --athlete finds it too
    rc, out, err = club_cli("--athlete", str(club.athlete_ids[0]))
    assert rc == 0, err
    assert news[club.athlete_ids[0]] in {r[0] for r in club_cli.sql("select id from strava.activity_details")}


def test_athlete_option_names_the_authorized_ones(club_cli, club):
    rc, out, err = club_cli("--athlete", "999")
    assert rc == 2 and err.count("\n") == 1 and "999" in err and "auth" in err and "Traceback" not in err
    assert str(club.athlete_ids[1]) in err


def test_athlete_option_stands_before_or_after_a_subcommand():
    parser = build_parser()
    assert parser.parse_args(["--athlete", "7", "auth"]).athlete == 7
    assert parser.parse_args(["auth", "--athlete", "8"]).athlete == 8
    assert parser.parse_args([]).athlete is None


def test_token_files_are_owner_only(club, club_cli):
    data = club_cli.data_dir
    assert club_cli()[0] == 0
    files = [data / "strava_tokens.json"] + [data / "athletes" / str(i) / "tokens.json" for i in club.athlete_ids[1:]]
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700, path.parent
    saved = [json.loads(p.read_text()) for p in files]
    assert [s["athlete_id"] for s in saved] == club.athlete_ids
    assert not (data / "athletes" / "new-tokens.json").exists()


def test_authorizing_the_first_athlete_again_replaces_their_tokens(club, club_cli, monkeypatch):
    assert club_cli()[0] == 0  # the first athlete's id is now in strava_tokens.json
    before = sorted(p.name for p in (club_cli.data_dir / "athletes").iterdir())
    authorize(club_cli, club, club.athlete_ids[0], monkeypatch)
    assert sorted(p.name for p in (club_cli.data_dir / "athletes").iterdir()) == before
    assert club_cli()[0] == 0


def test_a_one_athlete_data_dir_carries_on_when_a_second_athlete_is_added(club, clock, tmp_path, monkeypatch):
    cli = Cli(club, clock, tmp_path / "data", monkeypatch, club.issue_refresh_token())
    first, second = club.athlete_ids[:2]
    assert cli()[0] == 0  # a one-athlete install: one token file, the cursor under `activities`
    assert not (cli.data_dir / "athletes").exists()
    old_cursor = cli.state()["sources"]["strava"]["resources"]["activities"]["incremental"]["start_date"]
    details_before = club.counts()["GET /activities/{id}"]
    authorize(cli, club, second, monkeypatch)
    clock.advance(DAY)
    new_first = club.add_activity(athlete_id=first)["id"]
    since = clock.now()
    rc, out, err = cli()
    assert rc == 0, err
    # the first athlete lists only after their saved cursor: nothing of theirs is listed or fetched again
    cursor_epoch = int(datetime.fromisoformat(old_cursor["last_value"]).replace(tzinfo=UTC).timestamp())
    assert cursor_epoch in listing_afters(club, since)
    second_count = sum(1 for a in club.activities(athlete_id=second) if a["start_date"] >= _iso(NOW - 30 * DAY))
    assert club.counts()["GET /activities/{id}"] - details_before == 1 + second_count
    assert new_first in {r[0] for r in cli.sql("select id from strava.activity_details")}
    assert (cli.data_dir / "strava_tokens.json").exists()
    assert (cli.data_dir / "athletes" / str(second) / "tokens.json").exists()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_small_athletes_new_activities_land_in_the_first_window_while_a_big_one_backfills(tmp_path, monkeypatch):
    clock = FakeClock(NOW)
    big = AthleteSpec(seed=31, first_day=None, n_activities=200, stream_scale=0.01)
    small = AthleteSpec(seed=32, first_day=None, n_activities=20, stream_scale=0.01)
    with FakeStrava(athletes=[big, small], clock=clock) as fake:
        cli = Cli(fake, clock, tmp_path / "data", monkeypatch, fake.issue_refresh_token())
        big_id, small_id = fake.athlete_ids
        authorize(cli, fake, small_id, monkeypatch)
        first_day = min(a["start_date"] for a in fake.activities(athlete_id=big_id))[:10]
        fake.set_usage(read_daily=700, overall_daily=700)  # other runs spent most of today: 300 reads are left
        rc, out, err = cli("--start-date", first_day)
        assert rc == 0 and "Daily read limit reached" in out, err
        # round-robin: the small history is complete on day one although the big one was listed first
        assert per_athlete(cli, "activity_details")[small_id] == 20
        assert per_athlete(cli, "activity_details")[big_id] < 200
        day2 = (int(clock.now()) // DAY + 1) * DAY
        clock.set(day2)
        new_small = fake.add_activity(athlete_id=small_id)["id"]
        new_big = fake.add_activity(athlete_id=big_id)["id"]
        rc, out, err = cli()
        assert rc == 0, err
        for activity_id in (new_small, new_big):
            asked = [e.time for e in fake.log if e.path.endswith(f"/activities/{activity_id}")]
            assert asked and max(asked) < day2 + WINDOW  # in the first quarter hour of the run
        assert clock.now() > day2 + WINDOW  # while the big athlete's backfill went on after it


# ------------------------------------------------------------------------------ imports name their athlete


def _with_gps(fake, athlete_id: int) -> dict:
    return next(a for a in fake.activities(athlete_id=athlete_id, visible_only=True) if not a["manual"])


def test_a_device_file_imported_for_one_athlete_never_lands_on_another_ones_activity(club, club_cli, tmp_path):
    """A group ride: two members recorded it at the same minute. A's file imported with --athlete A is A's new
    activity, not a duplicate of B's activity at that start; with --athlete B it fills B's activity."""
    assert club_cli("--no-streams")[0] == 0
    rider_b, rider_a = club.athlete_ids[1], club.athlete_ids[2]
    ride = _with_gps(club, rider_b)
    mine = shifted_gpx(tmp_path / "a.gpx", ride["start_date"], ride["sport_type"])
    rc, out, err = club_cli("import", str(mine), "--athlete", str(rider_a))
    assert rc == 0, err
    assert "1 new activit" in out, out
    assert club_cli.sql(f"select count(*) from strava.activity_streams where activity_id = {ride['id']}") == [(0,)]
    assert club_cli.sql("select athlete_id from strava.activities where source = 'file'") == [(rider_a,)]
    # B's own recording (another file: its clock 10 s later) fills B's activity
    start = datetime.fromisoformat(ride["start_date"].replace("Z", "+00:00")).timestamp() + 10
    theirs = shifted_gpx(tmp_path / "b.gpx", _iso(start), ride["sport_type"])
    rc, out, err = club_cli("import", "--athlete", str(rider_b), str(theirs))
    assert rc == 0, err
    assert "0 new activities" in out and "gave their streams" in out, out
    assert club_cli.sql(f"select min(athlete_id) from strava.activity_streams where activity_id = {ride['id']}") == [
        (rider_b,)
    ]
    # A's activity and points stay A's: the import of B's file did not take A's file for B's recording
    assert club_cli.sql(
        "select a.athlete_id, count(*) from strava.activities a join strava.activity_streams s on s.activity_id = a.id "
        "where a.source = 'file' group by 1"
    ) == [(rider_a, 1697)]


def test_two_members_starting_in_the_same_second_keep_two_activities(club, club_cli, tmp_path):
    assert club_cli("--no-streams")[0] == 0
    rider_b, rider_a = club.athlete_ids[1], club.athlete_ids[2]
    start = "2026-11-01T08:00:00Z"
    for rider, sport in ((rider_a, "Ride"), (rider_b, "MountainBikeRide")):  # two files, same start second
        gpx = shifted_gpx(tmp_path / f"{rider}.gpx", start, sport)
        rc, out, err = club_cli("import", "--athlete", str(rider), str(gpx))
        assert rc == 0, err
        assert "1 new activit" in out, out
    rows = club_cli.sql("select athlete_id, sport_type from strava.activities where source = 'file' order by 1")
    assert sorted(rows) == sorted([(rider_a, "Ride"), (rider_b, "MountainBikeRide")])


def test_an_archive_in_a_club_warehouse_names_its_athlete(club, club_cli):
    assert club_cli("--no-streams")[0] == 0
    archive = require(FILES / "sample_export.zip")
    rc, out, err = club_cli("import", str(archive))
    assert rc == 0, err
    # whose it is cannot be guessed among three athletes: the exact command to say it
    hint = f"uv run strava.py --data-dir {club_cli.data_dir} import {archive} --athlete ID"
    assert hint in out, out
    assert club_cli.sql("select count(*) from strava.activities where source = 'archive' and athlete_id is null")[0][0]
    chosen = club.athlete_ids[1]
    rc, out, err = club_cli("import", str(archive), "--athlete", str(chosen))
    assert rc == 0, err
    assert f"Athlete: {chosen} (--athlete)." in out
    assert club_cli.sql("select distinct athlete_id from strava.activities where source = 'archive'") == [(chosen,)]
