"""`strava.py auth`: the authorize URL, pasting a code or the whole redirect URL, tokens stored with mode 600."""

import io
import json
import stat
from urllib.parse import parse_qs, urlparse

import pytest
import requests

from strava_pipeline.api.auth import authorize_url, code_from_paste
from strava_pipeline.config import StravaConfig, UserError


def test_authorize_url_asks_for_the_needed_scopes():
    cfg = StravaConfig("https://www.strava.com/api/v3", "https://www.strava.com/oauth/token", "12345", "s", None)
    url = urlparse(authorize_url(cfg))
    assert (url.scheme, url.netloc, url.path) == ("https", "www.strava.com", "/oauth/authorize")
    query = parse_qs(url.query)
    assert query["client_id"] == ["12345"] and query["response_type"] == ["code"]
    assert query["scope"] == ["read_all,activity:read_all,profile:read_all"]
    assert query["redirect_uri"] == ["http://localhost/exchange_token"]


def test_the_authorize_url_is_readable_and_always_shows_the_consent_page():
    """Printed for the user to open: commas, colons and slashes as typed, and approval_prompt=force so that an
    athlete who authorized the app before (perhaps with a scope unticked) sees the page with its check boxes again:
    the 403 hint sends them here to authorize with all scopes, and Strava's default, auto, may skip the page."""
    cfg = StravaConfig("https://www.strava.com/api/v3", "https://www.strava.com/oauth/token", "12345", "s", None)
    assert authorize_url(cfg) == (
        "https://www.strava.com/oauth/authorize?client_id=12345&response_type=code"
        "&redirect_uri=http://localhost/exchange_token&approval_prompt=force"
        "&scope=read_all,activity:read_all,profile:read_all"
    )


@pytest.mark.parametrize(
    "pasted",
    [
        "abc123",
        "  abc123\n",
        "http://localhost/exchange_token?state=&code=abc123&scope=read,activity:read_all,profile:read_all",
        "localhost/exchange_token?state=&code=abc123&scope=read",
    ],
)
def test_code_or_redirect_url_is_accepted(pasted):
    assert code_from_paste(pasted) == "abc123"


@pytest.mark.parametrize(
    "pasted",
    ["", "http://localhost/exchange_token?state=&error=access_denied", "http://localhost/exchange_token?state="],
)
def test_unusable_paste_says_what_to_do(pasted):
    with pytest.raises(UserError):
        code_from_paste(pasted)


def test_auth_command_exchanges_the_code_and_a_run_uses_the_stored_tokens(fake, clock, tmp_path, monkeypatch):
    from strava_pipeline.cli import main
    from tests.conftest import Cli

    cli = Cli(fake, clock, tmp_path / "data", monkeypatch, refresh_token="")
    monkeypatch.delenv("SOURCES__STRAVA__CREDENTIALS__REFRESH_TOKEN")
    # what the browser does: approve on the authorize page, get redirected with ?code=
    approve = requests.get(
        fake.authorize_url,
        allow_redirects=False,
        params={
            "client_id": fake.client_id,
            "response_type": "code",
            "redirect_uri": "http://localhost/exchange_token",
            "scope": "read_all,activity:read_all,profile:read_all",
        },
    )
    redirect = approve.headers["Location"]
    monkeypatch.setattr("builtins.input", lambda prompt="": redirect)
    out, err = io.StringIO(), io.StringIO()
    rc = main(["--data-dir", str(cli.data_dir), "auth"], clock=clock, out=out, err=err)
    assert rc == 0, err.getvalue()
    assert "oauth/authorize?client_id=" in out.getvalue() and "Authorized as" in out.getvalue()
    token_file = cli.data_dir / "strava_tokens.json"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    saved = json.loads(token_file.read_text())
    assert saved["refresh_token"] and saved["access_token"] not in out.getvalue()
    rc, out, err = cli("--no-detail", "--no-streams")
    assert rc == 0, err
    assert cli.count("activities") > 0


def test_auth_with_a_used_code_fails_clearly(fake, clock, tmp_path, monkeypatch):
    from strava_pipeline.cli import main
    from tests.conftest import Cli

    cli = Cli(fake, clock, tmp_path / "data", monkeypatch, refresh_token="")
    code = fake.issue_authorization_code()
    requests.post(
        fake.token_url,
        data={
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "grant_type": "authorization_code",
            "code": code,
        },
    )
    monkeypatch.setattr("builtins.input", lambda prompt="": code)
    err = io.StringIO()
    rc = main(["--data-dir", str(cli.data_dir), "auth"], clock=clock, out=io.StringIO(), err=err)
    assert rc == 2 and "authorization code" in err.getvalue() and err.getvalue().count("\n") == 1
