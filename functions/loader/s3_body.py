"""An S3 object's body as a stream the loader can buffer, peek and decompress."""

from __future__ import annotations

import io
from typing import Any

READ_BUFFER_BYTES = 1 << 20


class S3BodyReader(io.RawIOBase):
    """A boto3 StreamingBody as a raw stream, read a buffer at a time: never the whole object."""

    def __init__(self, body: Any) -> None:
        self.body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.body.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        self.body.close()
        super().close()


def buffered_body(body: Any) -> io.BufferedReader:
    """The body behind a 1 MB read buffer."""
    return io.BufferedReader(S3BodyReader(body), buffer_size=READ_BUFFER_BYTES)
