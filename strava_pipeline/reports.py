"""`strava.py reports build|serve`: snapshot the marts, build the Evidence site offline, serve it on loopback."""

import argparse
import contextlib
import fcntl
import functools
import hashlib
import http.server
import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from strava_pipeline.config import PROJECT_ROOT, UserError, strava_command
from strava_pipeline.settings import WAREHOUSE_FILE

REPORTS_DIR = PROJECT_ROOT / "reports"
# <data dir>/reports/: the snapshot Evidence reads, the logs and the built site
OUTPUT_SUBDIR = "reports"
SNAPSHOT_FILE = "snapshot.duckdb"
SITE_SUBDIR = "site"
ROUTES_SUBDIR = "routes"  # GeoJSON of the masked routes, inside the site
# one small JSON per activity (the activity, its thinned masked streams, its laps), read by /activity/?id=
ACTIVITY_DATA_SUBDIR = "activity-data"
# beside the site: what it was built from (marts, dbt results, page sources, npm lock, options); equal -> reuse it
FINGERPRINT_FILE = "site.fingerprint"
# bump when what this module writes into the site changes, so a site built by an older version is rebuilt
SITE_FORMAT = 2
# in reports/.evidence/template: the compile_key of the app `evidence build` last compiled into .svelte-kit/output
COMPILE_STAMP = ".strava-compiled"
DEFAULT_PORT = 8000
MIN_NODE_MAJOR = 18  # package.json engines; developed and tested with Node 20
SOURCE_NAME = "strava"  # reports/sources/strava
# the warehouse is attached under its own catalog name: the dbt views in it name their tables strava.<schema>.<table>
WH = Path(WAREHOUSE_FILE).stem
MARTS_SCHEMA = "marts"
# a tile URL template ({z}/{x}/{y}) for the map background; without it the maps draw on a plain local background
TILE_URL_ENV = "STRAVA_TILE_URL"
TILE_ATTRIBUTION_ENV = "STRAVA_TILE_ATTRIBUTION"
# per-activity charts: streams are thinned to at most this many points per activity (the page stays light)
STREAM_POINTS_PER_ACTIVITY = 400
# coordinates in the published GeoJSON: 5 decimals = about 1 m, below the 5 m grid the masking snaps to
GEOJSON_DECIMALS = 5
NPM_STAMP = ".strava-install-stamp"
BUILD_TIMEOUT_S = 1800
ACTIVITY_FILES_BATCH = 250  # activity data files written per query
SNAPSHOT_MEMORY_LIMIT = "512MB"  # DuckDB's buffers while the snapshot is exported (it spills beyond)
WAREHOUSE_LOCK_WAIT_S = 30  # an import or dbt build writing the warehouse: wait this long, then say it is busy

# what the pages read: snapshot table <- relation in the warehouse (all of them must exist: else "run dbt build
# first"). Columns that could carry a location never leave the warehouse (see _is_private_column).
SNAPSHOT_TABLES = {
    "activities": ("marts", "fct_activities"),
    "weekly_summary": ("marts", "weekly_summary"),
    "monthly_summary": ("marts", "monthly_summary"),
    "yearly_summary": ("marts", "yearly_summary"),
    "eddington": ("marts", "eddington"),
    "personal_bests": ("marts", "personal_bests"),
    "training_load": ("marts", "training_load"),
    "import_progress": ("marts", "import_progress"),
    # no lap mart (yet): the staging view is a thin rename of strava.activity_laps and holds no position
    "laps": ("staging", "stg_strava__activity_laps"),
    # issue 14: curves, zones, calendar, year in review, gear (none has a coordinate column)
    "power_curve": ("marts", "power_curve"),
    "ftp_history": ("marts", "ftp_history"),
    "pace_curve": ("marts", "pace_curve"),
    "time_in_zones_by_period": ("marts", "time_in_zones_by_period"),
    "daily_calendar": ("marts", "daily_calendar"),
    "year_in_review": ("marts", "year_in_review"),
    "gear_summary": ("marts", "gear_summary"),
    "gear_maintenance_status": ("marts", "gear_maintenance_status"),
}
# units the pages show: `units = "metric" | "imperial"` under [reports] in .dlt/config.toml (env REPORTS__UNITS)
UNITS_KEY = "reports.units"
KM_PER_MILE = 1.609344
M_PER_FOOT = 0.3048
M_PER_YARD = 0.9144
STREAMS_RELATION = ("marts", "activity_streams_masked")
# the athletes' names for the athlete selector (optional: without it an athlete is "Athlete <id>")
ATHLETES_RELATION = ("staging", "stg_strava__athlete")
ROUTES_RELATION = ("marts", "activity_routes_masked")

_PRIVATE_COLUMN = re.compile(r"polyline|latlng|wkt|geojson|geom|(^|_)(lat|lng|lon|latitude|longitude)($|_)")


def _is_private_column(name: str, type_name: str) -> bool:
    """Columns that may hold a location: polylines, lat/lng (even masked: no page needs them), geometries in any
    form. The routes reach the site only as the GeoJSON files written from activity_routes_masked."""
    return bool(_PRIVATE_COLUMN.search(name.lower())) or type_name.upper().startswith(
        ("GEOMETRY", "POINT", "LINESTRING", "POLYGON", "WKB_BLOB")
    )


# ----------------------------------------------------------------------------------------------- command line


