"""REPORTING_EMULATOR picks the function tests' emulator, and what it lacks makes a test not
applicable there: moto lacks nothing, LocalStack on this host what it cannot serve offline, an
external LocalStack what its health endpoint does not list as available."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from emulator_choice import chosen_emulator


@pytest.fixture(autouse=True)
def fresh_choice(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("REPORTING_EMULATOR", "LOCALSTACK_HOST", "USE_SSL"):
        monkeypatch.delenv(name, raising=False)
    chosen_emulator.cache_clear()
    yield
    chosen_emulator.cache_clear()


def serve(health: dict | None) -> Iterator[str]:
    """A server on loopback answering /_localstack/health with `health` (404 when None)."""

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if health is None or self.path != "/_localstack/health":
                self.send_error(404)
                return
            body = json.dumps(health).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def community_localstack() -> Iterator[str]:
    """A LocalStack with DynamoDB running, and without RDS or SES v2 (as in its open source)."""
    services = {"dynamodb": "running", "dynamodbstreams": "available", "s3": "running"}
    yield from serve({"services": services, "version": "4.14.0"})


@pytest.fixture
def not_localstack() -> Iterator[str]:
    yield from serve(None)


def test_moto_is_the_default_and_lacks_nothing():
    emulator = chosen_emulator()
    assert (emulator.kind, emulator.software, emulator.host) == ("moto", "moto", "")
    assert emulator.not_applicable(("dynamodb", "rds", "sesv2", "moto")) is None


def test_localstack_on_this_host_lacks_what_it_cannot_serve_offline(monkeypatch):
    monkeypatch.setenv("REPORTING_EMULATOR", "localstack")
    monkeypatch.setenv("LOCALSTACK_HOST", "127.0.0.1:4566")
    emulator = chosen_emulator()
    assert (emulator.software, emulator.url) == ("localstack", "http://127.0.0.1:4566")
    assert emulator.not_applicable(("sesv2",)) == (
        "not applicable on LocalStack: needs SES v2 (not in open-source LocalStack)"
    )
    assert emulator.not_applicable(("dynamodb",)).startswith(
        "not applicable on LocalStack: needs DynamoDB (LocalStack runs DynamoDB Local"
    )
    assert emulator.not_applicable(()) is None


def test_an_external_localstack_lacks_what_its_health_does_not_list(
    monkeypatch, community_localstack
):
    monkeypatch.setenv("REPORTING_EMULATOR", "external")
    monkeypatch.setenv("LOCALSTACK_HOST", community_localstack)
    emulator = chosen_emulator()
    assert (emulator.kind, emulator.software) == ("external", "localstack")
    assert emulator.not_applicable(("dynamodb",)) is None
    assert emulator.not_applicable(("rds", "sesv2")) == (
        f"not applicable on LocalStack at {community_localstack}: needs"
        " RDS (this LocalStack does not serve rds); SES v2 (this LocalStack does not serve sesv2)"
    )
    assert emulator.not_applicable(("moto",)).endswith("by design)")


def test_an_external_emulator_that_is_not_localstack_is_taken_as_moto(monkeypatch, not_localstack):
    monkeypatch.setenv("REPORTING_EMULATOR", "external")
    monkeypatch.setenv("LOCALSTACK_HOST", not_localstack)
    emulator = chosen_emulator()
    assert (emulator.software, dict(emulator.lacks)) == ("moto", {})


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"REPORTING_EMULATOR": "docker"}, "REPORTING_EMULATOR=docker: one of moto, localstack"),
        ({"REPORTING_EMULATOR": "external"}, "REPORTING_EMULATOR=external needs LOCALSTACK_HOST"),
    ],
)
def test_a_wrong_setting_stops_the_run_naming_it(monkeypatch, environment, message):
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(pytest.UsageError, match=message):
        chosen_emulator()


def test_a_need_no_emulator_knows_is_refused():
    with pytest.raises(pytest.UsageError, match="emulator_needs: unknown"):
        chosen_emulator().not_applicable(("dynamo",))
