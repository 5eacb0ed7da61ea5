"""The DuckDB warehouse file and how dlt loads it.

strava.duckdb holds the schema `strava`, and DuckDB names a file's catalog after it. So `strava.activities` is
ambiguous in a plain connection to the file (catalog `strava` or schema `strava`?): DuckDB refuses it. Two remedies,
used everywhere in this project:
- dlt is told to qualify every name with the catalog too ("strava"."strava"."activities");
- readers open the file under another catalog alias, so `strava.activities` means the schema again.

Loading the stream points (most of the data) is tuned here too, each step measured with benchmarks/bench_streams.py:
a replace-by-activity append job instead of dlt's staged merge, parquet without dictionaries, and the destination's
capabilities resolved once per pipeline.
"""

import copy
import os
from pathlib import Path

import dlt
import duckdb
from dlt.common.data_writers.writers import ArrowToParquetWriter
from dlt.destinations.impl.duckdb.duck import DuckDbClient, DuckDbCopyJob
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

# table hint of an append table whose files replace the rows of the keys they hold (see ReplaceByKeyCopyJob)
REPLACE_KEY_HINT = "x-replace-key"


class ReplaceByKeyCopyJob(DuckDbCopyJob):
    """Load one parquet file into an append table after deleting the rows of every key it holds, in one transaction.

    An activity's points then replace its old ones as a whole (a re-fetch), and a job that dlt runs a second time
    (the process died between DuckDB's commit and dlt marking the job done) cannot double them. That is what a
    delete-insert merge guarantees, without the merge's staging table: one write of every point instead of two.
    """

    def __init__(self, file_path: str, key: str) -> None:
        super().__init__(file_path)
        self._key = key

    def run(self) -> None:
        sql = self._job_client.sql_client
        table = sql.make_qualified_table_name(self.load_table_name)
        key = sql.escape_column_name(self._key)
        path = self._file_path.replace("'", "''")  # a data dir like /home/o'neil/data
        source = f"read_parquet('{path}', union_by_name=true)"
        with sql.begin_transaction():
            sql.execute_sql(f"DELETE FROM {table} WHERE {key} IN (SELECT DISTINCT {key} FROM {source})")
            sql.execute_sql(f"INSERT INTO {table} BY NAME SELECT * FROM {source}")


_create_load_job = DuckDbClient.create_load_job


def _create_load_job_replacing(self, table, file_path: str, load_id: str, restore: bool = False):
    key = table.get(REPLACE_KEY_HINT)
    if key and table.get("write_disposition") == "append" and file_path.endswith(".parquet"):
        return ReplaceByKeyCopyJob(file_path, key)
    return _create_load_job(self, table, file_path, load_id, restore)


DuckDbClient.create_load_job = _create_load_job_replacing


def _arrow_parquet_writer(self, schema):
    """dlt's parquet writer for Arrow items (the stream points), without dictionary encoding.

    pyarrow tries a dictionary for every column; for stream points, floats that hardly repeat, that is 45% of the
    write time (0.29 s -> 0.16 s per 1 M points) and DuckDB reads the file just as fast. dlt has no setting for it.
    """
    import pyarrow.parquet as pq

    fmt = self.parquet_format
    return pq.ParquetWriter(
        self._f,
        schema,
        flavor=fmt.flavor,
        version=fmt.version,
        compression=fmt.compression,
        data_page_size=fmt.data_page_size,
        coerce_timestamps=fmt.coerce_timestamps,
        allow_truncated_timestamps=fmt.allow_truncated_timestamps,
        use_compliant_nested_type=fmt.use_compliant_nested_type,
        write_page_index=fmt.write_page_index,
        use_dictionary=False,
    )


ArrowToParquetWriter._create_writer = _arrow_parquet_writer


def duckdb_destination(path: Path):
    """dlt's DuckDB destination for the warehouse file, its capabilities worked out once.

    Without a resolved config, dlt re-resolves the destination's configuration from every config provider on each
    capabilities() call, a few dozen times per load package: ~0.05 s of every batch. Callers get a copy (dlt sets
    fields on what it gets back).
    """
    destination = dlt.destinations.duckdb(str(path))
    resolve, memo = destination.capabilities, {}

    def capabilities(config=None, naming=None):
        if config is not None:
            return resolve(config, naming)
        key = None if naming is None else (type(naming), naming.max_length, naming.is_case_sensitive)
        if key not in memo:
            memo[key] = resolve(None, naming)
        return copy.copy(memo[key])

    destination.capabilities = capabilities
    return destination


def open_warehouse(path: Path, read_only: bool = True) -> duckdb.DuckDBPyConnection:
    """A connection in which `strava.activities` (and dbt's schemas) resolve: the file attached as `warehouse`."""
    con = duckdb.connect()
    mode = " (READ_ONLY)" if read_only else ""
    con.execute(f"ATTACH '{str(path)}' AS {ALIAS}{mode}")
    con.execute(f"USE {ALIAS}")
    return con