def add_parser(commands) -> None:
    parser = commands.add_parser(
        "reports",
        help="build the Evidence reports from the marts and serve them on 127.0.0.1",
        description="Build the Evidence site (overview, weekly, monthly, activities and one page per activity, "
        "fitness, power & pace, zones, calendar and year in review per year, gear, map, data quality; every page "
        "filtered by athlete) from the dbt marts into <data dir>/reports/site, offline, and serve it on 127.0.0.1.",
    )
    sub = parser.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    build = sub.add_parser(
        "build",
        help="snapshot the marts and build the site (skipped when nothing changed since the last build)",
        description="Export the marts to <data dir>/reports/snapshot.duckdb, run `evidence sources "
        "--strict` and `evidence build` in reports/ and write the site to "
        "<data dir>/reports/site; when the marts, the pages and the npm lock are the same as for the "
        "site already there, it is reused, and when only the data changed the compiled pages are reused and "
        "only prerendered again. Needs Node 18+ (20 tested) and npm; the npm "
        "packages are installed from package-lock.json once and reused.",
    )
    build.add_argument(
        "--force",
        action="store_true",
        help="build the site even when nothing changed since the last build, compiling the pages again",
    )
    build.add_argument(
        "--tile-url",
        metavar="URL",
        help=f"map background tiles, e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png "
        f"(default: env {TILE_URL_ENV}; without it the maps use no tiles and load nothing)",
    )
    serve = sub.add_parser(
        "serve",
        help="serve the built site on 127.0.0.1 (Ctrl-C stops)",
        description="Serve <data dir>/reports/site on 127.0.0.1 until Ctrl-C.",
    )
    serve.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        metavar="N",
        help=f"port on 127.0.0.1 (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace, ctx) -> int:
    if args.reports_command == "build":
        result = build_site(ctx.data_dir, out=ctx.out, tile_url=args.tile_url, lock_warehouse=True, force=args.force)
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in result.steps.items())
        what = "Reused the site in" if result.reused else "Site written to"
        why = " (the marts, pages and packages did not change: --force rebuilds it)" if result.reused else ""
        print(
            f"{what} {result.site_dir}{why} ({result.pages} pages, {result.activities} activity data files, "
            f"{result.size_bytes / 1e6:.0f} MB) in {result.seconds:.1f} s ({steps}); view it with "
            f"`{strava_command(ctx.data_dir, 'reports', 'serve', demo=ctx.demo)}`.",
            file=ctx.out,
            flush=True,
        )
        return 0
    return serve_site(site_dir(ctx.data_dir), port=args.port, out=ctx.out, mounts=extra_folders(ctx.data_dir))


# ----------------------------------------------------------------------------------------------------- build


@dataclass
class BuildResult:
    site_dir: Path
    snapshot: Path
    log: Path
    seconds: float
    pages: int
    size_bytes: int
    steps: dict = field(default_factory=dict)  # step name -> seconds
    reused: bool = False  # nothing changed since the last build: the site already there was kept
    activities: int = 0  # activity data files in the site


def output_dir(data_dir: Path) -> Path:
    return data_dir / OUTPUT_SUBDIR


def site_dir(data_dir: Path) -> Path:
    return output_dir(data_dir) / SITE_SUBDIR


def build_site(
    data_dir: Path,
    out: TextIO = sys.stdout,
    tile_url: str | None = None,
    reports_dir: Path = REPORTS_DIR,
    lock_warehouse: bool = False,
    force: bool = False,
) -> BuildResult:
    """Snapshot the marts, install the npm packages if needed, run Evidence sources + build, publish the site.

    When the site in place was built from the same marts, dbt results, pages, npm lock and options (its
    fingerprint file says so) nothing is exported or built and the result says reused, unless force.

    lock_warehouse: hold the data dir's writer lock (strava_pipeline.lock) while the snapshot is read, so no import
    or dbt build writes meanwhile; off for a caller that already holds it. Only the snapshot needs it: Evidence
    reads the snapshot, never the warehouse.
    Raises UserError for what the user can fix (no Node, no warehouse, marts not built) and RuntimeError with the
    log's tail when Evidence fails."""
    started = time.monotonic()
    steps: dict = {}
    say = functools.partial(print, file=out, flush=True)
    from strava_pipeline import warehouses

    units = units_setting()

    if not warehouses.exists(data_dir):
        raise UserError(
            f"No warehouse at {warehouses.describe(data_dir)}: load one with `{strava_command(data_dir)}`, which "
            "also builds the reports."
        )
    # the DuckDB file, or with STRAVA_WAREHOUSE=postgres a DuckDB copy of the relations read below
    warehouse = warehouses.readable_warehouse(data_dir, read_relations())
    work = output_dir(data_dir)
    work.mkdir(parents=True, exist_ok=True)
    log_path = work / "build.log"
    tile_url = tile_url if tile_url is not None else os.environ.get(TILE_URL_ENV) or None
    if tile_url and not re.match(r"^(https?://|/)", tile_url):
        raise UserError(
            f"Tile URL {tile_url!r} must start with http://, https:// or /: for example "
            "https://tile.openstreetmap.org/{z}/{x}/{y}.png."
        )

    from strava_pipeline.lock import warehouse_lock

    lock = (
        warehouse_lock(data_dir, wait_s=WAREHOUSE_LOCK_WAIT_S, holder="strava.py reports build")
        if lock_warehouse
        else contextlib.nullcontext()
    )
    snapshot = work / SNAPSHOT_FILE
    fingerprint_file = work / FINGERPRINT_FILE
    with lock:
        check_marts(warehouse)
        node = check_node()
        t = time.monotonic()
        fingerprint = site_fingerprint(warehouse, reports_dir, node, tile_url, units)
        steps["fingerprint"] = time.monotonic() - t
        if not force and _reusable(site_dir(data_dir), fingerprint_file, fingerprint):
            say("Nothing changed since the last build: reusing the site.")
            return _result(site_dir(data_dir), snapshot, log_path, started, steps, reused=True)
        t = time.monotonic()
        say(f"Exporting the marts of {warehouse} to a snapshot...")
        routes = export_snapshot(warehouse, snapshot, units)
        steps["snapshot"] = time.monotonic() - t

    with _build_lock(reports_dir, say):
        with open(log_path, "w") as log:
            site = _build_and_publish(
                data_dir, reports_dir, node, snapshot, routes, tile_url, log, say, steps, recompile=force
            )
        fingerprint_file.write_text(fingerprint + "\n")

    return _result(site, snapshot, log_path, started, steps)


