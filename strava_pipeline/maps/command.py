"""`strava.py export|tiles|map`: route files, heatmap tiles and the route map page from the masked routes."""

import argparse
import contextlib
import functools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from strava_pipeline.config import UserError, strava_command
from strava_pipeline.maps import settings


def add_parser(commands) -> None:
    formats = ", ".join(settings.FORMATS)
    export = commands.add_parser(
        "export",
        help="write the privacy-masked routes as TopoJSON, GeoJSON or GPX to <data dir>/exports/",
        description="Write the routes of marts.activity_routes_masked (privacy zones already cut out by dbt) to "
        "<data dir>/exports/routes.topojson|.geojson|.gpx, with id, name, date, sport and distance_km "
        "per route. TopoJSON is quantized on a 2.5 m grid and delta-encoded (about a quarter of the "
        "GeoJSON). Only masked geometry is ever written.",
    )
    export.add_argument(
        "--format",
        default="topojson",
        choices=list(settings.FORMATS),
        metavar="FORMAT",
        help=f"{formats} (default topojson)",
    )
    export.add_argument(
        "--sport",
        action="append",
        metavar="SPORT",
        help="only this sport type, e.g. Run or Ride (case-insensitive; repeat it or separate with commas)",
    )
    export.add_argument("--since", metavar="YYYY-MM-DD", help="only activities started on or after this local day")
    export.add_argument("--until", metavar="YYYY-MM-DD", help="only activities started on or before this local day")
    export.add_argument(
        "--public-only", action="store_true", help="only activities whose Strava visibility is Everyone"
    )
    export.add_argument(
        "-o", "--output", metavar="PATH", help="write here instead of <data dir>/exports/routes.<format>"
    )
    export.set_defaults(run=_leaves_nothing_on_failure(run_export))

    tiles = commands.add_parser(
        "tiles",
        help="update the heatmap tiles <data dir>/tiles/{z}/{x}/{y}.png and their browse page",
        description="Draw every masked route into 256 px XYZ tiles (web mercator, zoom 0 to --max-zoom): a "
        "pixel's colour counts the activities through it. Only the tiles of activities added, changed "
        "or deleted since the last run are drawn again (the per-tile inputs are kept in "
        f"<data dir>/{settings.TILE_INPUTS_FILE}); the result equals a full rebuild byte for byte. "
        "Also writes the browse page <data dir>/maps/heatmap.html.",
    )
    tiles.add_argument(
        "--max-zoom",
        type=int,
        default=settings.DEFAULT_MAX_ZOOM,
        metavar="N",
        help=f"deepest zoom level, 0-{settings.MAX_ZOOM_LIMIT} (default {settings.DEFAULT_MAX_ZOOM}; "
        "changing it redraws everything)",
    )
    tiles.add_argument(
        "--public-only",
        action="store_true",
        help="only activities whose Strava visibility is Everyone (switching redraws everything)",
    )
    tiles.add_argument("--rebuild", action="store_true", help="draw every tile again from scratch")
    tiles.add_argument(
        "--tile-url",
        metavar="URL",
        help="background map under the heatmap, e.g. "
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png "
        f"(default: env {settings.TILE_URL_ENV}; without it nothing is loaded from the internet)",
    )
    tiles.set_defaults(run=_leaves_nothing_on_failure(run_tiles))

    page = commands.add_parser(
        "map",
        help="build the route map page <data dir>/maps/index.html (Leaflet, offline)",
        description="Write <data dir>/maps/index.html: every masked route coloured by sport, a popup per route, "
        "date and sport filters, the heatmap as an overlay when `tiles` has run. Leaflet comes from "
        "npm (maps/package-lock.json, installed once) and is copied next to the page. Open the file, "
        "or `uv run strava.py reports serve` and go to /maps/.",
    )
    page.add_argument(
        "--tile-url",
        metavar="URL",
        help=f"background map, e.g. https://tile.openstreetmap.org/{{z}}/{{x}}/{{y}}.png (default: env "
        f"{settings.TILE_URL_ENV}; without it the routes are drawn on a plain background)",
    )
    page.set_defaults(run=_leaves_nothing_on_failure(run_map))


# what the map commands create in a data dir: removed again when a command that created it fails
OWN_OUTPUTS = (
    settings.EXPORTS_SUBDIR,
    settings.MAPS_SUBDIR,
    f"{settings.MAPS_SUBDIR}/vendor",
    settings.TILES_SUBDIR,
    *(settings.TILE_INPUTS_FILE + suffix for suffix in ("", "-wal", "-shm", "-journal", ".lock")),
)


