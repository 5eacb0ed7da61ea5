"""Secrets stay secret: commands run verbose (successes, retries, refusals, crashes) and every byte they print, log or
leave in the data dir is searched for the client secret and every refresh and access token; the token file is
0600 and a new data dir 0700."""

import io
import json
import logging
import stat
from pathlib import Path

import pytest

from strava_pipeline.cli import main
from tests.conftest import Cli

TOKEN_FILE = "strava_tokens.json"


class Leaks:
    """Everything the commands said, and the secrets to look for in it."""

    def __init__(self, fake, cli: Cli) -> None:
        self.fake, self.cli = fake, cli
        self.texts: list[tuple[str, str]] = []
        self.secrets = {fake.client_secret, cli.refresh_token}

    def run(self, *args: str, verbose: bool = True, prefix: tuple = ("--import-only",)) -> int:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--data-dir", str(self.cli.data_dir), *(["-v"] if verbose else []), *prefix, *args]
        rc = main(argv, clock=self.cli.clock, out=out, err=err)
        self.texts += [(f"stdout of {args}", out.getvalue()), (f"stderr of {args}", err.getvalue())]
        return rc

    def learn_tokens(self) -> None:
        """The tokens the run got (the rotated refresh token and the access token) are secrets too."""
        path = self.cli.data_dir / TOKEN_FILE
        if path.exists():
            saved = json.loads(path.read_text())
            self.secrets |= {saved.get("refresh_token"), saved.get("access_token")} - {None, ""}

    def files(self) -> None:
        for path in sorted(self.cli.data_dir.rglob("*")):
            if path.is_file() and path.name != TOKEN_FILE:
                self.texts.append((str(path.relative_to(self.cli.data_dir)), path.read_bytes().decode("latin-1")))

    def found(self) -> list[str]:
        return [
            f"{where}: {secret[:4]}..."
            for where, text in self.texts
            for secret in sorted(s for s in self.secrets if len(s) >= 8)
            if secret in text
        ]


@pytest.fixture
def leaks(fake, clock, tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    cli = Cli(fake, clock, tmp_path / "data", monkeypatch, fake.issue_refresh_token())
    return Leaks(fake, cli)


def test_no_secret_in_any_output_log_or_file(leaks, fake, caplog, capfd):
    assert leaks.run("--start-date", "2025-10-01") == 0
    leaks.learn_tokens()
    # a rejected access token (refresh and retry), retries of 5xx and a dropped connection, all logged verbose
    fake.expire_access_tokens()
    fake.faults.add("5xx", count=3, path=r"/streams")
    fake.faults.add("drop", count=1, path=r"/athlete/activities")
    fake.add_activity()
    assert leaks.run() == 0
    leaks.learn_tokens()
    assert leaks.run("--plan") == 0
    # the token endpoint failing, then refusing: the error messages
    fake.expire_access_tokens()
    fake.faults.add("5xx", count=10, path=r"/oauth/token")
    assert leaks.run() == 2
    fake.faults.clear()
    fake.revoke_all_tokens()
    fake.expire_access_tokens()
    assert leaks.run() == 2
    # the other commands that read the data dir
    assert leaks.run("export", prefix=()) in (0, 2)
    leaks.files()
    captured = capfd.readouterr()
    leaks.texts += [("captured stdout", captured.out), ("captured stderr", captured.err)]
    leaks.texts += [(f"log {r.name}", r.getMessage() + repr(r.args)) for r in caplog.records]
    assert len(leaks.secrets) >= 4  # the secret, the configured and a rotated refresh token, an access token
    assert sum(len(t) for _, t in leaks.texts) > 10_000  # there was plenty to search
    assert leaks.found() == []


def test_an_unexpected_crash_shows_no_secret(leaks, fake, monkeypatch, capfd):
    """An internal failure keeps its traceback (house rule): its frames must not carry the secrets either."""
    from strava_pipeline.api import client as client_module

    def boom(self, *args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(client_module.StravaClient, "get", boom)
    with pytest.raises(Exception, match="simulated bug") as crash:
        leaks.run()
    import traceback

    leaks.texts.append(("traceback", "".join(traceback.format_exception(crash.value))))
    captured = capfd.readouterr()
    leaks.texts += [("captured stdout", captured.out), ("captured stderr", captured.err)]
    assert leaks.found() == []


def test_token_file_is_0600_and_a_new_data_dir_0700(leaks):
    assert not leaks.cli.data_dir.exists()
    assert leaks.run("--no-detail", "--no-streams", verbose=False) == 0
    assert stat.S_IMODE(leaks.cli.data_dir.stat().st_mode) == 0o700
    for name in (TOKEN_FILE, "ratelimit.json", "api_journal.sqlite"):
        path = leaks.cli.data_dir / name
        if path.exists():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, name


def test_an_existing_data_dir_keeps_its_mode(leaks):
    leaks.cli.data_dir.mkdir(mode=0o750)
    Path(leaks.cli.data_dir).chmod(0o750)
    assert leaks.run("--no-detail", "--no-streams", verbose=False) == 0
    assert stat.S_IMODE(leaks.cli.data_dir.stat().st_mode) == 0o750
    assert stat.S_IMODE((leaks.cli.data_dir / TOKEN_FILE).stat().st_mode) == 0o600
