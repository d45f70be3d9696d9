"""Where files live in the landing bucket.

    incoming/<platform>/<dataset>/<file>                     loaded on arrival
    archive/<platform>/<dataset>/<yyyy>/<mm>/<dd>/<file>     after a successful load (expires)
    quarantine/<platform>/<dataset>/<file>                   after a failure, never deleted
    quarantine/<platform>/<dataset>/<file>.error.json        why it failed

`<file>` may itself contain slashes (Firehose adds its own date folders). The bucket notifies the
loader for `incoming/` only, and the loader writes only under `archive/` and `quarantine/`, so
nothing it writes can trigger it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

INCOMING = "incoming/"
ARCHIVE = "archive/"
QUARANTINE = "quarantine/"
ERROR_REPORT_SUFFIX = ".error.json"


@dataclass(frozen=True)
class LandingKey:
    """An `incoming/` key taken apart."""

    platform: str
    dataset: str
    file: str

    @property
    def qualified_dataset(self) -> str:
        """`<platform>/<dataset>`, as the catalog names it."""
        return f"{self.platform}/{self.dataset}"

    def archive_key(self, loaded_at: datetime) -> str:
        """Where the file goes after it loaded, dated by the load."""
        return f"{ARCHIVE}{self.platform}/{self.dataset}/{loaded_at:%Y/%m/%d}/{self.file}"


def is_incoming(key: str) -> bool:
    """True for keys the loader should load."""
    return key.startswith(INCOMING)


def parse_incoming(key: str) -> LandingKey | None:
    """The parts of `incoming/<platform>/<dataset>/<file>`, or None if the key has another shape."""
    if not is_incoming(key):
        return None
    platform, _, rest = key[len(INCOMING) :].partition("/")
    dataset, _, file = rest.partition("/")
    if not platform or not dataset or not file or file.endswith("/"):
        return None
    return LandingKey(platform, dataset, file)


def quarantine_key(incoming_key: str) -> str:
    """Where a file that failed goes: its path under `incoming/`, moved to `quarantine/`."""
    return QUARANTINE + incoming_key.removeprefix(INCOMING)


def error_report_key(incoming_key: str) -> str:
    """The error report written beside the quarantined file."""
    return quarantine_key(incoming_key) + ERROR_REPORT_SUFFIX
