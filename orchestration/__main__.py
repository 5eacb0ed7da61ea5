"""`uv run python -m orchestration [--demo] [--port N]`: start the Dagster UI of this project."""

import sys

from orchestration.launcher import main

sys.exit(main())
