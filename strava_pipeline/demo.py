"""Demo mode: the bundled fake Strava API with a generated athlete, started in-process on a free loopback port."""

from contextlib import ExitStack
from datetime import date
from pathlib import Path

from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits

DEMO_CLIENT_ID = "demo"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_ATHLETE = AthleteSpec(seed=7, first_day=date(2022, 1, 1), activities_per_week=4.0)
# ten times Strava's limits: the demo finishes in one run; tests use the real limits
DEMO_LIMITS = RateLimits(overall_15min=2000, overall_daily=20000, read_15min=1000, read_daily=10000)


def start_demo_api(stack: ExitStack, data_dir: Path, clock) -> tuple[FakeStrava, str]:
    """Returns the running fake and its API base URL; stopped when the stack closes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fake = FakeStrava(
        athlete=DEMO_ATHLETE, clock=clock, limits=DEMO_LIMITS, state_file=data_dir / "fake_strava_state.json",
        client_id=DEMO_CLIENT_ID, client_secret=DEMO_CLIENT_SECRET,
    )
    base_url = fake.start()
    stack.callback(fake.stop)
    return fake, base_url
