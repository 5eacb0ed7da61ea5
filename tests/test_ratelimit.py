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
