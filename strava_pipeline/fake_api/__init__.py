"""A faithful fake of the Strava API v3 on 127.0.0.1: OAuth, rate limits, faults, a generated or the recorded athlete.

    from strava_pipeline.fake_api import FakeStrava, AthleteSpec, RateLimits
    with FakeStrava(athlete=AthleteSpec(seed=7), clock=FakeClock(...)) as fake:
        refresh_token = fake.issue_refresh_token()
        ...  # point a client at fake.base_url and fake.token_url

Modules: fake.py (the FakeStrava object), server.py (HTTP, routing, endpoints), ratelimit.py (server-side limiter),
oauth.py (token store), data.py (generated athlete), streams.py (stream generation), metrics.py (numbers derived
from streams), store.py (visibility, paging, edits, stats), replay.py (recorded data), faults.py, requestlog.py,
polyline.py, errors.py.

Test controls over HTTP (for a client in another process; not rate limited, not logged), all JSON:
POST /__fake__/clock {"advance": s} | {"set": epoch}; POST /__fake__/faults {"kind", "count", "path", "status",
"delay"} | {"clear": true}; POST /__fake__/usage {...}; GET /__fake__/log; GET /__fake__/counts;
POST /__fake__/reset_log; POST /__fake__/tokens {"action": "issue_refresh_token" | "issue_authorization_code" |
"expire_access_tokens" | "revoke_all", "scope": ...}; GET /__fake__/activities?visible_only=true.

Run `python -m strava_pipeline.fake_api --port 8765` to explore it by hand.
"""

from strava_pipeline.fake_api.data import AthleteSpec
from strava_pipeline.fake_api.fake import FakeStrava
from strava_pipeline.fake_api.ratelimit import RateLimits, Usage
from strava_pipeline.fake_api.requestlog import RequestLogEntry

__all__ = ["FakeStrava", "AthleteSpec", "RateLimits", "Usage", "RequestLogEntry"]