def _build_and_publish(
    data_dir: Path,
    reports_dir: Path,
    node: "Node",
    snapshot: Path,
    routes: dict,
    tile_url: str | None,
    log: TextIO,
    say: Callable,
    steps: dict,
    recompile: bool = False,
) -> Path:
    """npm ci if needed, Evidence sources, then the pages: compiled and prerendered by `evidence build`, or only
    prerendered again when the compiled app in .evidence/template is of these pages, packages and options (the
    compile is most of the time and memory of a build, and does not depend on the data). Then the site published;
    adds each step's seconds to steps. recompile: always run `evidence build`."""
    log_path = Path(log.name)
    t = time.monotonic()
    if ensure_npm_packages(reports_dir, node, log, say):
        steps["npm ci"] = time.monotonic() - t

    env = _evidence_env(reports_dir, snapshot, tile_url)
    evidence = [node.node, str(reports_dir / "node_modules" / "@evidence-dev" / "evidence" / "cli.js")]
    t = time.monotonic()
    say("Running Evidence sources...")
    # a fresh start: Evidence keeps the parquet of a query whose result became empty, and caches results
    for stale in (reports_dir / ".evidence" / "template" / "static" / "data", reports_dir / ".evidence" / "meta"):
        shutil.rmtree(stale, ignore_errors=True)
    _run_logged([*evidence, "sources", "--strict"], reports_dir, env, log, "evidence sources --strict", 600)
    _write_empty_sources(reports_dir / ".evidence" / "template")
    steps["sources"] = time.monotonic() - t

    t = time.monotonic()
    template = reports_dir / ".evidence" / "template"
    stamp = template / COMPILE_STAMP
    key = compile_key(reports_dir, node, tile_url)
    shutil.rmtree(reports_dir / "build", ignore_errors=True)
    start_of_build = log.tell()
    if not recompile and stamp.is_file() and stamp.read_text().strip() == key:
        # the pages, packages and options of the compiled app are these: only the data changed
        say("Prerendering the pages with the new data (the app is compiled already)...")
        prerender_env = {**env, **_EVIDENCE_BUILD_ENV}
        script = str(reports_dir / "scripts" / "prerender.mjs")
        _run_logged([node.node, script], template, prerender_env, log, "prerender", BUILD_TIMEOUT_S)
        _check_build_log(log, log_path, start_of_build)
        _assemble_site(template, reports_dir / "build")
        steps["prerender"] = time.monotonic() - t
    else:
        say("Compiling and building the site (once for these pages and packages: a minute or two)...")
        stamp.unlink(missing_ok=True)
        _run_logged([*evidence, "build"], reports_dir, env, log, "evidence build", BUILD_TIMEOUT_S)
        _check_build_log(log, log_path, start_of_build)
        stamp.write_text(key + "\n")
        steps["build"] = time.monotonic() - t

    t = time.monotonic()
    (output_dir(data_dir) / FINGERPRINT_FILE).unlink(missing_ok=True)  # the site it describes is replaced
    site = _publish(reports_dir / "build", site_dir(data_dir), routes, snapshot)
    # Evidence's own copy of the site, rebuilt every time
    shutil.rmtree(reports_dir / ".evidence" / "template" / "build", ignore_errors=True)
    steps["publish"] = time.monotonic() - t
    return site


# what `evidence build` gives Vite beside the environment (cli.js buildHelper): the prerender needs the same
_EVIDENCE_BUILD_ENV = {
    "EVIDENCE_DATA_URL_PREFIX": "static/data",
    "EVIDENCE_DATA_DIR": "./static/data",
    "EVIDENCE_IS_BUILDING": "true",
}


def _check_build_log(log: TextIO, log_path: Path, start: int) -> None:
    """evidence build (and the prerender) exit 0 when a page query fails: the message is only in the output."""
    log.flush()
    build_log = log_path.read_text(errors="replace")[start:]
    if "Error in Query" in build_log:
        line = next(ln for ln in build_log.splitlines() if "Error in Query" in ln)
        raise RuntimeError(f"A page query failed during the build ({line.strip()}); see {log_path}.")


def _assemble_site(template: Path, build: Path) -> None:
    """The site from the compiled app and a new prerender, as adapter-static and `evidence build` put it together:
    the client files, then the prerendered pages and their data, then this run's source data (the copy compiled into
    the client is the data of the compile), its files renamed by content hash like Evidence does."""
    output = template / ".svelte-kit" / "output"
    shutil.copytree(output / "client", build, ignore=shutil.ignore_patterns(".vite"))  # as builder.writeClient
    for part in ("pages", "dependencies"):
        if (output / "prerendered" / part).is_dir():
            shutil.copytree(output / "prerendered" / part, build, dirs_exist_ok=True)
    shutil.rmtree(build / "data", ignore_errors=True)
    shutil.copytree(template / "static" / "data", build / "data")
    manifest_file = build / "data" / "manifest.json"
    if not manifest_file.is_file():
        return
    manifest = json.loads(manifest_file.read_text())
    for files in manifest.get("renderedFiles", {}).values():
        for i, url in enumerate(files):
            # <url prefix>/<source>/<query>/<file>.parquet -> <source>/<query>/<md5 of the file>/<file>.parquet
            disk_parts = "/".join(url.split("/")[-3:])
            path = build / "data" / disk_parts
            if not path.is_file():
                continue
            digest = hashlib.md5(path.read_bytes()).hexdigest()
            renamed = f"{posixpath.dirname(disk_parts)}/{digest}/{posixpath.basename(disk_parts)}"
            (build / "data" / renamed).parent.mkdir(parents=True, exist_ok=True)
            path.rename(build / "data" / renamed)
            files[i] = url.replace(disk_parts, renamed)
    manifest_file.write_text(json.dumps(manifest))


def _result(site: Path, snapshot: Path, log: Path, started: float, steps: dict, reused: bool = False) -> BuildResult:
    pages = activities = size = 0
    for path in site.rglob("*"):
        if path.is_file():
            size += path.stat().st_size
            pages += path.name == "index.html"
            activities += path.parent.name == ACTIVITY_DATA_SUBDIR and path.suffix == ".json"
    return BuildResult(site, snapshot, log, time.monotonic() - started, pages, size, steps, reused, activities)


def _reusable(site: Path, fingerprint_file: Path, fingerprint: str) -> bool:
    try:
        return (site / "index.html").is_file() and fingerprint_file.read_text().strip() == fingerprint
    except OSError:
        return False


# the files of the Evidence project a site is built from (node_modules follows from the lock and the patch)
_PROJECT_FILES = (
    "package.json",
    "package-lock.json",
    "evidence.config.yaml",
    "evidence.settings.json",
    "svelte.config.js",
)
_PROJECT_FOLDERS = ("pages", "sources", "scripts", "components", "static", "overrides")


