"""Entry point: `uv run strava.py --help`."""

import sys

from strava_pipeline.cli import main

if __name__ == "__main__":
    sys.exit(main())
