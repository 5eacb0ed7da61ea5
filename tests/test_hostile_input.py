"""Hostile input: `reports serve` gives nothing outside the site (`/../`, encoded forms, mounts, symlinks) and listens
on 127.0.0.1 only; XML bombs, entities and deep nesting, and FIT files with absurd sizes are refused quietly."""

import http.client
import socket
import struct
import threading
import tracemalloc

import pytest

from strava_pipeline import reports
from tests.test_properties import time_bound

SECRET = "TOP-SECRET-OUTSIDE-THE-SITE"


@pytest.fixture
def served(tmp_path):
    site, maps, outside = tmp_path / "site", tmp_path / "maps", tmp_path / "outside"
    for folder in (site, maps, outside):
        folder.mkdir()
    (site / "index.html").write_text("<html>site</html>")
    (maps / "index.html").write_text("<html>maps</html>")
    (outside / "secret.txt").write_text(SECRET)
    (tmp_path / "secret.txt").write_text(SECRET)
    (site / "link-out.txt").symlink_to(outside / "secret.txt")
    (site / "linkdir").symlink_to(outside, target_is_directory=True)
    (maps / "link-out.txt").symlink_to(outside / "secret.txt")
    server = reports.make_server(site, 0, mounts={"/maps/": maps})
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def raw_get(server, path: str) -> tuple[int, bytes]:
    """A GET with the path sent exactly as given (no client-side normalisation of dot segments)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=False, skip_accept_encoding=True)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/../outside/secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E/outside/secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e%2f%2e%2e%2fsecret.txt",
        "/..%5csecret.txt",
        "/%252e%252e/secret.txt",
        "//../secret.txt",
        "/./../secret.txt",
        "/maps/../../secret.txt",
        "/maps/%2e%2e/%2e%2e/outside/secret.txt",
        "/maps/..%2f..%2fsecret.txt",
        "/link-out.txt",
        "/linkdir/secret.txt",
        "/maps/link-out.txt",
        "/maps%2f..%2f..%2fsecret.txt",
    ],
)
def test_nothing_outside_the_site_is_served(served, path):
    status, body = raw_get(served, path)
    assert SECRET.encode() not in body
    assert status in (301, 400, 403, 404), status


def test_the_site_and_its_mounts_are_still_served(served):
    assert raw_get(served, "/") == (200, b"<html>site</html>")
    assert raw_get(served, "/maps/") == (200, b"<html>maps</html>")
    assert raw_get(served, "/maps/index.html") == (200, b"<html>maps</html>")


def _other_addresses() -> list[str]:
    """This machine's addresses other than loopback (none on an isolated box)."""
    found = set()
    for family in (socket.AF_INET,):
        try:
            for info in socket.getaddrinfo(socket.gethostname(), None, family):
                found.add(info[4][0])
        except OSError:
            pass
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            found.add(s.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127.") and a != "0.0.0.0")


def test_the_server_listens_on_loopback_only(served):
    host, port = served.server_address[:2]
    assert host == "127.0.0.1"
    for address in _other_addresses():
        with socket.socket() as s:
            s.settimeout(2)
            assert s.connect_ex((address, port)) != 0, f"reachable on {address}:{port}"


# ------------------------------------------------------------------------------------------ XML and FIT bombs

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<{root}><trk><name>&lol9;</name><trkseg><trkpt lat="46.0" lon="14.5"><time>2024-01-01T00:00:00Z</time></trkpt>
</trkseg></trk></{root}>"""


def xxe(root: str, target) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://{target}">]>'
        f'<{root}><trk><name>&x;</name><trkseg><trkpt lat="46.0" lon="14.5"><time>2024-01-01T00:00:00Z</time>'
        f"</trkpt></trkseg></trk></{root}>"
    ).encode()


def parse_bounded(data: bytes, name: str, peak_mb: float = 200.0):
    """parse_track under a hang guard and a memory measurement: a bomb must be refused, not expanded."""
    from strava_pipeline.archive.tracks import parse_track

    tracemalloc.start()
    try:
        with time_bound(60):
            result = parse_track(data, name)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < peak_mb * 2**20, f"{name}: {peak / 2**20:.0f} MB while parsing {len(data)} bytes"
    return result


@pytest.mark.parametrize("root", ["gpx", "TrainingCenterDatabase"])
def test_an_entity_bomb_is_refused_not_expanded(root):
    result = parse_bounded(
        BILLION_LAUGHS.replace(b"{root}", root.encode()), "bomb." + ("gpx" if root == "gpx" else "tcx")
    )
    assert "lol" * 100 not in repr(result.table.to_pylist()) + repr(result.warnings)


@pytest.mark.parametrize("root", ["gpx", "TrainingCenterDatabase"])
def test_an_external_entity_is_never_read(tmp_path, root):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    result = parse_bounded(xxe(root, secret), "x.gpx" if root == "gpx" else "x.tcx")
    assert SECRET not in repr(result.table.to_pylist()) + repr(result.warnings) + repr(result.summary)


@pytest.mark.parametrize("root", ["gpx", "TrainingCenterDatabase"])
def test_deeply_nested_xml_does_not_crash(root):
    depth = 200_000
    data = f'<?xml version="1.0"?><{root}>'.encode() + b"<a>" * depth + b"</a>" * depth + f"</{root}>".encode()
    result = parse_bounded(data, "deep.gpx" if root == "gpx" else "deep.tcx")
    assert result.points == 0


def test_a_huge_xml_text_node_is_bounded():
    data = b'<?xml version="1.0"?><gpx><trk><name>' + b"x" * (40 * 2**20) + b"</name></trk></gpx>"
    result = parse_bounded(data, "huge.gpx", peak_mb=400)
    assert result.points == 0


def _fit_header(data_size: int) -> bytes:
    body = struct.pack("<BBHI4s", 12, 0x10, 2100, data_size, b".FIT")
    return body


@pytest.mark.parametrize(
    "tail",
    [
        b"",  # a header promising 4 GB and nothing after it
        # a definition of global message 20 (record) with 255 fields of 255 bytes, then one short data message
        bytes([0x40, 0, 0]) + struct.pack("<H", 20) + bytes([255]) + bytes([1, 255, 0x84] * 255) + b"\x00" * 100,
        # developer data flag with 255 developer fields
        bytes([0x60, 0, 0]) + struct.pack("<H", 20) + bytes([0]) + bytes([255]) + bytes([0, 255, 0] * 255),
        b"\xff" * 4096,
    ],
    ids=["4GB-header", "255x255-fields", "255-dev-fields", "ff-bytes"],
)
def test_a_fit_file_with_absurd_sizes_is_refused_quietly(tail):
    data = _fit_header(0xFFFFFFFF) + tail
    result = parse_bounded(data, "absurd.fit")
    assert result.points <= len(data)
    assert result.damaged or result.points == 0
