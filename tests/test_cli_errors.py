"""Bad input ends in one clear sentence, exit code 2, no traceback and nothing half-written."""

import io
import socket

import pytest

from strava_pipeline.cli import main


def run(args, monkeypatch=None, env=None):
    out, err = io.StringIO(), io.StringIO()
    rc = main(args, out=out, err=err)
    return rc, out.getvalue(), err.getvalue()


def one_line_error(rc, err):
    assert rc == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    "args, words",
    [
        (["--start-date", "2024-13-01"], "not a valid date"),
        (["--start-date", "yesterday"], "YYYY-MM-DD"),
        (["--start-date", "2024-03-01", "--end-date", "2024-01-01"], "before --start-date"),
        (["--start-date", "2999-01-01"], "in the future"),
        (["--max-requests", "0"], "positive"),
        (["--bogus"], "--help"),
    ],
)
def test_bad_arguments(args, words, tmp_path):
    rc, _, err = run(["--data-dir", str(tmp_path / "d"), *args])
    one_line_error(rc, err)
    assert words in err
    assert not (tmp_path / "d").exists()


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # no .dlt/secrets.toml of a developer's machine leaks in
    for key in ("CLIENT_ID", "CLIENT_SECRET", "REFRESH_TOKEN"):
        monkeypatch.delenv(f"SOURCES__STRAVA__CREDENTIALS__{key}", raising=False)
    monkeypatch.setenv("SOURCES__STRAVA__BASE_URL", "https://www.strava.com/api/v3")
    monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__ACCESS_TOKEN_URL", "https://www.strava.com/oauth/token")


def test_missing_credentials(no_credentials, tmp_path):
    rc, _, err = run(["--data-dir", str(tmp_path / "d")])
    one_line_error(rc, err)
    assert "client_id" in err and "secrets.toml" in err
    assert not (tmp_path / "d" / "strava.duckdb").exists()


def test_empty_credentials(no_credentials, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_ID", "123")
    monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET", "  ")
    rc, _, err = run(["--data-dir", str(tmp_path / "d")])
    one_line_error(rc, err)
    assert "client_secret" in err


def test_no_refresh_token_says_run_auth(no_credentials, monkeypatch, tmp_path):
    monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_ID", "123")
    monkeypatch.setenv("SOURCES__STRAVA__CREDENTIALS__CLIENT_SECRET", "s3cret")
    rc, _, err = run(["--data-dir", str(tmp_path / "d")])
    one_line_error(rc, err)
    # the exact command for this data dir: the tokens are stored there
    assert f"`uv run strava.py --data-dir {tmp_path / 'd'} auth`" in err


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_base_url(cli, monkeypatch):
    monkeypatch.setenv("SOURCES__STRAVA__BASE_URL", f"http://127.0.0.1:{_closed_port()}/api/v3")
    rc, _, err = cli()
    one_line_error(rc, err)
    assert "Cannot reach the Strava API" in err and "base_url" in err
    assert (
        cli.sql(
            "select count(*) from information_schema.tables where table_schema = 'strava' and table_name = 'activities'"
        )[0][0]
        == 0
    )


def test_non_json_response(cli, fake):
    fake.faults.add("html", count=10, path=r"/athlete/activities")
    rc, _, err = cli()
    one_line_error(rc, err)
    assert "not JSON" in err or "HTML" in err or "invalid JSON" in err
    fake.faults.clear()
    # nothing half-written: the next run starts cleanly
    rc, _, err = cli()
    assert rc == 0, err


def test_secrets_never_printed(cli, fake, capsys):
    rc, out, err = cli("--verbose", "--no-detail")
    assert rc == 0
    captured = capsys.readouterr()
    out, err = out + captured.out, err + captured.err
    tokens = (cli.data_dir / "strava_tokens.json").read_text()
    import json

    saved = json.loads(tokens)
    for secret in (saved["refresh_token"], saved["access_token"], fake.client_secret, cli.refresh_token):
        assert secret not in out and secret not in err


def test_busy_warehouse_says_so(cli):
    import os

    from strava_pipeline.lock import acquire

    fd = acquire(cli.data_dir, holder="dagster")
    try:
        rc, _, err = cli()
    finally:
        os.close(fd)
    one_line_error(rc, err)
    assert "busy" in err and "dagster" in err
    assert cli()[0] == 0
