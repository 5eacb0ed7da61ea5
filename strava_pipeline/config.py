"""Where things live (data dir, warehouse, state) and the Strava settings read the dlt way (config, secrets, env)."""

import os
import shlex
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dlt

from strava_pipeline import settings

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class UserError(Exception):
    """A problem the user can fix: printed as one sentence, exit code 2, no traceback."""


DATA_DIR_ENV = "STRAVA_DATA_DIR"


def resolve_data_dir(cli_value: str | None = None, demo: bool = False, check: bool = True) -> Path:
    """--data-dir, else STRAVA_DATA_DIR, else data/ in the project; the demo keeps its own data/demo/ inside it.

    check: a path that is (or lies inside) a file is a UserError, before anything tries to create folders there."""
    raw = cli_value or os.environ.get(DATA_DIR_ENV)
    base = Path(raw).expanduser().resolve() if raw else default_data_dir()
    data_dir = base / settings.DEMO_SUBDIR if demo else base
    if check:
        _check_folder(data_dir, f"--data-dir {raw}" if cli_value else f"{DATA_DIR_ENV}={raw}" if raw else "data/")
    return data_dir


def parse_day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        if len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise UserError(f"{flag} {value} is not a valid date: use YYYY-MM-DD, for example 2024-03-01.") from None


def default_data_dir() -> Path:
    return PROJECT_ROOT / settings.DEFAULT_DATA_DIR


def _check_folder(path: Path, given: str) -> None:
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise UserError(
                    f"{given} points at {candidate}, which is a file, not a folder: pass a folder (it is created "
                    "if missing), e.g. --data-dir data/."
                )
            return


def strava_command(data_dir: Path, *words: str, demo: bool | None = None) -> str:
    """The exact `uv run strava.py ...` command for this data dir, for hints a user copies and pastes.

    The demo (a data dir named demo/) gets --demo; a data dir other than the project's data/ gets --data-dir, so
    the command works from the project folder whatever STRAVA_DATA_DIR says. demo: override the guess."""
    data_dir = Path(data_dir).resolve()
    if demo is None:
        demo = data_dir.name == settings.DEMO_SUBDIR
    base = data_dir.parent if demo else data_dir
    parts = ["uv", "run", "strava.py"]
    if base != default_data_dir().resolve():
        parts += ["--data-dir", _shown(base)]
    if demo:
        parts.append("--demo")
    return shlex.join([*parts, *words])


def _shown(path: Path) -> str:
    """Relative to the project folder (where `uv run strava.py` is typed) when inside it, else absolute."""
    try:
        return str(path.relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def dagster_home(data_dir: Path) -> Path:
    """DAGSTER_HOME of this data dir: run history, schedules' state and logs of `strava.py ui`."""
    return data_dir / settings.DAGSTER_SUBDIR


def warehouse_path(data_dir: Path) -> Path:
    return data_dir / settings.WAREHOUSE_FILE


def pipelines_dir(data_dir: Path) -> Path:
    return data_dir / settings.PIPELINES_SUBDIR


@dataclass(frozen=True)
class StravaConfig:
    base_url: str
    access_token_url: str
    client_id: str
    client_secret: str
    refresh_token: str | None


_CONFIG_HINT = "set it in .dlt/config.toml or .dlt/secrets.toml (see .dlt/secrets.toml.example) or as {env}"


def _setting(key: str, secret: bool) -> str | None:
    getter = dlt.secrets.get if secret else dlt.config.get
    value = getter(key)
    if value is None and not secret:
        value = dlt.secrets.get(key)
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _env_name(key: str) -> str:
    return key.upper().replace(".", "__")


def load_strava_config(require_refresh_token: bool = True) -> StravaConfig:
    """Read [sources.strava] and its credentials; a missing or empty value is a UserError naming the key to set."""
    keys = {
        "base_url": ("sources.strava.base_url", False),
        "access_token_url": ("sources.strava.credentials.access_token_url", False),
        "client_id": ("sources.strava.credentials.client_id", True),
        "client_secret": ("sources.strava.credentials.client_secret", True),
        "refresh_token": ("sources.strava.credentials.refresh_token", True),
    }
    values = {name: _setting(key, secret) for name, (key, secret) in keys.items()}
    for name, (key, _) in keys.items():
        if values[name] is None and (name != "refresh_token" or require_refresh_token):
            raise UserError(f"Missing Strava setting {key}: " + _CONFIG_HINT.format(env=_env_name(key)) + ".")
    for name in ("base_url", "access_token_url"):
        if not values[name].startswith(("http://", "https://")):
            raise UserError(
                f"{keys[name][0]} must be an http(s) URL, got {values[name]!r}: fix it in .dlt/config.toml."
            )
    values["base_url"] = values["base_url"].rstrip("/")
    return StravaConfig(**values)


def request_timeout() -> float:
    """[sources.strava] request_timeout (seconds, default 60): a slower answer is retried like a dropped one."""
    value = dlt.config.get("sources.strava.request_timeout")
    try:
        return float(value) if value is not None else 60.0
    except (TypeError, ValueError):
        raise UserError(f"sources.strava.request_timeout must be a number of seconds, got {value!r}.") from None
