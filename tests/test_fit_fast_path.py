"""The FIT fast path (fit_records) gives exactly what fitdecode gives, on every reference FIT file, whole or cut."""

import pytest

from strava_pipeline.archive.fit import parse_fit
from strava_pipeline.archive.fit_records import split_records
from tests.support.reference import FILES, require

FIT_FILES = sorted([*require(FILES / "fit").glob("*.fit"), *FILES.glob("third-party/*/*.fit")])


def same(a, b) -> bool:
    return a.table.equals(b.table) and (
        a.start_time_utc,
        a.sport,
        a.device,
        a.damaged,
        a.utc_offset_s,
        a.summary,
        a.warnings,
    ) == (b.start_time_utc, b.sport, b.device, b.damaged, b.utc_offset_s, b.summary, b.warnings)


@pytest.mark.parametrize("path", FIT_FILES, ids=lambda p: p.name)
def test_fast_path_equals_fitdecode(path):
    data = path.read_bytes()
    assert same(parse_fit(data, fast_path=False), parse_fit(data))
    for cut in (len(data) - 1, len(data) // 2):  # cut inside the CRC, and inside a message
        assert same(parse_fit(data[:cut], fast_path=False), parse_fit(data[:cut])), cut


def test_fast_path_is_taken_where_it_can_be():
    taken = {p.name for p in FIT_FILES if split_records(p.read_bytes()) is not None}
    # everything but a file damaged in the middle (an undefined local message) and misaligned definitions: there
    # fitdecode alone decodes the file, as before
    assert {p.name for p in FIT_FILES} - taken == {
        "strava-android-app-201.10-b1218918.fit",
        "coros-pace-2-cycling-misaligned-fields.fit",
    }
