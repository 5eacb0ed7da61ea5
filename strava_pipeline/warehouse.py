"""The DuckDB warehouse file: strava.duckdb holds the schema `strava`, and DuckDB names a file's catalog after it.

So `strava.activities` is ambiguous in a plain connection to the file (catalog `strava` or schema `strava`?):
DuckDB refuses it. Two remedies, used everywhere in this project:
- dlt is told to qualify every name with the catalog too ("strava"."strava"."activities");
- readers open the file under another catalog alias, so `strava.activities` means the schema again.
"""

import os
from pathlib import Path

import duckdb
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

ALIAS = "warehouse"


def _catalog_name(self, quote: bool = True, casefold: bool = True):
    database = getattr(self.credentials, "database", None)
    if not isinstance(database, str) or database.startswith(":"):
        return None
    name = os.path.splitext(os.path.basename(database))[0]
    return self.capabilities.escape_identifier(name) if quote else name


# dlt's DuckDB client leaves the catalog out of qualified names; with it, the file and dataset may share a name
DuckDbSqlClient.catalog_name = _catalog_name


def open_warehouse(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection in which `strava.activities` (and dbt's schemas) resolve: the file attached as `warehouse`."""
    con = duckdb.connect()
    mode = " (READ_ONLY)" if read_only else ""
    con.execute(f"ATTACH '{str(path)}' AS {ALIAS}{mode}")
    con.execute(f"USE {ALIAS}")
    return con
