"""Which warehouse every command uses: the DuckDB file (default) or PostgreSQL/PostGIS (STRAVA_WAREHOUSE=postgres).

One switch, read the dlt way when a command starts: the key `strava_warehouse`, i.e. the env variable
STRAVA_WAREHOUSE or `strava_warehouse = "postgres"` at the top of .dlt/config.toml. The connection is dlt's own
key for its postgres destination: DESTINATION__POSTGRES__CREDENTIALS=postgresql://user:password@host:5432/db, or
`[destination.postgres] credentials = "..."` in .dlt/secrets.toml (or its host/port/database/username/password
fields). Both warehouses hold the same raw dataset `strava` and the same dbt schemas (staging, intermediate,
marts, seeds); with PostgreSQL the data dir still keeps tokens, rate-limit memory, dlt state, dbt results and the
reports' snapshot, and no DuckDB file is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import dlt

from strava_pipeline import settings
from strava_pipeline.config import UserError, pipelines_dir, warehouse_path

WAREHOUSE_KEY = "strava_warehouse"
WAREHOUSE_ENV = "STRAVA_WAREHOUSE"
DUCKDB, POSTGRES = "duckdb", "postgres"
CHOICES = (DUCKDB, POSTGRES)
CREDENTIALS_KEY = "destination.postgres.credentials"
CREDENTIALS_HINT = (
    "DESTINATION__POSTGRES__CREDENTIALS=postgresql://user:password@host:5432/database "
    "(or [destination.postgres] credentials in .dlt/secrets.toml)"
)
# dlt's state of the postgres pipeline lives apart from the DuckDB one: the incremental cursor of one warehouse
# must not make the other skip the history it has never loaded
POSTGRES_PIPELINES_SUBDIR = "pipelines_postgres"
CONNECT_TIMEOUT_S = 10


def selected() -> str:
    """duckdb or postgres, from STRAVA_WAREHOUSE / strava_warehouse; anything else is a UserError."""
    value = dlt.config.get(WAREHOUSE_KEY)
    name = str(value).strip().lower() if value is not None else ""
    if not name:
        return DUCKDB
    if name not in CHOICES:
        raise UserError(
            f"{WAREHOUSE_ENV}={value} is not a warehouse this project knows: use duckdb (the default) or postgres."
        )
    return name


def is_postgres() -> bool:
    return selected() == POSTGRES


@dataclass(frozen=True)
class PostgresTarget:
    host: str
    port: int
    database: str
    username: str
    password: str | None

    def url(self) -> str:
        """The connection string with its password (for drivers only: never print it)."""
        from dlt.destinations.impl.postgres.configuration import PostgresCredentials

        creds = PostgresCredentials()
        creds.drivername = "postgresql"
        creds.host, creds.port, creds.database = self.host, self.port, self.database
        creds.username, creds.password = self.username, self.password
        return creds.to_url().render_as_string(hide_password=False)

    def where(self) -> str:
        """host:port/database, safe to print."""
        return f"{self.host}:{self.port}/{self.database}"


def postgres_target() -> PostgresTarget:
    """dlt's credentials of its postgres destination, as a string or as separate fields; missing -> UserError."""
    from dlt.common.configuration import resolve_configuration
    from dlt.common.configuration.exceptions import ConfigFieldMissingException
    from dlt.destinations.impl.postgres.configuration import PostgresCredentials

    value = dlt.secrets.get(CREDENTIALS_KEY)
    creds = PostgresCredentials()
    try:
        if isinstance(value, str) and value.strip():
            creds.parse_native_representation(value.strip())
        else:
            creds = resolve_configuration(creds, sections=("destination", "postgres", "credentials"))
    except ConfigFieldMissingException:
        raise UserError(f"{WAREHOUSE_ENV}=postgres needs the connection: set {CREDENTIALS_HINT}.") from None
    except Exception:  # dlt's parse error quotes the value, password included: say only what to fix
        raise UserError(
            f"The PostgreSQL connection string in {CREDENTIALS_KEY} cannot be read: write it as "
            "postgresql://user:password@host:5432/database."
        ) from None
    if not creds.host or not creds.database:
        raise UserError(f"The PostgreSQL connection needs a host and a database: set {CREDENTIALS_HINT}.")
    return PostgresTarget(
        host=creds.host,
        port=int(creds.port or 5432),
        database=creds.database,
        username=creds.username or "postgres",
        password=creds.password or None,
    )


