"""README stays true: its CLI reference is the real --help; `uv run python tests/test_readme.py` rewrites it."""

import os
import re
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
BLOCK = re.compile(r"(<!-- cli-help:start -->\n)(.*?)(<!-- cli-help:end -->)", re.S)


def rendered_help() -> str:
    os.environ["COLUMNS"] = "110"  # argparse wraps at the terminal width
    from strava_pipeline.cli import build_parser

    parser = build_parser()
    parts = [parser.format_help()]
    for sub in parser._subparsers._group_actions[0].choices.values():
        parts.append(sub.format_help())
    return "".join(
        f"```text\n$ uv run strava.py {'' if i == 0 else name + ' '}--help\n{text}```\n"
        for i, (name, text) in enumerate(zip(["", *parser._subparsers._group_actions[0].choices], parts))
    )


def test_readme_cli_reference_matches_help():
    match = BLOCK.search(README.read_text())
    assert match, "README.md lost its <!-- cli-help:start/end --> markers"
    assert match.group(2) == rendered_help(), "README CLI reference is stale: run `uv run python tests/test_readme.py`"


if __name__ == "__main__":
    text = README.read_text()
    README.write_text(BLOCK.sub(lambda m: m.group(1) + rendered_help() + m.group(3), text))
    sys.exit(0)
