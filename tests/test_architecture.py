"""The house's layout rules, checked on the source: no import cycles in strava_pipeline/, nothing imports cli.py,
no test tooling in product modules, and a file parser loads without dlt (parser workers start fast)."""

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("strava_pipeline", "orchestration")


def _modules() -> dict[str, Path]:
    mods = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            mods[name.removesuffix(".__init__")] = path
    return mods


def _import_graph() -> nx.DiGraph:
    """Every import between our modules, at module level or inside a function (a lazy import is still a dependency).
    `from pkg import submodule` depends on the submodule only; `from pkg import name` on the package's __init__."""
    mods = _modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(mods)
    for name, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets = []
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                subs = [f"{node.module}.{a.name}" for a in node.names if f"{node.module}.{a.name}" in mods]
                targets += subs
                if len(subs) < len(node.names):
                    targets.append(node.module)
            elif isinstance(node, ast.Import):
                targets += [a.name for a in node.names]
            graph.add_edges_from((name, t) for t in targets if t in mods and t != name)
    return graph


def test_the_import_graph_has_the_modules_it_checks():
    graph = _import_graph()
    assert {"strava_pipeline.cli", "strava_pipeline.api.runner", "strava_pipeline.archive.importer"} <= set(graph)
    assert graph.has_edge("strava_pipeline.cli", "strava_pipeline.api.runner")


def test_no_import_cycles():
    cycles = list(nx.simple_cycles(_import_graph()))
    assert cycles == [], f"import cycles: {cycles}"


def test_nothing_imports_the_cli():
    importers = sorted(m for m, _ in _import_graph().in_edges("strava_pipeline.cli"))
    assert importers == [], f"the CLI is imported by {importers}: dependencies run one way, cli.py imports the library"


def test_product_modules_hold_no_test_tooling():
    tooling = ("pytest", "hypothesis", "playwright", "tests")
    found = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                roots = [node.module.split(".")[0]]
            else:
                continue
            found += [f"{name} imports {r}" for r in roots if r in tooling]
    assert found == []


@pytest.mark.parametrize("module", ["strava_pipeline.archive.tracks", "strava_pipeline.archive.activities_csv"])
def test_a_parser_loads_without_dlt(module):
    """The import runs parse files in worker processes: each imports a parser, and dlt costs seconds to import."""
    code = f"import sys, {module}; print(sorted(m for m in ('dlt', 'dbt', 'dagster') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
