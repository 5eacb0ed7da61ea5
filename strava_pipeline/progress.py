"""Progress for long imports: a rich bar with ETA in a terminal, plain log lines elsewhere (CI, Dagster)."""

import sys
from datetime import UTC, datetime
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class Reporter:
    def __init__(
        self, stream: TextIO | None = None, interactive: bool | None = None, clock=None, every: int = 25
    ) -> None:
        self.stream = stream or sys.stdout
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.console = Console(
            file=self.stream, force_terminal=self.interactive, highlight=False, soft_wrap=True, force_jupyter=False
        )
        self.clock = clock
        self.every = every
        self._progress: Progress | None = None
        self._task = None
        self._total = 0
        self._done = 0

    def say(self, message: str) -> None:
        if self._progress is not None:
            self._progress.console.print(message)
        else:
            print(message, file=self.stream, flush=True)

    def start(self, total: int, what: str) -> None:
        self._total, self._done = total, 0
        if self.interactive and total:
            self._progress = Progress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task(what, total=total)
        elif total:
            self.say(f"{what}: {total:,} to go")

    def advance(self, n: int = 1, note: str = "") -> None:
        self._done += n
        if self._progress is not None:
            self._progress.update(self._task, advance=n)
        elif self._done % self.every == 0 or self._done == self._total:
            self.say(f"  {self._done:,}/{self._total:,} activities done{(' ' + note) if note else ''}")

    def finish(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def wait(self, seconds: float, reason: str, clock) -> None:
        """Sleep until the next rate-limit window, showing a countdown; Ctrl-C still stops cleanly."""
        until = datetime.fromtimestamp(clock.now() + seconds, UTC).strftime("%H:%M:%S UTC")
        self.say(f"{reason}: waiting {_mmss(seconds)} until {until} (Ctrl-C stops cleanly, progress is saved)")
        if not self.interactive:
            clock.sleep(seconds)
            return
        remaining = seconds
        with self.console.status("") as status:
            while remaining > 0:
                status.update(f"next request window in {_mmss(remaining)}")
                step = min(1.0, remaining)
                clock.sleep(step)
                remaining -= step


def _mmss(seconds: float) -> str:
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"
