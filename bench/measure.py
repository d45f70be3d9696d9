"""How the benchmarks time a step: this process's CPU seconds and the wall seconds, together."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """CPU seconds of this process and wall seconds of one measured step."""

    cpu: float
    wall: float

    def __add__(self, other: Timing) -> Timing:
        return Timing(self.cpu + other.cpu, self.wall + other.wall)


def timed(action: Callable[[], Any]) -> tuple[Any, Timing]:
    """Runs `action`; returns its result and what it took."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = action()
    return result, Timing(time.process_time() - cpu, time.perf_counter() - wall)