def connect(target: PostgresTarget | None = None):
    """A psycopg2 connection to the warehouse; an unreachable server or a refused login is a UserError."""
    import psycopg2

    target = target or postgres_target()
    try:
        return psycopg2.connect(
            host=target.host,
            port=target.port,
            dbname=target.database,
            user=target.username,
            password=target.password,
            connect_timeout=CONNECT_TIMEOUT_S,
            application_name="strava-datastack",
        )
    except psycopg2.OperationalError as exc:
        reason = _reason(str(exc))
        raise UserError(
            f"PostgreSQL at {target.where()} is unreachable ({reason}): check that the server runs and accepts "
            f"connections from this machine, and the host, port, database, user and password in {CREDENTIALS_KEY} "
            "(env DESTINATION__POSTGRES__CREDENTIALS or .dlt/secrets.toml)."
        ) from None


def _reason(message: str) -> str:
    """The last useful line of libpq's message, without anything that looks like a password."""
    lines = [line.strip() for line in message.strip().splitlines() if line.strip()]
    reason = lines[0] if lines else "no answer"
    reason = re.sub(r'^connection to server at "[^"]*"( \([^)]*\))?, port \d+ failed: ', "", reason)
    return reason.rstrip(".")[:160]


def check_postgres(target: PostgresTarget | None = None) -> PostgresTarget:
    """Connect once and make sure PostGIS is there (the masking needs it), before anything is written."""
    target = target or postgres_target()
    con = connect(target)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute("select 1 from pg_extension where extname = 'postgis'")
            if cur.fetchone() is None:
                try:
                    cur.execute("create extension if not exists postgis")
                except Exception:
                    raise UserError(
                        f"PostgreSQL at {target.where()} has no PostGIS: install it (Debian: postgresql-<version>-"
                        "postgis-3) and run `create extension postgis;` in that database as a superuser."
                    ) from None
    finally:
        con.close()
    return target


# ---------------------------------------------------------------------------------------------- dlt


def destination(data_dir: Path):
    """dlt's destination of the selected warehouse (PostgreSQL: checked reachable first)."""
    if not is_postgres():
        from strava_pipeline import warehouse

        return warehouse.duckdb_destination(warehouse_path(data_dir))
    target = check_postgres()
    _patch_postgres_client()
    return dlt.destinations.postgres(credentials=target.url())


def pipeline_dir(data_dir: Path) -> Path:
    return data_dir / POSTGRES_PIPELINES_SUBDIR if is_postgres() else pipelines_dir(data_dir)


def make_pipeline(data_dir: Path) -> dlt.Pipeline:
    """The import pipeline of this data dir, into the selected warehouse."""
    data_dir.mkdir(parents=True, exist_ok=True)
    return dlt.pipeline(
        pipeline_name=settings.PIPELINE_NAME,
        pipelines_dir=str(pipeline_dir(data_dir)),
        destination=destination(data_dir),
        dataset_name=settings.DATASET_NAME,
    )


def has_pending_data(pipeline: dlt.Pipeline) -> bool:
    """pipeline.has_pending_data, after mending the one state a kill leaves that dlt cannot resume from.

    dlt commits a normalized package by renaming load/new/<id> to load/normalized/<id>, then deletes the extracted
    copy (normalize/extracted/<id>): a kill -9 between the two leaves both, and every later run normalizes the
    extracted copy again and fails on the rename ("Directory not empty"). The normalized package is complete, so the
    extracted copy is deleted as dlt itself would have. Call it with the warehouse lock held."""
    import shutil

    root = Path(pipeline.working_dir)
    extracted = root / "normalize" / "extracted"
    if extracted.is_dir():
        for package in extracted.iterdir():
            if any((root / "load" / stage / package.name).exists() for stage in ("normalized", "loaded")):
                shutil.rmtree(package)
    return pipeline.has_pending_data


def streams_write_hints() -> dict:
    """How activity_streams is loaded, so that a re-loaded activity replaces its points as a whole.

    DuckDB: appended by warehouse.ReplaceByKeyCopyJob (delete the activity's points, insert, one transaction).
    PostgreSQL: dlt's own delete-insert merge on the merge key activity_id, which gives the same guarantee."""
    if is_postgres():
        return {"write_disposition": {"disposition": "merge", "strategy": "delete-insert"}, "merge_key": "activity_id"}
    return {"write_disposition": "append"}


_QMARK = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|(\?)|(%)")


def qmark_to_pyformat(query: str) -> str:
    """DuckDB-style `?` placeholders (the pipeline's own SQL) as psycopg2's `%s`, a literal % as %%."""
    # psycopg2 reads % everywhere once parameters are given, inside quoted strings too
    return _QMARK.sub(lambda m: "%s" if m.group(1) else "%%" if m.group(2) else m.group(0).replace("%", "%%"), query)


