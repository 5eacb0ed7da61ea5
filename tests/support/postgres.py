"""A throwaway PostgreSQL + PostGIS server on 127.0.0.1 in a temp folder, for tests and benchmarks.

Debian packages: postgresql and postgresql-<version>-postgis-3 (`.ci/run` installs them). As root the cluster
belongs to the `postgres` system user, because PostgreSQL refuses to run as root. Durability is switched off
(fsync, synchronous commit, full page writes): the cluster lives as long as one test session.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

POSTGIS_HINT = "apt-get update && apt-get install -y postgresql postgresql-postgis"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL or PostGIS is not installed here (or the cluster would not start): callers skip with its text."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _bindir() -> Path:
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresUnavailable(f"PostgreSQL is not installed (no initdb): {POSTGIS_HINT}")
    return Path(found[-1]).parent


class PostgresServer:
    """initdb + pg_ctl start on a free loopback port with trust auth for user postgres; stop() ends it."""

    def __init__(self, scratch: Path | None = None, shared_buffers: str = "256MB", work_mem: str = "64MB") -> None:
        """scratch: the folder for the cluster; default a new one in the system temp dir, removed by stop(). As
        root, every folder above it must be open to the postgres user (pytest's tmp_path is not)."""
        bindir = _bindir()
        self.pg_ctl = str(bindir / "pg_ctl")
        self.psql_bin = shutil.which("psql") or str(bindir / "psql")
        self._own_scratch = scratch is None
        scratch = Path(tempfile.mkdtemp(prefix="strava-pg-")) if scratch is None else Path(scratch)
        self.scratch = scratch
        self.dir = scratch / "pg"
        self.dir.mkdir(parents=True)
        self.as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.as_user:
            for folder in (scratch, self.dir):
                shutil.chown(folder, "postgres")
        self.port = free_port()
        self.started = False
        self._run([str(bindir / "initdb"), "-D", str(self.dir / "data"), "-U", "postgres", "--auth=trust",
                   "--no-sync", "-E", "UTF8"])  # fmt: skip
        opts = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.dir} -c fsync=off -c synchronous_commit=off "
            f"-c full_page_writes=off -c shared_buffers={shared_buffers} -c work_mem={work_mem}"
        )
        self._run([self.pg_ctl, "-D", str(self.dir / "data"), "-o", opts, "-l", str(self.dir / "log"), "-w", "start"])
        self.started = True
        try:
            self.psql("create extension if not exists postgis;")
        except PostgresUnavailable:
            self.stop()
            raise

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A fresh database with PostGIS in it; returns its URL."""
        self.psql(f'drop database if exists "{name}";')
        self.psql(f'create database "{name}";')
        self.psql("create extension if not exists postgis;", database=name)
        return self.url(name)

    def _run(self, cmd: list[str]) -> None:
        run = subprocess.run(self.as_user + cmd, capture_output=True, text=True)
        if run.returncode != 0:
            raise PostgresUnavailable(f"{Path(cmd[0]).name} failed: {(run.stderr or run.stdout).strip()[-400:]}")

    def psql(self, sql: str | None, stdin: str | None = None, tuples: bool = False, database: str = "postgres") -> str:
        cmd = [self.psql_bin, "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
               "-X", "-q", "-v", "ON_ERROR_STOP=1"] + (["-A", "-t"] if tuples else [])  # fmt: skip
        run = subprocess.run(cmd + ["-c", sql] if stdin is None else cmd, input=stdin, capture_output=True, text=True)
        if run.returncode != 0:
            raise PostgresUnavailable(f"psql: {(run.stderr or run.stdout).strip()[-600:]}")
        return run.stdout.strip()

    def stop(self) -> None:
        if self.started:
            subprocess.run(
                self.as_user + [self.pg_ctl, "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )
            self.started = False
        if self._own_scratch:
            shutil.rmtree(self.scratch, ignore_errors=True)