def site_fingerprint(
    warehouse: Path, reports_dir: Path, node: "Node", tile_url: str | None, units: str = "metric"
) -> str:
    """A hash of everything the site is made of, computed before anything is exported: the contents of every
    relation the snapshot is made from (table by table, independent of row order), the dbt results the data
    quality page shows, the Evidence project (compile_key), this module (what it writes into the site) and the
    DuckDB version. Two builds with the same fingerprint publish the same site."""
    import duckdb

    digest = hashlib.sha256()

    def add(*parts) -> None:
        for part in parts:
            digest.update(part if isinstance(part, bytes) else str(part).encode())
            digest.update(b"\0")

    add(SITE_FORMAT, duckdb.__version__, Path(__file__).read_bytes(), compile_key(reports_dir, node, tile_url))
    add(json.dumps(display_units(units)), json.dumps(_sport_colours_source(), sort_keys=True))
    with duckdb.connect(":memory:", config={"memory_limit": SNAPSHOT_MEMORY_LIMIT}) as con:
        _attach_warehouse(con, warehouse)
        for schema, name in [*SNAPSHOT_TABLES.values(), STREAMS_RELATION, ROUTES_RELATION]:
            rows = con.sql(f"select count(*), sum(hash(t)) from {WH}.{_q(schema)}.{_q(name)} t").fetchone()
            add(schema, name, _columns(con, schema, name), rows)
        if ATHLETES_RELATION in _relations(con):  # the names on the athlete selector
            add(con.sql(f"select count(*), sum(hash(t)) from {WH}.staging.stg_strava__athlete t").fetchone())
    results = dbt_target_dir(warehouse.parent) / "run_results.json"
    add(results.read_bytes() if results.is_file() else b"")
    return digest.hexdigest()


