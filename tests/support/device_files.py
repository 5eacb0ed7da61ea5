"""Device files made from the real reference recordings, for the tests of matching files to activities."""

import re
from datetime import datetime
from pathlib import Path

from tests.support.reference import FILES


def shifted_gpx(target: Path, start_iso: str, sport: str) -> Path:
    """The real strava_export.gpx with its clock moved so that it starts at start_iso, its <type> set to sport."""
    text = (FILES / "gpx" / "strava_export.gpx").read_text()
    times = re.findall(r"<time>([^<]+)</time>", text)
    first = datetime.fromisoformat(times[1].replace("Z", "+00:00"))  # [0] is the metadata time
    delta = datetime.fromisoformat(start_iso.replace("Z", "+00:00")) - first

    def move(m):
        t = datetime.fromisoformat(m.group(1).replace("Z", "+00:00")) + delta
        return f"<time>{t.strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"

    text = re.sub(r"<time>([^<]+)</time>", move, text)
    text = re.sub(r"<type>[^<]*</type>", f"<type>{sport}</type>", text)
    target.write_text(text)
    return target
