"""The `strava` source end to end over loopback: first run, incremental runs, backfills, merge, OAuth, odd data."""

import math
import os
import re
import stat

import requests

from tests.conftest import NOW


def activities_listed(fake) -> list:
    return [a for a in fake.activities(visible_only=True)]


def last_value(cli):
    state = cli.state()
    for source in state["sources"].values():
        inc = source.get("resources", {}).get("activities", {}).get("incremental", {})
        if "start_date" in inc:
            return inc["start_date"]["last_value"]
    return None


def test_first_run_loads_last_30_days_with_streams(cli, fake):
    rc, out, err = cli("--no-detail")
    assert rc == 0, err
    recent = [a for a in activities_listed(fake) if a["start_date"] >= _iso(NOW - 30 * 86400)]
    assert cli.count("activities") == len(recent) > 0
    with_streams = [a for a in recent if not a["manual"]]
    assert cli.sql("select count(distinct activity_id) from strava.activity_streams")[0][0] == len(
        [a for a in with_streams if _has_streams(fake, a)]
    )
    counts = fake.counts()
    assert counts["GET /athlete/activities"] == max(1, math.ceil(len(recent) / 200))
    assert counts["GET /activities/{id}/streams"] == len(with_streams)
    assert counts.get("GET /activities/{id}", 0) == 0
    # the summary reports exactly what was spent (token calls apart)
    api_calls = sum(n for k, n in counts.items() if not k.startswith("POST /oauth"))
    assert f"API requests: {api_calls:,} " in out
    assert "stream points" in out and str(cli.data_dir / "strava.duckdb") in out
    # every raw row carries athlete_id
    assert cli.sql("select count(*) from strava.activity_streams where athlete_id is null")[0][0] == 0


def test_second_run_with_nothing_new_makes_one_list_request(cli, fake):
    assert cli()[0] == 0
    fake.reset_log()
    rc, out, _ = cli()
    assert rc == 0
    assert dict(fake.counts()) == {"GET /athlete/activities": 1}
    assert "0 new" in out


def test_later_run_picks_up_new_activities_only(cli, fake, clock):
    assert cli()[0] == 0
    before = cli.count("activities")
    cursor = last_value(cli)
    clock.advance(5 * 86400)
    fake.reset_log()
    assert cli()[0] == 0
    new = [a for a in activities_listed(fake) if a["start_date"] > cursor]
    assert len(new) > 0
    assert cli.count("activities") == before + len(new)
    assert fake.counts()["GET /activities/{id}"] == len(new)
    assert last_value(cli) > cursor


def test_backfill_window_does_not_move_state(cli, fake):
    assert cli()[0] == 0
    cursor = last_value(cli)
    rc, out, err = cli("--start-date", "2025-07-01", "--end-date", "2025-07-31", "--no-streams", "--no-detail")
    assert rc == 0, err
    assert last_value(cli) == cursor
    in_july = [a for a in activities_listed(fake) if "2025-07-01" <= a["start_date"][:10] <= "2025-07-31"]
    got = cli.sql(
        "select count(*) from strava.activities where start_date < '2025-08-01' and start_date >= '2025-07-01'"
    )
    assert got[0][0] == len(in_july) > 0


def test_merge_is_idempotent(cli):
    args = ("--start-date", "2025-10-01", "--no-detail")
    assert cli(*args)[0] == 0
    tables = ("activities", "activity_streams", "fetch_log")
    first = {t: cli.count(t) for t in tables}
    assert cli(*args)[0] == 0
    assert {t: cli.count(t) for t in tables} == first
    assert (
        cli.sql(
            "select count(*) from (select activity_id, point_index from strava.activity_streams "
            "group by all having count(*) > 1)"
        )[0][0]
        == 0
    )


def test_streams_loaded_again_replace_an_activitys_points(tmp_path):
    """A streams job dlt runs a second time (the process died after DuckDB's commit, before dlt recorded it) or an
    activity fetched again must replace that activity's points, never double them, and leave the others alone."""
    import pyarrow as pa

    from strava_pipeline.helpers import streams_table
    from strava_pipeline.source import streams_resource
    from strava_pipeline.warehouse import open_warehouse
    from strava_pipeline.warehouses import make_pipeline

    def points(activity_id: int, n: int) -> pa.Table:
        return streams_table(
            {"time": {"data": list(range(n))}, "heartrate": {"data": [120 + activity_id] * n}}, activity_id, 9
        )

    def per_activity() -> dict:
        with open_warehouse(tmp_path / "strava.duckdb") as con:
            return dict(con.sql("select activity_id, count(*) from strava.activity_streams group by 1").fetchall())

    pipeline = make_pipeline(tmp_path)
    batch = pa.concat_tables([points(1, 3), points(2, 5)])
    pipeline.run([streams_resource([batch])])
    pipeline.run([streams_resource([batch])])
    assert per_activity() == {1: 3, 2: 5}
    pipeline.run([streams_resource([points(1, 2)])])
    assert per_activity() == {1: 2, 2: 5}
    with open_warehouse(tmp_path / "strava.duckdb") as con:
        staged = con.sql(
            "select count(*) from information_schema.tables where table_schema = 'strava_staging' "
            "and table_name = 'activity_streams'"
        ).fetchone()[0]
    assert staged == 0  # no second copy of every point


