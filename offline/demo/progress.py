"""Live status lines: one line per step, shown while it runs and rewritten in place with its
result and time on a terminal (printed once, when done, anywhere else)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import perf_counter
from typing import TextIO

# Erase the line and return to its start (ANSI), so a running step's line becomes its result.
_REWRITE = "\r\x1b[K"


@dataclass
class Step:
    """A running step; `detail` replaces its label in the finished line."""

    label: str
    detail: str = ""
    seconds: float = 0.0


class Progress:
    def __init__(self, out: TextIO, live: bool | None = None) -> None:
        self.out = out
        self.live = out.isatty() if live is None else live

    def line(self, text: str = "") -> None:
        """Prints a line of the summary."""
        self.out.write(f"{text}\n")
        self.out.flush()

    def skipped(self, stage: str, text: str) -> None:
        """A step the demo cannot play, and why."""
        self.line(f"  --          {stage:<9} {text}")

    @contextmanager
    def step(self, stage: str, label: str) -> Iterator[Step]:
        """Shows `label` while the block runs, then the step's detail and its time."""
        step = Step(label)
        if self.live:
            self.out.write(f"  ..         {stage:<9} {label}")
            self.out.flush()
        start = perf_counter()
        try:
            yield step
        except BaseException:
            self._finish("!!", stage, f"{label}: failed", perf_counter() - start)
            raise
        step.seconds = perf_counter() - start
        self._finish("ok", stage, step.detail or label, step.seconds)

    def _finish(self, mark: str, stage: str, text: str, seconds: float) -> None:
        prefix = _REWRITE if self.live else ""
        self.out.write(f"{prefix}  {mark} {seconds:6.1f}s  {stage:<9} {text}\n")
        self.out.flush()
