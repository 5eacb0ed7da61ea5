"""Response bodies for errors, as Strava sends them (recorded in strava-reference/api or documented)."""

from __future__ import annotations

# error_401.json: missing or unknown access token
AUTH_INVALID = {
    "message": "Authorization Error",
    "errors": [{"resource": "Application", "field": "", "code": "invalid"}],
}
# an access token that was valid but is past expires_at
AUTH_EXPIRED = {
    "message": "Authorization Error",
    "errors": [{"resource": "Athlete", "field": "access_token", "code": "invalid"}],
}
# documented body of a 429
RATE_LIMITED = {
    "message": "Rate Limit Exceeded",
    "errors": [{"resource": "Application", "field": "rate limit", "code": "exceeded"}],
}
# oauth_token_invalid_client.json / oauth_token_invalid_code.json
INVALID_CLIENT = {
    "message": "Bad Request",
    "errors": [{"resource": "Application", "field": "client_id", "code": "invalid"}],
}
INVALID_CODE = {"message": "Bad Request", "errors": [{"resource": "RequestToken", "field": "code", "code": "invalid"}]}
INVALID_REFRESH = {
    "message": "Bad Request",
    "errors": [{"resource": "RefreshToken", "field": "refresh_token", "code": "invalid"}],
}
# a path that is no API route at all
UNKNOWN_ROUTE = {
    "message": "Record Not Found",
    "errors": [{"resource": "resource", "field": "path", "code": "invalid"}],
}
# stats of an athlete other than the token's
FORBIDDEN_ATHLETE = {"message": "Forbidden", "errors": [{"resource": "Athlete", "field": "id", "code": "forbidden"}]}


def not_found(resource: str) -> dict:
    return {"message": "Resource Not Found", "errors": [{"resource": resource, "field": "id", "code": "not found"}]}


def bad_request(field: str, resource: str = "Application") -> dict:
    return {"message": "Bad Request", "errors": [{"resource": resource, "field": field, "code": "invalid"}]}


def missing_permission(permission: str) -> dict:
    """A token without the scope an endpoint needs, e.g. activity:read_permission."""
    return {
        "message": "Authorization Error",
        "errors": [{"resource": "AccessToken", "field": permission, "code": "missing"}],
    }