def compile_key(reports_dir: Path, node: "Node", tile_url: str | None) -> str:
    """What the compiled app (Evidence's Vite build, before the prerender) depends on: the project's pages,
    sources, scripts and npm lock, Node, and the tile settings Vite writes into the JavaScript. Not the data."""
    digest = hashlib.sha256()
    for part in (node.version, tile_url or "", os.environ.get(TILE_ATTRIBUTION_ENV, "")):
        digest.update(part.encode() + b"\0")
    for name in _PROJECT_FILES:
        path = reports_dir / name
        digest.update(name.encode() + b"\0" + (path.read_bytes() if path.is_file() else b"") + b"\0")
    for folder in _PROJECT_FOLDERS:
        for path in sorted((reports_dir / folder).rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(reports_dir).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextlib.contextmanager
def _build_lock(reports_dir: Path, say: Callable) -> Iterator[None]:
    """One build at a time per Evidence project: sources and build write into reports/.evidence and reports/build."""
    with open(reports_dir / ".build.lock", "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say("Another reports build is running in this project: waiting for it to finish...")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _evidence_env(reports_dir: Path, snapshot: Path, tile_url: str | None) -> dict:
    env = dict(os.environ)
    # the duckdb connector joins filename to the source folder, so an absolute path must become a relative one
    env[f"EVIDENCE_SOURCE__{SOURCE_NAME}__filename"] = os.path.relpath(snapshot, reports_dir / "sources" / SOURCE_NAME)
    env["VITE_STRAVA_TILE_URL"] = tile_url or ""
    env["VITE_STRAVA_TILE_ATTRIBUTION"] = os.environ.get(TILE_ATTRIBUTION_ENV, "")
    # Node's heap: Evidence's own cap (4 GB) is enough now that the page count does not grow with the activities;
    # compiling the app (Vite: server and client bundles in one process) needs more than 1.5 GB of live heap
    # (measured: --max-old-space-size=1536 runs out of memory), whatever the data
    env["CI"] = "true"  # no interactive prompts
    for key in ("NO_COLOR", "FORCE_COLOR"):
        env.pop(key, None)
    env["NO_COLOR"] = "1"
    return env


_EVIDENCE_TYPES = {"string": "VARCHAR", "number": "DOUBLE", "date": "TIMESTAMP", "boolean": "BOOLEAN"}


def _write_empty_sources(template: Path) -> None:
    """Evidence writes no parquet for a source query without rows (no laps before details are fetched, no route
    of an indoor athlete...) yet lists it, and every page query on it then fails: write it empty, same columns."""
    import duckdb

    try:
        manifest = json.loads((template / "static" / "data" / "manifest.json").read_text())
    except (OSError, ValueError):
        return
    with duckdb.connect(":memory:") as con:
        for urls in manifest.get("renderedFiles", {}).values():
            for url in urls:
                parquet = template / url
                schema = parquet.with_name(parquet.stem + ".schema.json")
                if parquet.exists() or not schema.exists():
                    continue
                columns = ", ".join(
                    f"null::{_EVIDENCE_TYPES.get(c['evidenceType'], 'VARCHAR')} as {_q(c['name'])}"
                    for c in json.loads(schema.read_text())
                )
                con.execute(f"copy (select {columns} where false) to '{parquet}' (format parquet)")


def _run_logged(cmd: list, cwd: Path, env: dict, log: TextIO, what: str, timeout: float) -> None:
    log.write(f"$ {' '.join(cmd)}\n")
    log.flush()
    try:
        proc = subprocess.run(
            cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"{what} did not finish within {timeout:.0f} s; see {log.name}.") from None
    log.flush()
    if proc.returncode != 0:
        tail = "\n".join(Path(log.name).read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"{what} failed (exit {proc.returncode}); last lines of {log.name}:\n{tail}")


def _publish(build: Path, site: Path, routes: dict, snapshot: Path) -> Path:
    """Moves the fresh build next to the old site, adds the route GeoJSON and the activity data files, then swaps
    it in with renames, so a running `reports serve` never sees a half-written site."""
    from strava_pipeline import site_swap

    fresh = site.with_name(site.name + ".new")
    site_swap.recover(site)  # a kill in the middle of the last swap left the served site aside: it is the site
    for leftover in (fresh, site_swap.aside(site)):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.move(build, fresh)  # a rename when both are on one file system
    write_route_files(fresh / ROUTES_SUBDIR, routes)
    write_activity_files(snapshot, fresh / ACTIVITY_DATA_SUBDIR)
    precompress(fresh)
    site_swap.swap_in(fresh, site)  # one atomic exchange: the old site or the new one, never none
    return site


# -------------------------------------------------------------------------------------------- node and npm


@dataclass(frozen=True)
class Node:
    node: str
    npm: str
    version: str


def check_node() -> Node:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        missing = " and ".join(name for name, path in (("node", node), ("npm", npm)) if not path)
        raise UserError(
            f"The reports need Node.js {MIN_NODE_MAJOR}+ with npm, but {missing} is not on PATH: install "
            "Node 20 (e.g. `apt-get install nodejs npm`) and run again."
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < MIN_NODE_MAJOR:
        raise UserError(
            f"The reports need Node.js {MIN_NODE_MAJOR} or newer, found {version or 'an unknown version'}: "
            "install Node 20 and run again."
        )
    return Node(node, npm, version)


def _install_stamp(reports_dir: Path, node: Node) -> str:
    digest = hashlib.sha256(node.version.encode())
    for name in ("package.json", "package-lock.json", "scripts/patch-universal-sql.cjs"):
        digest.update((reports_dir / name).read_bytes())
    return digest.hexdigest()


def ensure_npm_packages(reports_dir: Path, node: Node, log: TextIO, say: Callable) -> bool:
    """`npm ci` when node_modules is missing or was installed from another lock, patch or Node; True if it ran."""
    stamp_file = reports_dir / "node_modules" / NPM_STAMP
    stamp = _install_stamp(reports_dir, node)
    if stamp_file.exists() and stamp_file.read_text().strip() == stamp:
        return False
    say("Installing the npm packages from package-lock.json (npm ci, about 30 s, once)...")
    _run_logged(
        [node.npm, "ci", "--prefer-offline", "--no-audit", "--no-fund"],
        reports_dir,
        dict(os.environ),
        log,
        "npm ci",
        900,
    )
    stamp_file.write_text(stamp + "\n")
    return True


# ------------------------------------------------------------------------------------------------ snapshot


def _relations(con) -> dict:
    rows = con.sql(
        "select table_schema, table_name from information_schema.tables where table_catalog = ?", params=[WH]
    ).fetchall()
    return {(schema, name) for schema, name in rows}


def read_relations() -> list[tuple[str, str]]:
    """Every relation the snapshot reads (on PostgreSQL, what is copied into a DuckDB file first)."""
    return [*SNAPSHOT_TABLES.values(), STREAMS_RELATION, ROUTES_RELATION, ATHLETES_RELATION]


def _columns(con, schema: str, name: str) -> list:
    return con.sql(
        "select column_name, data_type from information_schema.columns "
        "where table_catalog = ? and table_schema = ? and table_name = ? order by ordinal_position",
        params=[WH, schema, name],
    ).fetchall()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def export_snapshot(warehouse: Path, snapshot: Path, units: str = "metric") -> dict:
    """Copies the marts the pages read into a fresh snapshot DuckDB file (atomically replaced), without any column
    that could hold a location; returns the masked routes as GeoJSON geometries by activity and year.

    The warehouse is attached READ_ONLY and closed before Evidence starts, so Evidence never holds it open."""
    import duckdb

    tmp = snapshot.with_name(f"{snapshot.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        con = duckdb.connect(str(tmp))
    except duckdb.Error as exc:
        raise UserError(f"Cannot write the report snapshot {tmp}: {exc}.") from None
    try:
        # DuckDB takes 80% of the RAM by default: a long history's streams would keep gigabytes of buffers around
        con.execute(f"set enable_progress_bar = false; set memory_limit = '{SNAPSHOT_MEMORY_LIMIT}'")
        _attach_warehouse(con, warehouse)
        _require_relations(con, warehouse)
        for table, (schema, name) in SNAPSHOT_TABLES.items():
            cols = [c for c, t in _columns(con, schema, name) if not _is_private_column(c, t)]
            select = ", ".join(_q(c) for c in cols)
            con.execute(f"create table main.{_q(table)} as select {select} from {WH}.{_q(schema)}.{_q(name)}")
        _export_display_tables(con, units)
        _export_athletes(con)
        _export_streams(con)
        routes = _export_routes(con)
        con.execute(f"detach {WH}")
        generated_at = _export_dbt_tests(con, dbt_target_dir(warehouse.parent))
        con.execute(
            "create table main.snapshot_info as select cast(now() at time zone 'UTC' as timestamp) "
            "as snapshot_at_utc, cast(? as timestamp) as dbt_results_at_utc",
            [generated_at],
        )
        con.close()
        os.replace(tmp, snapshot)
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    finally:
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
    return routes


def units_setting() -> str:
    """`units` under [reports] in .dlt/config.toml (or env REPORTS__UNITS): metric (default) or imperial."""
    import dlt

    value = dlt.config.get(UNITS_KEY)
    value = "metric" if value is None or not str(value).strip() else str(value).strip().lower()
    if value not in ("metric", "imperial"):
        raise UserError(
            f'units = {value!r} under [reports] in .dlt/config.toml is not a unit system: use "metric" or '
            '"imperial" (or set REPORTS__UNITS).'
        )
    return value


def display_units(units: str) -> dict:
    """What the pages show distances, elevations, speeds and paces in: the one place the units are decided.

    per_km, per_m: multiply a value in km (km/h) or m by these; pace_per_km_s, swim_pace_per_100m_s: multiply
    seconds per km or per 100 m by these for seconds per shown unit."""
    if units == "imperial":
        return {
            "units": "imperial",
            "distance_unit": "mi",
            "per_km": 1 / KM_PER_MILE,
            "elevation_unit": "ft",
            "per_m": 1 / M_PER_FOOT,
            "speed_unit": "mph",
            "pace_unit": "/mi",
            "pace_per_km_s": KM_PER_MILE,
            "swim_pace_unit": "/100yd",
            "swim_pace_per_100m_s": M_PER_YARD,
        }
    return {
        "units": "metric",
        "distance_unit": "km",
        "per_km": 1.0,
        "elevation_unit": "m",
        "per_m": 1.0,
        "speed_unit": "km/h",
        "pace_unit": "/km",
        "pace_per_km_s": 1.0,
        "swim_pace_unit": "/100m",
        "swim_pace_per_100m_s": 1.0,
    }


def _sport_colours_source() -> dict:
    from strava_pipeline.maps.settings import OTHER_COLOURS, SPORT_COLOURS

    return {"sports": SPORT_COLOURS, "others": OTHER_COLOURS}


def _export_display_tables(con, units: str) -> None:
    """units: one row of display_units(units); sport_colours: the one colour of every sport of the activities (the
    route map uses the same), for the charts' seriesColors."""
    from strava_pipeline.maps.page import sport_colours

    row = display_units(units)
    con.execute(
        "create table main.units as select " + ", ".join(f"${i + 1} as {_q(k)}" for i, k in enumerate(row)),
        list(row.values()),
    )
    sports = [
        s for (s,) in con.sql("select distinct sport_type from main.activities where sport_type is not null").fetchall()
    ]
    colours = sport_colours(sorted(set(sports) | set(_sport_colours_source()["sports"])))
    con.execute("create table main.sport_colours (sport_type varchar, colour varchar)")
    con.executemany("insert into main.sport_colours values (?, ?)", sorted(colours.items()))


def _export_athletes(con) -> None:
    """athletes: one row per athlete with activities, for the pages' athlete selector: the name from the Strava profile
    (staging.stg_strava__athlete, when loaded) or "Athlete <id>"; athlete_rank 1 = the most activities (the page's
    default), then by id."""
    names = (
        f"(select athlete_id, max(athlete_name) as athlete_name from {WH}.{_q(ATHLETES_RELATION[0])}."
        f"{_q(ATHLETES_RELATION[1])} group by athlete_id)"
        if ATHLETES_RELATION in _relations(con) and "athlete_name" in dict(_columns(con, *ATHLETES_RELATION))
        else "(select null::bigint as athlete_id, null::varchar as athlete_name where false)"
    )
    con.execute(f"""
        create table main.athletes as
        select a.athlete_id, coalesce(n.athlete_name, 'Athlete ' || cast(a.athlete_id as varchar)) as athlete_name,
               a.activity_count,
               row_number() over (order by a.activity_count desc, a.athlete_id) as athlete_rank
        from (select athlete_id, count(*) as activity_count from main.activities group by athlete_id) a
        left join {names} n using (athlete_id)
    """)


def _attach_warehouse(con, warehouse: Path) -> None:
    import duckdb

    try:
        con.execute(f"attach '{warehouse}' as {WH} (read_only)")
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise UserError(
                f"The warehouse {warehouse} is being written by another process (an import or dbt "
                "build): run `reports build` again when it has finished."
            ) from None
        raise UserError(f"Cannot open the warehouse {warehouse}: {str(exc).splitlines()[0]}.") from None


def _require_relations(con, warehouse: Path) -> None:
    present = _relations(con)
    needed = [*SNAPSHOT_TABLES.values(), STREAMS_RELATION, ROUTES_RELATION]
    missing = [f"{schema}.{name}" for schema, name in needed if (schema, name) not in present]
    if missing:
        raise UserError(
            f"The marts are not built yet ({', '.join(missing)} missing in {warehouse}): run "
            f"`{strava_command(warehouse.parent, 'dbt', 'build')}` first."
        )


def check_marts(warehouse: Path) -> None:
    """Fails with "run dbt build first" before anything slow starts."""
    import duckdb

    with duckdb.connect(":memory:") as con:
        _attach_warehouse(con, warehouse)
        _require_relations(con, warehouse)
        if con.sql(f"select count(*) from {WH}.{MARTS_SCHEMA}.fct_activities").fetchone()[0] == 0:
            raise UserError(
                f"There are no activities in {warehouse} yet: load some with "
                f"`{strava_command(warehouse.parent)}`, which also builds the models and the reports."
            )


def dbt_target_dir(data_dir: Path) -> Path:
    """The results of the last dbt command on this data dir, whoever ran it (strava.py or Dagster)."""
    from strava_pipeline.transform import results_dir

    return results_dir(data_dir)


def _export_dbt_tests(con, target: Path) -> str | None:
    """One row per test of run_results.json, with the model it tests from manifest.json; the time it was written."""
    con.execute(
        "create table main.dbt_tests (test_name varchar, test_type varchar, tested_model varchar, "
        "status varchar, failures bigint, message varchar, execution_time_s double, "
        "generated_at_utc timestamp)"
    )
    try:
        results = json.loads((target / "run_results.json").read_text())
    except (OSError, ValueError):
        return None
    try:
        manifest = json.loads((target / "manifest.json").read_text())
        nodes = {**manifest.get("nodes", {}), **manifest.get("unit_tests", {})}
    except (OSError, ValueError):
        nodes = {}
    generated = (results.get("metadata") or {}).get("generated_at", "").rstrip("Z").replace("T", " ")[:26] or None
    rows = []
    for result in results.get("results", []):
        unique_id = result.get("unique_id", "")
        if not unique_id.startswith(("test.", "unit_test.")):
            continue
        node = nodes.get(unique_id, {})
        attached = (
            node.get("attached_node")
            or node.get("model")
            or next(iter((node.get("depends_on") or {}).get("nodes", [])), "")
        )
        kind = (node.get("test_metadata") or {}).get("name") or (
            "unit" if unique_id.startswith("unit_test.") else "singular"
        )
        rows.append(
            (
                node.get("name") or unique_id.split(".")[2],
                kind,
                attached.split(".")[-1] or None,
                result.get("status"),
                result.get("failures"),
                result.get("message"),
                result.get("execution_time"),
                generated,
            )
        )
    con.executemany("insert into main.dbt_tests values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return generated


def _export_streams(con) -> None:
    """The masked streams, thinned to about STREAM_POINTS_PER_ACTIVITY points per activity, without lat/lng.

    Every step-th point_index (and the last one) of each activity: an aggregate and a filter, no window over all
    the points (a window over 18 M points of a 5,000-activity history took 3.5 GB)."""
    schema, name = STREAMS_RELATION
    cols = [c for c, t in _columns(con, schema, name) if not _is_private_column(c, t)]
    select = ", ".join(f"s.{_q(c)}" for c in cols)
    source = f"{WH}.{_q(schema)}.{_q(name)}"
    con.execute(f"""
        create table main.streams as
        with extent as (
            select activity_id, min(point_index) as first_index, max(point_index) as last_index,
                   greatest(1, ceil((max(point_index) - min(point_index) + 1) / {STREAM_POINTS_PER_ACTIVITY}))::bigint
                       as step
            from {source}
            group by activity_id
        )
        select {select}
        from {source} s
        join extent e using (activity_id)
        where (s.point_index - e.first_index) % e.step = 0 or s.point_index = e.last_index
        order by s.activity_id, s.point_index
    """)


def _load_spatial(con) -> None:
    import importlib.util

    import duckdb

    spec = importlib.util.find_spec("duckdb_extension_spatial")
    if spec is None or not spec.submodule_search_locations:
        raise UserError("duckdb-extension-spatial is not installed: run `uv sync` in the project folder.")
    files = sorted(Path(spec.submodule_search_locations[0]).rglob("spatial.duckdb_extension"))
    wanted = [p for p in files if f"v{duckdb.__version__}" in p.parts] or files
    con.execute(f"load '{wanted[0]}'")


def _export_routes(con) -> dict:
    """GeoJSON geometry text of every masked route, with a small route index table for the pages."""
    schema, name = ROUTES_RELATION
    cols = dict(_columns(con, schema, name))
    text = next((c for c in cols if "geojson" in c.lower()), None)
    if text is not None:
        geojson = f"r.{_q(text)}"
    else:  # only the geometry: needs the spatial extension (loaded offline from its wheel)
        _load_spatial(con)
        geojson = f"ST_AsGeoJSON(r.{_q(next(c for c, t in cols.items() if t.upper().startswith('GEOMETRY')))})"
    rows = con.sql(f"""
        select r.activity_id, a.athlete_id, year(a.start_date_local) as year, a.sport_type, a.activity_name,
               strftime(a.start_date_local, '%Y-%m-%d') as day, {geojson} as geometry
        from {WH}.{_q(schema)}.{_q(name)} r
        join {WH}.{MARTS_SCHEMA}.fct_activities a using (activity_id)
        where {geojson} is not null
        order by a.start_at_utc
    """).fetchall()
    routes = {}
    for activity_id, athlete_id, year, sport, title, day, geometry in rows:
        shape = _round_geometry(json.loads(geometry))
        if shape["coordinates"]:
            routes[str(activity_id)] = {
                "athlete_id": athlete_id,
                "year": year,
                "sport_type": sport,
                "name": title,
                "day": day,
                "geometry": shape,
            }
    con.execute("create table main.routes (activity_id varchar, athlete_id bigint, year integer, sport_type varchar)")
    if routes:  # none at all (indoor rides only, or no streams yet): an empty index, not an error
        con.executemany(
            "insert into main.routes values (?, ?, ?, ?)",
            [(k, v["athlete_id"], v["year"], v["sport_type"]) for k, v in routes.items()],
        )
    return routes


def _round_geometry(geometry: dict) -> dict:
    def walk(value):
        if value and isinstance(value[0], (int, float)):
            return [round(v, GEOJSON_DECIMALS) for v in value]
        return [walk(v) for v in value]

    return {"type": geometry["type"], "coordinates": walk(geometry.get("coordinates") or [])}


def write_route_files(folder: Path, routes: dict) -> None:
    """routes/<activity_id>.geojson for the activity pages, routes/<athlete_id>/<year>.geojson for the map page (one
    athlete's routes of one year: what the map shows at a time)."""
    folder.mkdir(parents=True, exist_ok=True)
    by_year: dict = {}
    for activity_id, route in routes.items():
        feature = {
            "type": "Feature",
            "geometry": route["geometry"],
            "properties": {
                "activity_id": activity_id,
                "name": route["name"],
                "day": route["day"],
                "sport_type": route["sport_type"],
            },
        }
        (folder / f"{activity_id}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": [feature]}, separators=(",", ":"))
        )
        by_year.setdefault((route.get("athlete_id"), route["year"]), []).append(feature)
    for (athlete_id, year), features in by_year.items():
        (folder / str(athlete_id)).mkdir(exist_ok=True)
        (folder / str(athlete_id) / f"{year}.geojson").write_text(
            json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
        )


# what the activity page draws from a stream, rounded to what a chart can show: (column, SQL of the value)
_ACTIVITY_STREAM = {
    "distance_km": "round(distance_km, 3)",
    "altitude_m": "round(altitude_m, 1)",
    "speed_kmh": "round(speed_kmh, 2)",
    "pace_s_per_km": "round(pace_min_per_km * 60)",
    "heartrate_bpm": "round(heartrate_bpm)",
    "power_w": "round(power_w)",
}
_ACTIVITY_LAP_COLUMNS = (
    "lap_index",
    "distance_km",
    "moving_time_s",
    "elevation_gain_m",
    "avg_speed_kmh",
    "pace_min_per_km",
    "avg_heartrate_bpm",
    "max_heartrate_bpm",
    "avg_power_w",
)


def write_activity_files(snapshot: Path, folder: Path) -> int:
    """activity-data/<activity_id>.json for the activity page: the activity's row of the snapshot, its stream
    (already masked, thinned and without positions in the snapshot) as one list per column, and its laps.
    Everything comes from the snapshot, so nothing reaches these files that the snapshot did not let through."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(snapshot), read_only=True, config={"memory_limit": SNAPSHOT_MEMORY_LIMIT}) as con:
        stream_cols = {
            c for (c,) in con.sql("select column_name from duckdb_columns() where table_name = 'streams'").fetchall()
        }
        lap_cols = {
            c for (c,) in con.sql("select column_name from duckdb_columns() where table_name = 'laps'").fetchall()
        }
        needed = {"distance_km": {"distance_km"}, "pace_s_per_km": {"pace_min_per_km"}}
        stream = {name: sql for name, sql in _ACTIVITY_STREAM.items() if needed.get(name, {name}) <= stream_cols}
        order = "point_index" if "point_index" in stream_cols else "distance_km"
        stream_json = (
            "json_object("
            + ", ".join(f"'{name}', list({sql} order by {_q(order)})" for name, sql in stream.items())
            + ")"
            if "distance_km" in stream
            else "json_object()"
        )
        laps = [c for c in _ACTIVITY_LAP_COLUMNS if c in lap_cols]
        lap_struct = "struct_pack(" + ", ".join(f"{_q(c)} := {_q(c)}" for c in laps) + ")"
        query = f"""
            with stream as (
                select activity_id, {stream_json} as stream from streams
                where activity_id between $first and $last group by activity_id
            ),
            lap as (
                select activity_id, to_json(list({lap_struct} order by lap_index)) as laps
                from laps where activity_id between $first and $last group by activity_id
            )
            select cast(a.activity_id as varchar),
                   json_object(
                       'activity', json_merge_patch(to_json(a),
                                                    json_object('start_label',
                                                                strftime(a.start_at_local, '%A %-d %B %Y, %H:%M'))),
                       'stream', coalesce(s.stream, json_object()),
                       'laps', coalesce(l.laps, json('[]'))
                   )
            from activities a
            left join stream s on s.activity_id = cast(a.activity_id as bigint)
            left join lap l on l.activity_id = cast(a.activity_id as bigint)
            where cast(a.activity_id as bigint) between $first and $last
        """
        ids = [i for (i,) in con.sql("select cast(activity_id as bigint) from activities order by 1").fetchall()]
        written = 0
        # a few hundred activities at a time: DuckDB's lists do not spill, and a long history has thousands
        for start in range(0, len(ids), ACTIVITY_FILES_BATCH):
            batch = ids[start : start + ACTIVITY_FILES_BATCH]
            for activity_id, document in con.execute(query, {"first": batch[0], "last": batch[-1]}).fetchall():
                (folder / f"{activity_id}.json").write_text(document)
                written += 1
    return written


COMPRESSIBLE = (".html", ".js", ".css", ".json", ".arrow", ".wasm", ".svg", ".geojson", ".map", ".txt")


def precompress(site: Path, min_bytes: int = 1024) -> None:
    """Writes name.gz beside every text-like file (JS, wasm, query results, GeoJSON) for `reports serve`; on all
    cores (zlib lets go of the GIL): a long history has thousands of activity and route files."""
    from concurrent.futures import ThreadPoolExecutor

    paths = [
        path
        for path in site.rglob("*")
        if path.suffix in COMPRESSIBLE and path.is_file() and path.stat().st_size >= min_bytes
    ]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        for _ in pool.map(_gzip_beside, paths):
            pass


def _gzip_beside(path: Path) -> None:
    import gzip

    with open(path, "rb") as src, open(str(path) + ".gz", "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as dst:
            shutil.copyfileobj(src, dst, 1 << 20)


# ----------------------------------------------------------------------------------------------------- serve


_OLD_ACTIVITY_URL = re.compile(r"/activities/([0-9]+)/?")


class _SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files with --directory semantics; a file's gzip copy (written by the build) goes to browsers that
    accept it, which cuts what a page transfers to about a quarter. `mounts` serve other folders of the data dir
    under a URL prefix (the route map page and heatmap tiles of `strava.py maps`)."""

    mounts: dict = {}

    def translate_path(self, path: str) -> str:
        clean = path.split("?", 1)[0].split("#", 1)[0]
        for prefix, folder in self.mounts.items():
            if clean.startswith(prefix) or clean + "/" == prefix:
                handler_dir, self.directory = self.directory, str(folder)
                try:
                    return _inside(super().translate_path("/" + path[len(prefix) :]), folder)
                finally:
                    self.directory = handler_dir
        return _inside(super().translate_path(path), self.directory)

    def send_head(self):
        old_url = _OLD_ACTIVITY_URL.fullmatch(self.path.split("?", 1)[0])
        if old_url:  # the one-page-per-activity URLs of earlier builds (bookmarks): the activity page now
            self.send_response(301)
            self.send_header("Location", f"/activity/?id={old_url.group(1)}")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        path = self.translate_path(self.path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if not accepts_gzip or not os.path.isfile(path + ".gz") or "Range" in self.headers:
            return super().send_head()
        if os.path.isdir(self.translate_path(self.path)) and not self.path.split("?")[0].endswith("/"):
            return super().send_head()  # the redirect to the folder's URL with a slash
        try:
            handle = open(path + ".gz", "rb")
        except OSError:
            return super().send_head()
        stat = os.fstat(handle.fileno())
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(stat.st_size))
        self.send_header("Last-Modified", self.date_time_string(stat.st_mtime))
        self.send_header("Vary", "Accept-Encoding")
        self.end_headers()
        return handle

    def log_message(self, format, *args):  # noqa: A002 - signature of the base class
        if os.environ.get("STRAVA_REPORTS_ACCESS_LOG"):
            super().log_message(format, *args)


def _inside(path: str, root) -> str:
    """path when it resolves (symlinks followed) inside root, else one that does not exist: a symlink out of the
    site serves nothing (http.server already drops `..` in every spelling)."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    if real == real_root or real.startswith(real_root + os.sep):
        return path
    return os.path.join(real_root, ".not-served-outside-the-site")


class _SiteServer(http.server.ThreadingHTTPServer):
    allow_reuse_address = True

    def handle_error(self, request, client_address) -> None:
        # a browser that closes a connection mid-response (a new page, a cancelled prefetch) is no error
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


def make_server(site: Path, port: int = 0, mounts: dict | None = None) -> http.server.ThreadingHTTPServer:
    """An http.server for `site` on 127.0.0.1; the folder is looked up per request, so a rebuild that swaps the
    site in is served at once. mounts: {"/prefix/": folder} served beside the site."""
    handler_class = type("SiteHandler", (_SiteHandler,), {"mounts": dict(mounts or {})})
    handler = functools.partial(handler_class, directory=str(site))
    return _SiteServer(("127.0.0.1", port), handler)


def extra_folders(data_dir: Path) -> dict:
    """The maps' page and heatmap tiles (`strava.py maps`), when that module and its output exist."""
    try:
        from strava_pipeline.maps import served_folders
    except ImportError:
        return {}
    return {prefix: folder for prefix, folder in served_folders(data_dir).items() if Path(folder).is_dir()}


def serve_site(site: Path, port: int = DEFAULT_PORT, out: TextIO = sys.stdout, mounts: dict | None = None) -> int:
    if not (site / "index.html").exists():
        raise UserError(f"No built site in {site}: run `{strava_command(site.parent.parent)}` first.")
    if not 0 <= port <= 65535:
        raise UserError(f"--port {port} is not a port number: use 1-65535 (or 0 for a free one).")
    try:
        server = make_server(site, port, mounts)
    except OSError as exc:
        raise UserError(f"Cannot listen on 127.0.0.1:{port} ({exc.strerror}): pick another with --port.") from None
    with server:
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        extra = "".join(f", {url}{prefix.strip('/')}/" for prefix in (mounts or {}))
        print(f"Serving {site} at {url}{extra} (Ctrl-C stops)", file=out, flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            print("Stopped.", file=out, flush=True)
    return 0