@contextlib.contextmanager
def _nothing_left_behind(data_dir: Path) -> Iterator[None]:
    """A command that fails removes what it created (the data dir itself, if it made it), so that a second try
    (after loading a warehouse, building the marts or installing npm) starts from where the first one did."""
    data_dir = Path(data_dir)
    existed = data_dir.exists()
    before = {name for name in OWN_OUTPUTS if (data_dir / name).exists()}
    try:
        yield
    except BaseException:
        if not existed:
            shutil.rmtree(data_dir, ignore_errors=True)
        else:
            for name in sorted(set(OWN_OUTPUTS) - before, key=len, reverse=True):
                path = data_dir / name
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        raise


def _leaves_nothing_on_failure(run):
    @functools.wraps(run)
    def wrapper(args: argparse.Namespace, ctx) -> int:
        with _nothing_left_behind(ctx.data_dir):
            return run(args, ctx)

    return wrapper


def _day(value, flag):
    from strava_pipeline.config import parse_day

    return parse_day(value, flag)


def _sports(values) -> tuple:
    sports = []
    for value in values or ():
        sports += [s.strip() for s in value.split(",") if s.strip()]
    if values and not sports:
        raise UserError("--sport needs a sport type, e.g. --sport Run.")
    return tuple(sports)


def _kb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"


def _shown(path: Path) -> str:
    try:
        relative = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if relative.startswith("..") else relative


def run_export(args: argparse.Namespace, ctx) -> int:
    from strava_pipeline.maps.export import export_routes

    since, until = _day(args.since, "--since"), _day(args.until, "--until")
    if since and until and until < since:
        raise UserError(f"--until {until} is before --since {since}: swap them or pick a later day.")
    output = Path(args.output).expanduser() if args.output else None
    if output is not None and output.is_dir():
        raise UserError(f"--output {output} is a folder: give a file name, e.g. {output / ('routes.' + args.format)}.")
    result = export_routes(
        ctx.data_dir,
        args.format,
        _sports(args.sport),
        since,
        until,
        args.public_only,
        output,
        allow_empty=False,
        lock_warehouse=True,
    )
    print(
        f"Wrote {result.routes:,} masked routes ({result.points:,} points) to {_shown(result.path)} "
        f"({_kb(result.size_bytes)}) in {result.seconds:.1f} s.",
        file=ctx.out,
        flush=True,
    )
    return 0


def _view_hint(ctx, page: str) -> str:
    serve = strava_command(ctx.data_dir, "reports", "serve", demo=ctx.demo)
    return f"open {_shown(page)} or `{serve}` and go to /maps/{Path(page).name}"


def run_tiles(args: argparse.Namespace, ctx) -> int:
    from strava_pipeline.maps.page import build_heatmap_page
    from strava_pipeline.maps.tiles import update_tiles

    r = update_tiles(
        ctx.data_dir, max_zoom=args.max_zoom, public_only=args.public_only, rebuild=args.rebuild, lock_warehouse=True
    )
    who = "public activities" if args.public_only else "activities"
    if r.mode == "unchanged":
        print(
            f"Heatmap tiles are up to date ({r.activities:,} {who}, {r.tiles_total:,} tiles in {_shown(r.tiles_dir)}).",
            file=ctx.out,
            flush=True,
        )
    else:
        what = (
            "full rebuild" if r.mode == "full" else f"{r.added:,} added, {r.changed:,} changed, {r.removed:,} deleted"
        )
        print(
            f"Heatmap tiles: {what}; {r.tiles_written:,} tiles drawn, {r.tiles_deleted:,} removed, "
            f"{r.tiles_total:,} in {_shown(r.tiles_dir)} ({r.activities:,} {who}, zoom 0-{args.max_zoom}) "
            f"in {r.seconds:.1f} s.",
            file=ctx.out,
            flush=True,
        )
    try:
        page = build_heatmap_page(ctx.data_dir, args.tile_url)
    except UserError as exc:
        # the tiles are written; only the page to browse them is missing
        print(f"warning: the browse page was not written: {exc}", file=ctx.err, flush=True)
        return 0
    print(f"Browse them: {_view_hint(ctx, page)}.", file=ctx.out, flush=True)
    return 0


def run_map(args: argparse.Namespace, ctx) -> int:
    from strava_pipeline.maps.page import build_map_page

    r = build_map_page(ctx.data_dir, args.tile_url, lock_warehouse=True)
    print(
        f"Route map with {r.routes:,} masked routes ({r.points:,} points, {_kb(r.size_bytes)}) written in "
        f"{r.seconds:.1f} s: {_view_hint(ctx, r.page)}.",
        file=ctx.out,
        flush=True,
    )
    return 0