_PATCHED = False


def _patch_postgres_client() -> None:
    """The pipeline's SQL passes parameters DuckDB's way (`?`): psycopg2 wants `%s`. Applied once, when the
    postgres destination is first made (never at import time)."""
    global _PATCHED
    if _PATCHED:
        return
    from dlt.destinations.impl.postgres.sql_client import Psycopg2SqlClient

    execute_query = Psycopg2SqlClient.execute_query

    def execute_query_qmark(self, query, *args, **kwargs):
        # dlt's own queries already use %s: only those with a `?` outside quotes are the pipeline's
        if (args or kwargs) and isinstance(query, str) and any(m.group(1) for m in _QMARK.finditer(query)):
            query = qmark_to_pyformat(query)
        return execute_query(self, query, *args, **kwargs)

    Psycopg2SqlClient.execute_query = execute_query_qmark
    _PATCHED = True


# ---------------------------------------------------------------------------------------------- dbt


def dbt_env() -> dict[str, str]:
    """Environment for a dbt process: profiles.yml picks its target and connection from these."""
    if not is_postgres():
        return {WAREHOUSE_ENV: DUCKDB}
    target = postgres_target()
    return {
        WAREHOUSE_ENV: POSTGRES,
        "STRAVA_PG_HOST": target.host,
        "STRAVA_PG_PORT": str(target.port),
        "STRAVA_PG_DATABASE": target.database,
        "STRAVA_PG_USER": target.username,
        "STRAVA_PG_PASSWORD": target.password or "",
        "PGTZ": "UTC",  # libpq sets the session time zone from it: UTC, like the DuckDB target's TimeZone setting
    }


def describe(data_dir: Path) -> str:
    """Where the warehouse is, safe to print: the DuckDB file, or postgres host:port/database."""
    if is_postgres():
        return f"PostgreSQL {postgres_target().where()}"
    return str(warehouse_path(data_dir))


def exists(data_dir: Path) -> bool:
    """Is a warehouse loaded: the DuckDB file, or the raw table strava.activities in PostgreSQL (which is
    checked reachable first: UserError when not)."""
    if not is_postgres():
        return warehouse_path(data_dir).exists()
    con = connect(check_postgres())
    try:
        with con.cursor() as cur:
            cur.execute("select to_regclass(%s) is not null", (f"{settings.DATASET_NAME}.activities",))
            return bool(cur.fetchone()[0])
    finally:
        con.close()


# ---------------------------------------------------------------------------------------------- readers

# PostgreSQL: the relations that the DuckDB-built readers (reports snapshot, maps) need, copied into this DuckDB
# file before each read; the attach alias those readers use is theirs, so the name of the file does not matter
MIRROR_FILE = "postgres_marts.duckdb"


def readable_warehouse(data_dir: Path, relations) -> Path:
    """A DuckDB file that holds `relations` ((schema, name) pairs) for readers written for the DuckDB warehouse.

    DuckDB: the warehouse file itself. PostgreSQL: <data dir>/postgres_marts.duckdb, made now from the relations
    that exist in PostgreSQL (read as Arrow over ADBC; geometry columns stay behind, their WKT and GeoJSON
    columns come along) and swapped in atomically. A relation missing in PostgreSQL is missing in the copy too,
    so the reader's own "run dbt build first" applies."""
    if not is_postgres():
        return warehouse_path(data_dir)
    import os

    import duckdb

    target = check_postgres()
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / MIRROR_FILE
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        with _adbc(target) as pg, duckdb.connect(str(tmp)) as con:
            con.execute("set enable_progress_bar = false")
            for schema, name in relations:
                table = _fetch_relation(pg, schema, name)
                if table is None:
                    continue
                con.execute(f'create schema if not exists "{schema}"')
                con.register("_copied", table)
                con.execute(f'create table "{schema}"."{name}" as select * from _copied')
                con.unregister("_copied")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return path


def _adbc(target: PostgresTarget):
    from adbc_driver_postgresql import dbapi

    try:
        return dbapi.connect(target.url().split("?", 1)[0])
    except Exception as exc:
        raise UserError(
            f"PostgreSQL at {target.where()} is unreachable ({_reason(str(exc))}): check that the server runs and "
            f"the connection in {CREDENTIALS_KEY}."
        ) from None


