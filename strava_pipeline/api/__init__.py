"""The Strava API side: HTTP client, OAuth with rotating refresh tokens, the header-driven rate-limit budget, the
work queue of what is still to fetch, the response journal and the import run that ties them together."""
