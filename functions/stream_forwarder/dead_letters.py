"""Poison records leave the stream for the dead-letter queue, so the changes behind them flow.

An event source mapping retries a batch from its first failed record until the retries run out,
then skips the rest of the batch: one poison record reported as a batch item failure would hold
up, and finally take down, every change after it in its shard. A record that can never become
an envelope is therefore parked here with the reason, and the stream moves on; the queue's alarm
tells a person, who can fix the route or the catalog and replay it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# SQS takes messages of up to 1 MiB (256 KiB before August 2025; stay under the older limit so
# a queue configured with it still takes them). A record of a large item keeps only its keys.
MAX_MESSAGE_BYTES = 256 * 1024


@dataclass(frozen=True)
class DeadLetters:
    """The forwarder's dead-letter queue."""

    sqs: Any
    queue_url: str

    def park(self, record: Mapping[str, Any], reason: str) -> None:
        """Sends the stream record and why it failed; raises if SQS refuses it."""
        body = _message(record, reason, with_images=True)
        if len(body.encode()) > MAX_MESSAGE_BYTES:
            body = _message(record, reason, with_images=False)
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=body)


def _message(record: Mapping[str, Any], reason: str, *, with_images: bool) -> str:
    change = dict(record.get("dynamodb") or {})
    if not with_images:
        change.pop("NewImage", None)
        change.pop("OldImage", None)
    return json.dumps(
        {
            "reason": reason,
            "imagesOmitted": not with_images,
            "record": {**record, "dynamodb": change},
        },
        default=str,
    )
