"""The dbt privacy test can fail: on copies of dbt_project/ with a broken distance macro or a masking margin too small
for the snap and the simplification, `assert_no_point_inside_privacy_zone` fails; on the project as it is, it passes.

It measures distances with DuckDB spatial (ellipsoid, UTM) instead of the haversine_m macro the masking uses, and the
fixture athlete has tracks circling the zone 5-20 m outside its radius (tests/fixtures/dbt/raw_warehouse.py)."""

import importlib.util
import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_DIR = PROJECT_ROOT / "dbt_project"
TEST = "assert_no_point_inside_privacy_zone"

_spec = importlib.util.spec_from_file_location(
    "dbt_raw_warehouse_for_privacy", Path(__file__).parent / "fixtures" / "dbt" / "raw_warehouse.py"
)
raw_warehouse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(raw_warehouse)


def _double_the_macro(project: Path) -> None:
    path = project / "macros" / "geo.sql"
    text = path.read_text()
    assert text.count("(2 * 6371008.8 *") == 1
    path.write_text(text.replace("(2 * 6371008.8 *", "(2 * 2 * 6371008.8 *"))


def _margin(metres: int):
    def mutate(project: Path) -> None:
        path = project / "dbt_project.yml"
        text = path.read_text()
        assert text.count("privacy_margin_m: 25") == 1 and text.count("privacy_margin_fraction: 0.01") == 1
        # the fixed margin only: the part that grows with the radius (4 m of a 400 m zone) set to nothing
        text = text.replace("privacy_margin_fraction: 0.01", "privacy_margin_fraction: 0")
        path.write_text(text.replace("privacy_margin_m: 25", f"privacy_margin_m: {metres}"))

    return mutate


@pytest.fixture(scope="module")
def raw_data(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("privacy_raw") / "data"
    raw_warehouse.build(data_dir)
    return data_dir


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mutation", "expected"),
    [(None, "pass"), (_double_the_macro, "fail"), (_margin(5), "fail")],
    ids=["as-is", "haversine-doubled", "margin-5m"],
)
def test_the_privacy_test_fails_exactly_on_a_masking_bug(raw_data, tmp_path, mutation, expected):
    from tests.test_dbt_build import dbt, query

    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    if mutation:
        mutation(project)
    data_dir = tmp_path / "data"
    shutil.copytree(raw_data, data_dir)
    # the test and everything it reads; tests of those models that need other models are left out (cautious)
    result = dbt(
        ["build", "--select", f"+{TEST}", "--indirect-selection", "cautious"], data_dir, tmp_path / "work", project
    )
    assert result.results.get(TEST) == expected, result.failures()
    others = {name: s for name, s in result.results.items() if name != TEST and s not in ("success", "pass")}
    assert not others, others
    if expected == "pass":
        # the masking had zones to cut: most routes touch one
        routes = "select count(*) from strava.marts.activity_routes_masked where touches_privacy_zone"
        assert query(data_dir, routes)[0][0] > 40