def _fetch_relation(pg, schema: str, name: str):
    """The relation as an Arrow table without its geometry columns; None when it does not exist."""
    with pg.cursor() as cur:
        cur.execute(
            "select column_name, udt_name from information_schema.columns "
            "where table_schema = $1 and table_name = $2 order by ordinal_position",
            parameters=(schema, name),
        )
        columns = cur.fetchall()
        if not columns:
            return None
        # PostgreSQL's numeric (sums of bigints, a bigint over 3600.0) comes over ADBC as text: DuckDB's marts have
        # numbers there (HUGEINT, DOUBLE), and the report pages add them up
        kept = [
            f'cast("{column}" as double precision) as "{column}"' if udt == "numeric" else f'"{column}"'
            for column, udt in columns
            if udt not in ("geometry", "geography")
        ]
        cur.execute(f'select {", ".join(kept)} from "{schema}"."{name}"')
        return cur.fetch_arrow_table()


# ---------------------------------------------------------------------------------------------- Dagster

_DAGSTER_BEGIN = "# strava: run storage in the PostgreSQL warehouse (STRAVA_WAREHOUSE=postgres)"
_DAGSTER_END = "# strava: end of run storage"
_DAGSTER_STORAGE = f"""{_DAGSTER_BEGIN}
# dagster-postgres keeps runs, events and schedules in this database (its own tables in schema public);
# the connection comes from dlt's destination.postgres.credentials as the STRAVA_PG_* variables
storage:
  postgres:
    postgres_db:
      # the driver dagster-postgres installs (SQLAlchemy 2.1's default for postgresql:// is psycopg 3)
      scheme: postgresql+psycopg2
      hostname: {{env: STRAVA_PG_HOST}}
      port: {{env: STRAVA_PG_PORT}}
      db_name: {{env: STRAVA_PG_DATABASE}}
      username: {{env: STRAVA_PG_USER}}
      password: {{env: STRAVA_PG_PASSWORD}}
{_DAGSTER_END}
"""


def dagster_instance_setup(home: Path) -> dict[str, str]:
    """Make <home>/dagster.yaml use Dagster's Postgres storage when the warehouse is PostgreSQL (and SQLite files
    again when it is not); returns the variables a Dagster process needs, also put into this process's env."""
    import os

    config = home / "dagster.yaml"
    text = config.read_text() if config.exists() else ""
    text = re.sub(rf"\n?{re.escape(_DAGSTER_BEGIN)}.*?{re.escape(_DAGSTER_END)}\n?", "\n", text, flags=re.S)
    env = dbt_env()
    if env[WAREHOUSE_ENV] == POSTGRES:
        text = text.rstrip("\n") + "\n\n" + _DAGSTER_STORAGE
    if config.exists() or env[WAREHOUSE_ENV] == POSTGRES:
        config.write_text(text)
    os.environ.update(env)
    return env


def raw_table_counts() -> dict:
    """PostgreSQL: rows per raw table of the dataset (dlt's own tables left out), for Dagster's metadata."""
    con = connect()
    try:
        with con.cursor() as cur:
            cur.execute(
                "select table_name from information_schema.tables where table_schema = %s and table_name not like "
                "'\\_dlt%%' order by 1",
                (settings.DATASET_NAME,),
            )
            tables = [r[0] for r in cur.fetchall()]
            counts = {}
            for table in tables:
                cur.execute(f'select count(*) from "{settings.DATASET_NAME}"."{table}"')
                counts[table] = cur.fetchone()[0]
            return counts
    finally:
        con.close()


def raw_freshness() -> tuple:
    """PostgreSQL: (start_date of the newest activity not deleted, time of the last successful load) or Nones."""
    ds = settings.DATASET_NAME
    con = connect()
    try:
        with con.cursor() as cur:
            cur.execute(f"select to_regclass('{ds}.activities'), to_regclass('{ds}._dlt_loads')")
            has_activities, has_loads = (r is not None for r in cur.fetchone())
            newest = loaded = None
            if has_activities:
                cur.execute(f'select max(start_date) from "{ds}".activities where not coalesce(deleted, false)')
                newest = cur.fetchone()[0]
            if has_loads:
                cur.execute(f'select max(inserted_at) from "{ds}"._dlt_loads where status = 0')
                loaded = cur.fetchone()[0]
            return newest, loaded
    finally:
        con.close()


def location(data_dir: Path) -> Path | str:
    """What the import summaries name as the warehouse: the DuckDB file, or `PostgreSQL host:port/database`."""
    return describe(data_dir) if is_postgres() else warehouse_path(data_dir)
