"""Demo mode: the bundled fake Strava API with a generated athlete, started in-process on a free loopback port."""

from contextlib import ExitStack
from datetime import date
from pathlib import Path

import requests

from strava_pipeline import settings
from strava_pipeline.api.auth import StravaAuth
from strava_pipeline.api.tokens import TokenStore
from strava_pipeline.config import StravaConfig
from strava_pipeline.fake_api import AthleteSpec, FakeStrava, RateLimits

DEMO_CLIENT_ID = "demo"
DEMO_CLIENT_SECRET = "demo-secret"
DEMO_ATHLETE = AthleteSpec(seed=7, first_day=date(2022, 1, 1), activities_per_week=4.0)
# a hundred times Strava's limits: the demo loads years in one run; tests use the real limits
DEMO_LIMITS = RateLimits(overall_15min=20000, overall_daily=200000, read_15min=10000, read_daily=100000)


def start_demo_api(stack: ExitStack, data_dir: Path, clock) -> tuple[FakeStrava, str]:
    """Returns the running fake and its API base URL; stopped when the stack closes."""
    data_dir.mkdir(parents=True, exist_ok=True)
    fake = FakeStrava(
        athlete=DEMO_ATHLETE,
        clock=clock,
        limits=DEMO_LIMITS,
        state_file=data_dir / "fake_strava_state.json",
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
    )
    base_url = fake.start()
    stack.callback(fake.stop)
    return fake, base_url


def demo_config(stack: ExitStack, data_dir: Path, clock) -> StravaConfig:
    """Start the bundled fake API on a free loopback port and sign in to it like a real user would."""
    fake, base_url = start_demo_api(stack, data_dir, clock)
    cfg = StravaConfig(
        base_url=base_url,
        access_token_url=fake.token_url,
        client_id=DEMO_CLIENT_ID,
        client_secret=DEMO_CLIENT_SECRET,
        refresh_token=None,
    )
    store = TokenStore(data_dir / settings.TOKENS_FILE)
    if store.load() is None:
        # the same code exchange `strava.py auth` does, with a code the fake hands out instead of a browser
        StravaAuth(cfg, store, requests.Session(), clock).exchange_code(fake.issue_authorization_code())
    return cfg
