"""The client-side budget: header parsing, quarter-hour windows, waiting versus stopping, --max-requests."""

import pytest

from strava_pipeline.api.ratelimit import Budget, BudgetStop, days_needed, window_start
from strava_pipeline.clock import FakeClock

T0 = 1_700_000_000 - (1_700_000_000 % 86400) + 10 * 3600  # 10:00:00 UTC on some day


def headers(read, overall=None, case="docs"):
    overall = overall or read
    names = {
        "docs": ("X-RateLimit-Limit", "X-RateLimit-Usage", "X-ReadRateLimit-Limit", "X-ReadRateLimit-Usage"),
        "lower": ("x-ratelimit-limit", "x-ratelimit-usage", "x-readratelimit-limit", "x-readratelimit-usage"),
        "ruby": ("X-Ratelimit-Limit", "X-Ratelimit-Usage", "X-Readratelimit-Limit", "X-Readratelimit-Usage"),
    }[case]
    return {
        names[0]: "200,2000",
        names[1]: f"{overall[0]},{overall[1]}",
        names[2]: "100,1000",
        names[3]: f"{read[0]},{read[1]}",
    }


@pytest.mark.parametrize("case", ["docs", "lower", "ruby"])
def test_headers_are_read_in_any_case(case):
    b = Budget(clock=FakeClock(T0))
    assert b.update(headers((37, 412), case=case))
    assert (b.counters["read"].usage_15, b.counters["read"].usage_day) == (37, 412)
    assert b.read_limits() == (100, 1000)


def test_empty_usage_value_does_not_crash():
    b = Budget(clock=FakeClock(T0))
    assert not b.update({"X-ReadRateLimit-Usage": ",", "X-RateLimit-Usage": " , "})
    assert b.counters["read"].usage_15 == 0


def test_spent_window_waits_until_next_quarter_hour():
    clock = FakeClock(T0 + 7 * 60 + 12)
    waits = []
    b = Budget(clock=clock, on_wait=lambda s, r: (waits.append(s), clock.sleep(s)))
    b.update(headers((100, 340)))
    b.before_request()
    assert len(waits) == 1
    assert window_start(clock.now()) == T0 + 15 * 60
    assert clock.now() - (T0 + 15 * 60) < 5


def test_no_wait_stops_instead():
    b = Budget(clock=FakeClock(T0), wait=False)
    b.update(headers((100, 340)))
    with pytest.raises(BudgetStop) as stop:
        b.before_request()
    assert not stop.value.daily


def test_daily_limit_stops_even_when_waiting_is_allowed():
    b = Budget(clock=FakeClock(T0))
    b.update(headers((12, 1000)))
    with pytest.raises(BudgetStop) as stop:
        b.before_request()
    assert stop.value.daily


def test_overall_limit_counts_too():
    b = Budget(clock=FakeClock(T0), wait=False)
    b.update(headers((50, 500), overall=(200, 600)))
    with pytest.raises(BudgetStop):
        b.before_request()


def test_usage_of_an_earlier_window_or_day_does_not_count():
    clock = FakeClock(T0)
    b = Budget(clock=clock, wait=False)
    b.update(headers((100, 1000)))
    clock.advance(15 * 60)
    with pytest.raises(BudgetStop):  # same day: daily still spent
        b.before_request()
    clock.set(T0 - 10 * 3600 + 86400)  # next day 00:00 UTC
    b.before_request()


def test_local_count_when_headers_are_missing():
    b = Budget(clock=FakeClock(T0), wait=False)
    b.update(headers((98, 300)))
    b.note_sent()
    b.note_sent()
    with pytest.raises(BudgetStop):
        b.before_request()


def test_max_requests_caps_the_run():
    b = Budget(clock=FakeClock(T0), max_requests=2)
    for _ in range(2):
        b.before_request()
        b.note_sent()
    with pytest.raises(BudgetStop) as stop:
        b.before_request()
    assert stop.value.cap and not stop.value.daily


def test_budget_survives_between_runs(tmp_path):
    clock = FakeClock(T0)
    Budget(clock=clock, state_path=tmp_path / "rl.json").update(headers((100, 500)))
    later = Budget(clock=clock, state_path=tmp_path / "rl.json", wait=False)
    with pytest.raises(BudgetStop):
        later.before_request()
    assert (tmp_path / "rl.json").stat().st_mode & 0o777 == 0o600


def test_days_needed():
    assert days_needed(0, 1000, 500) == 0
    assert days_needed(400, 1000, 500) == 1
    assert days_needed(2500, 1000, 500) == 3
    assert days_needed(2000, 1000, 0) == 2


