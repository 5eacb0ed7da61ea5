"""What every Dagster run of the stack shares: the data dir, which Strava to talk to, and the one-writer lock."""

import io
import logging
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import dagster as dg

from strava_pipeline.config import StravaConfig, UserError, load_strava_config, resolve_data_dir
from strava_pipeline.lock import warehouse_lock

# `STRAVA_DEMO=1` runs everything against the bundled fake Strava API in <data dir>/demo, like `strava.py --demo`
DEMO_ENV = "STRAVA_DEMO"
# the ops that write the warehouse or read it for their whole run (import, dbt build, archive inbox, maps) share
# this pool; the dagster.yaml that `strava.py ui` puts in DAGSTER_HOME gives it one slot
WAREHOUSE_POOL = "strava_warehouse"
# a run waits this long for a CLI import that holds the warehouse (an import paced at 1,000 requests a day
# spends about 2.5 hours in 15-minute windows), then fails saying who holds it
LOCK_WAIT_S = 6 * 3600.0


def demo_from_env() -> bool:
    return os.environ.get(DEMO_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def automation_default_status() -> dg.DefaultScheduleStatus:
    """Schedules and sensors are on for a real account and off in the demo (STRAVA_DEMO=1): the one setting read
    when the code loads, because Dagster decides a default state then. Turned on or off in the UI, they stay so."""
    return dg.DefaultScheduleStatus.STOPPED if demo_from_env() else dg.DefaultScheduleStatus.RUNNING


class StravaEnv(dg.ConfigurableResource):
    """The data dir and the Strava settings of a run, read when the run starts (never when the code loads).

    Unset fields follow the same settings as the CLI: STRAVA_DATA_DIR (default data/), STRAVA_DEMO, and dlt's
    config.toml / secrets.toml / SOURCES__STRAVA__* for the credentials."""

    data_dir: str | None = None
    demo: bool | None = None
    lock_wait_s: float = LOCK_WAIT_S

    def is_demo(self) -> bool:
        return demo_from_env() if self.demo is None else self.demo

    def resolved_data_dir(self) -> Path:
        return resolve_data_dir(self.data_dir, demo=self.is_demo())

    def strava_config(self, stack: ExitStack, data_dir: Path, clock) -> StravaConfig:
        """The credentials of a real run, or the bundled fake API started for this run (stopped with the stack)."""
        if self.is_demo():
            from strava_pipeline.demo import demo_config  # the fake API is only imported for the demo

            return demo_config(stack, data_dir, clock)
        return load_strava_config(require_refresh_token=False)

    def announce_wait(self, log: logging.Logger, data_dir: Path) -> None:
        """Say in the run's log when someone else (a CLI import) holds the warehouse and this run will wait."""
        try:
            with warehouse_lock(data_dir, wait_s=0, holder="dagster (probe)"):
                pass
        except UserError as busy:
            log.warning(f"{busy} Waiting up to {self.lock_wait_s / 3600:.0f} h for it.")

    @contextmanager
    def writer_lock(self, log: logging.Logger, data_dir: Path, holder: str) -> Iterator[None]:
        """Hold the warehouse lock for a step (waiting for another writer if need be); UserErrors become Failures."""
        with user_errors():
            self.announce_wait(log, data_dir)
            with warehouse_lock(data_dir, wait_s=self.lock_wait_s, holder=holder):
                yield


@contextmanager
def user_errors() -> Iterator[None]:
    """A problem the user can fix ends the step with its one-sentence message, not a traceback."""
    try:
        yield
    except UserError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None


@contextmanager
def environ(**values: str) -> Iterator[None]:
    """Set environment variables for the duration (dbt reads the warehouse path from STRAVA_DATA_DIR)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class LogStream(io.TextIOBase):
    """A text stream whose lines go to a Dagster run's log: the import's progress reporter writes here."""

    def __init__(self, log: logging.Logger) -> None:
        super().__init__()
        self._log = log
        self._buffer = ""

    def writable(self) -> bool:
        return True

    def isatty(self) -> bool:
        return False

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            if line.strip():
                self._log.info(line.rstrip())
        return len(text)

    def flush(self) -> None:
        if self._buffer.strip():
            self._log.info(self._buffer.rstrip())
        self._buffer = ""
