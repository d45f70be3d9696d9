"""The AWS emulator of the benchmarks: a moto server in a process of its own, so that the
benchmark's CPU time is the code under test, not the emulator's."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.error import URLError
from urllib.request import urlopen

REGION = "eu-west-2"
START_SECONDS = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """A moto server in a child process, for as long as the block runs; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_SECONDS
        while True:
            try:
                urlopen(f"{url}/moto-api/", timeout=1).close()
                break
            except (URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"the moto server on port {port} did not start")
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.wait()


def use_emulator(url: str) -> None:
    """Points boto3 (the handlers' clients, and child processes, which inherit it) at `url`."""
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": REGION,
        }
    )
    os.environ.pop("AWS_PROFILE", None)