# ------------------------------------------------------------------------------ edges mutation testing found


def waiting_budget(at: float, **options):
    """A budget on a fake clock that records every wait (seconds, reason) and sleeps it on that clock."""
    clock = FakeClock(at)
    waits = []
    budget = Budget(clock=clock, on_wait=lambda s, r: (waits.append((s, r)), clock.sleep(s)), **options)
    return budget, clock, waits


def test_the_last_request_of_a_window_goes_out_without_waiting():
    budget, clock, waits = waiting_budget(T0 + 5 * 60)
    budget.update(headers((99, 340)))  # one read left in this quarter hour
    budget.before_request()
    assert waits == [] and clock.now() == T0 + 5 * 60
    budget.note_sent()
    budget.before_request()  # now the window is spent: wait until one second into the next
    assert waits == [(10 * 60 + 1, "15-minute limit reached")]


def test_a_request_counts_once_in_each_kind_it_belongs_to():
    budget = Budget(clock=FakeClock(T0))
    budget.note_sent()
    counts = {k: (c.usage_15, c.usage_day) for k, c in budget.counters.items()}
    assert counts == {"overall": (1, 1), "read": (1, 1)} and budget.sent == 1
    budget.note_sent(is_read=False)  # a write: only the overall budget
    counts = {k: (c.usage_15, c.usage_day) for k, c in budget.counters.items()}
    assert counts == {"overall": (2, 2), "read": (1, 1)} and budget.sent == 2


def test_requests_counted_without_headers_are_forgotten_in_the_next_window():
    budget, clock, waits = waiting_budget(T0 + 14 * 60)
    for _ in range(100):  # answers without rate-limit headers: only the local count knows
        budget.before_request()
        budget.note_sent()
    assert waits == [] and budget.counters["read"].usage_15 == 100
    clock.set(T0 + 15 * 60)
    budget.before_request()
    assert waits == [] and budget.counters["read"].usage_15 == 0 and budget.counters["read"].usage_day == 100


def test_a_new_utc_day_starts_every_count_at_zero():
    clock = FakeClock(T0)
    budget = Budget(clock=clock)
    budget.update(headers((40, 700), overall=(45, 900)))
    clock.set(T0 - 10 * 3600 + 86400)  # 00:00:00 UTC the next day
    assert budget.remaining_today() == 1000
    assert {k: (c.usage_15, c.usage_day) for k, c in budget.counters.items()} == {
        "overall": (0, 0),
        "read": (0, 0),
    }


@pytest.mark.parametrize(
    ("later", "usage"),
    [
        (15 * 60, (0, 500)),  # the next quarter hour, same day: the window is free, the day's count stays
        (-10 * 3600 + 86400, (0, 0)),  # the next UTC day
        (14 * 60 + 59, (100, 500)),  # still the same window: spent
    ],
)
def test_a_saved_budget_is_read_back_with_the_time_it_was_seen(tmp_path, later, usage):
    """Another run (a restart) reads the state file: usage seen in an earlier window or day no longer counts."""
    state = tmp_path / "rl.json"
    Budget(clock=FakeClock(T0), state_path=state).update(headers((100, 500)))
    clock = FakeClock(T0 + later)
    budget = Budget(clock=clock, state_path=state, wait=False)
    assert budget.observed_at == T0
    if usage[0] == 100:
        with pytest.raises(BudgetStop):
            budget.before_request()
    else:
        budget.before_request()
    assert (budget.counters["read"].usage_15, budget.counters["read"].usage_day) == usage


@pytest.mark.parametrize(
    ("requests_", "left_today", "days"),
    [
        (1200, 100, 3),  # 100 today, 1,000 tomorrow, 100 the day after
        (2, 1, 2),  # the last request of today, one more tomorrow
        (1000, 1000, 1),
        (1000, 0, 1),
    ],
)
def test_days_needed_counts_todays_remainder_as_a_day(requests_, left_today, days):
    assert days_needed(requests_, 1000, left_today) == days


@pytest.mark.parametrize("junk", ["-5,3", "--5,1", "\N{SUPERSCRIPT TWO},1", "5,-1", "+5,1", "5 5,1", "1,2,3"])
def test_junk_counts_are_ignored_not_trusted_or_fatal(junk):
    """A proxy or a broken server could send anything: a negative usage would open the budget, and '--5' or a latin-1
    '²' (str.isdigit, yet no int) crashed the run before."""
    budget = Budget(clock=FakeClock(T0))
    assert not budget.update({"X-ReadRateLimit-Usage": junk, "X-ReadRateLimit-Limit": junk})
    assert budget.counters["read"] == Budget(clock=FakeClock(T0)).counters["read"]
