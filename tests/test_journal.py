"""The response journal: answers durable before the next request, replayed by the next run, trimmed once committed,
never replayed when stale, from the future or damaged; and through the CLI, a run that dies before its commit costs
the next run no request."""

import os
import sqlite3

import pytest

from strava_pipeline.api import runner as runner_module
from strava_pipeline.api.journal import JOURNAL_FILE, MAX_AGE_S, ResponseJournal, request_key
from strava_pipeline.clock import FakeClock
from tests.conftest import NOW


@pytest.fixture
def journal(tmp_path):
    j = ResponseJournal(tmp_path / JOURNAL_FILE, FakeClock(NOW))
    yield j
    j.close()


def reopened(j: ResponseJournal) -> ResponseJournal:
    """The same file opened by a new run (the old handle closed, as after a kill)."""
    j.close()
    return ResponseJournal(j.path, j.clock, j.max_age_s)


def test_request_key_is_the_same_for_the_same_request():
    assert request_key("/a", {"page": 2, "after": 5}) == request_key("/a", {"after": "5", "page": "2"})
    assert request_key("/a", {"page": 2}) != request_key("/a", {"page": 3})
    assert request_key("/a") == request_key("/a", {}) == "/a"


def test_a_recorded_answer_survives_the_process_and_is_replayed_once_loaded_never(journal):
    journal.record("/a", 200, b'{"id": 1}')
    journal.record("/b", 404, b"")
    # a kill -9 here: nothing but the file is left
    again = reopened(journal)
    assert again.replay("/a") == (200, b'{"id": 1}')
    assert again.replay("/b") == (404, b"")
    assert again.replay("/c") is None
    assert again.replayed == 2
    again.loaded()  # committed to the warehouse: forgotten
    assert reopened(again).replay("/a") is None


def test_answers_of_a_failed_commit_stay(journal):
    journal.record("/a", 200, b"[]")
    journal.release()
    journal.record("/b", 200, b"[]")
    journal.loaded()  # only what was used since the release
    again = reopened(journal)
    assert again.replay("/a") == (200, b"[]") and again.replay("/b") is None


def test_stale_answers_and_answers_from_the_future_are_dropped(tmp_path):
    clock = FakeClock(NOW)
    j = ResponseJournal(tmp_path / JOURNAL_FILE, clock)
    j.record("/old", 200, b"[]")
    clock.advance(MAX_AGE_S + 1)
    j.record("/new", 200, b"[]")
    j.close()
    later = ResponseJournal(tmp_path / JOURNAL_FILE, clock)
    assert later.replay("/old") is None and later.replay("/new") == (200, b"[]")
    later.close()
    clock.set(NOW)  # the clock jumped back a day: the answer from "tomorrow" is not trusted
    back = ResponseJournal(tmp_path / JOURNAL_FILE, clock)
    assert back.replay("/new") is None
    back.close()


def test_pins_hold_a_value_until_unpinned(journal):
    assert journal.pin("listing", [1, 2]) == [1, 2]
    assert reopened(journal).pin("listing", [3, 4]) == [1, 2]
    journal.unpin("listing")
    assert journal.pin("listing", [5, 6]) == [5, 6]


@pytest.mark.parametrize("damage", [b"", b"not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 4000])
def test_a_damaged_journal_is_replaced_not_fatal(tmp_path, damage):
    path = tmp_path / JOURNAL_FILE
    path.write_bytes(damage)
    j = ResponseJournal(path, FakeClock(NOW))
    assert j.replay("/a") is None
    j.record("/a", 200, b"[]")
    assert reopened(j).replay("/a") == (200, b"[]")


def test_the_journal_is_private_and_durable(journal):
    journal.record("/a", 200, b"[]")
    assert os.stat(journal.path).st_mode & 0o777 == 0o600
    con = sqlite3.connect(journal.path)
    assert con.execute("pragma journal_mode").fetchone()[0] == "wal"
    con.close()
    assert journal._db().execute("pragma synchronous").fetchone()[0] == 2  # FULL: fsync at every commit


class Killed(BaseException):
    """Stands for a kill -9 (no except clause of the runner catches a BaseException subclass of its own)."""


def test_a_run_killed_before_its_commit_costs_the_next_run_no_request(cli, fake, monkeypatch):
    real_flush = runner_module.Run._flush

    def die(self, batch):
        if not batch.empty():
            raise Killed()
        return real_flush(self, batch)

    monkeypatch.setattr(runner_module.Run, "_flush", die)
    with pytest.raises(Killed):
        cli("--start-date", "2025-10-01")
    first = [e for e in fake.log if e.method == "GET"]
    fetched = {(e.path, tuple(sorted(e.query.items()))) for e in first if "/activities/" in e.path}
    assert len(fetched) > 20  # detail and streams were fetched, then lost with the batch
    assert cli.sql("select count(*) from information_schema.tables where table_name = 'fetch_log'") == [(0,)]

    monkeypatch.setattr(runner_module.Run, "_flush", real_flush)
    fake.reset_log()
    rc, out, err = cli("--start-date", "2025-10-01")
    assert rc == 0, err
    again = {(e.path, tuple(sorted(e.query.items()))) for e in fake.log if e.method == "GET"}
    assert not again & fetched, "answers in the journal were asked again"
    assert cli.sql("select count(*) from strava.fetch_log")[0][0] >= len(fetched)
    # complete: the journal is empty again
    j = ResponseJournal(cli.data_dir / JOURNAL_FILE, FakeClock(NOW))
    assert j.pending() == 0
    j.close()