def test_refresh_token_rotation_is_persisted_and_old_token_rejected(cli, fake):
    assert cli()[0] == 0
    token_file = cli.data_dir / "strava_tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    import json

    saved = json.loads(token_file.read_text())
    assert saved["refresh_token"] != cli.refresh_token
    old = requests.post(
        fake.token_url,
        data={
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "grant_type": "refresh_token",
            "refresh_token": cli.refresh_token,
        },
    )
    assert old.status_code == 400
    # the next run uses the rotated token from the file, not the dead one in the configuration
    fake.expire_access_tokens()
    rc, _, err = cli()
    assert rc == 0, err


def test_access_token_rejected_mid_run_is_refreshed_once(cli, fake):
    assert cli("--no-detail")[0] == 0
    fake.expire_access_tokens()  # the token file still believes its token is valid
    fake.reset_log()
    rc, _, err = cli("--start-date", "2025-09-01", "--no-detail", "--no-streams")
    assert rc == 0, err
    statuses = [e.status for e in fake.log if e.path.endswith("/athlete/activities")]
    assert statuses[0] == 401 and statuses[1] == 200
    assert fake.counts()["POST /oauth/token"] == 1


def test_access_token_expiring_by_time_is_refreshed_before_use(cli, fake, clock):
    assert cli("--no-detail")[0] == 0
    clock.advance(7 * 3600)
    fake.reset_log()
    assert cli("--no-detail")[0] == 0
    assert all(e.status != 401 for e in fake.log)
    assert fake.counts()["POST /oauth/token"] == 1


def test_revoked_token_ends_with_a_clear_message(cli, fake):
    fake.revoke_all_tokens()
    rc, out, err = cli()
    assert rc == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"`uv run strava.py --data-dir {cli.data_dir} auth`" in err  # the exact command for this data dir


def test_private_and_no_gps_activities(cli, fake):
    assert cli("--start-date", "2025-06-01", "--no-detail")[0] == 0
    private = cli.sql("select count(*) from strava.activities where private")[0][0]
    assert private == sum(1 for a in activities_listed(fake) if a["private"]) > 0
    no_gps = cli.sql("""select count(*) from strava.activities a
                        where a.start_latlng is null and a.map__summary_polyline = ''""")[0][0]
    assert no_gps > 0
    # their streams exist but carry no coordinates
    rows = cli.sql("""select count(*) from strava.activity_streams s join strava.activities a on a.id = s.activity_id
                      where a.start_latlng is null and s.lat is not null""")
    assert rows[0][0] == 0


def test_private_activities_hidden_without_read_all_scope(fake, clock, tmp_path, monkeypatch):
    from tests.conftest import Cli

    cli = Cli(fake, clock, tmp_path / "d", monkeypatch, fake.issue_refresh_token(scope="read,activity:read"))
    assert cli("--start-date", "2025-06-01", "--no-detail", "--no-streams")[0] == 0
    assert cli.sql("select count(*) from strava.activities where private")[0][0] == 0


def test_real_recorded_pages_load(clock, tmp_path, monkeypatch):
    from strava_pipeline.fake_api import FakeStrava
    from tests.conftest import Cli

    with FakeStrava(athlete="replay", clock=clock) as fake:
        cli = Cli(fake, clock, tmp_path / "d", monkeypatch, fake.issue_refresh_token())
        rc, out, err = cli("--start-date", "2017-01-01", "--no-detail", "--no-streams")
        assert rc == 0, err
        assert cli.count("activities") == 1132
        assert fake.counts()["GET /athlete/activities"] == math.ceil(1132 / 200)
        types = dict(
            cli.sql("""select column_name, data_type from information_schema.columns
                                where table_schema = 'strava' and table_name = 'activities'""")
        )
        assert types["utc_offset"] == "DOUBLE" and types["total_elevation_gain"] == "DOUBLE"
        assert types["start_latlng"] == "JSON" and types["start_date"].startswith("TIMESTAMP")
        assert not any(re.search(r"__v_", c) for c in types)  # no variant columns from int/float mixes
        assert cli.sql("select count(*) from strava.activities where map__summary_polyline = ''")[0][0] == 167
        assert cli.sql("select count(*) from strava.activities where private")[0][0] == 7


def _iso(epoch: float) -> str:
    from strava_pipeline.helpers import iso_from_epoch

    return iso_from_epoch(epoch)


def _has_streams(fake, activity) -> bool:
    return not activity["manual"]


def test_project_dlt_settings_apply_from_any_folder(tmp_path):
    """.dlt/config.toml (telemetry off, loader settings) holds wherever strava.py is started from."""
    import subprocess
    import sys

    code = "import dlt; print(dlt.config.get('runtime.dlthub_telemetry'), dlt.config.get('load.delete_completed_jobs'))"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DLT_")}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["False", "True"]


def test_old_loaded_packages_are_pruned_and_their_files_dropped(cli, monkeypatch):
    """dlt's loaded packages keep no copy of the data (delete_completed_jobs) and only the newest few are kept."""
    from strava_pipeline import loads

    monkeypatch.setattr(loads, "LOADED_PACKAGES_KEPT", 2)
    assert cli("--start-date", "2025-10-01")[0] == 0
    loaded = cli.data_dir / "pipelines" / "strava_datastack" / "load" / "loaded"
    packages = [p for p in loaded.iterdir() if p.is_dir()]
    assert len(packages) == 2
    data_files = [p for pattern in ("*.parquet", "*.jsonl*", "*.insert_values*") for p in loaded.rglob(pattern)]
    assert data_files == []
    assert cli.count("activity_streams") > 0
