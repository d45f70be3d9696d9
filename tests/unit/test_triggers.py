"""The event source mapping the tests and the demo play (offline/triggers.py) follows AWS's
documented rules."""

from __future__ import annotations

from offline.triggers import StreamMapping


def _mapping(handler, failures: list) -> StreamMapping:
    return StreamMapping(
        handler=handler,
        event_of=lambda batch: {"Records": list(batch)},
        sequence_of=lambda record: record,
        source_arn="arn:stream",
        maximum_retry_attempts=2,
        on_failure=failures.append,
    )


def test_a_successful_batch_is_invoked_once():
    failures: list = []
    mapping = _mapping(lambda event: {"batchItemFailures": []}, failures)

    mapping.deliver(["1", "2", "3"])

    assert (mapping.invocations, failures) == ([["1", "2", "3"]], [])


def test_a_partial_failure_retries_from_the_checkpoint():
    calls = []

    def handler(event):
        calls.append(event["Records"])
        return {"batchItemFailures": [{"itemIdentifier": "2"}] if len(calls) == 1 else []}

    failures: list = []
    mapping = _mapping(handler, failures)
    mapping.deliver(["1", "2", "3"])

    assert mapping.invocations == [["1", "2", "3"], ["2", "3"]]
    assert failures == []


def test_a_record_reported_on_every_attempt_takes_the_rest_of_its_batch_to_the_destination():
    failures: list = []
    mapping = _mapping(lambda event: {"batchItemFailures": [{"itemIdentifier": "2"}]}, failures)

    mapping.deliver(["1", "2", "3"])

    # Record 2 runs three times: its first attempt and the two retries.
    assert mapping.invocations == [["1", "2", "3"], ["2", "3"], ["2", "3"]]
    (failure,) = failures
    assert failure["DDBStreamBatchInfo"] == {
        "startSequenceNumber": "2",
        "endSequenceNumber": "3",
        "batchSize": 2,
        "streamArn": "arn:stream",
    }
    assert failure["requestContext"] == {
        "condition": "RetryAttemptsExhausted",
        "approximateInvokeCount": 3,
    }


def test_a_function_error_is_bisected_until_the_poison_record_is_alone():
    def handler(event):
        if "3" in event["Records"]:
            raise ValueError("poison")
        return {"batchItemFailures": []}

    failures: list = []
    mapping = _mapping(handler, failures)
    mapping.deliver(["1", "2", "3", "4"])

    assert mapping.invocations == [
        ["1", "2", "3", "4"],
        ["1", "2"],
        ["3", "4"],
        ["3"],
        ["3"],
        ["4"],
    ]
    assert [f["DDBStreamBatchInfo"]["startSequenceNumber"] for f in failures] == ["3"]
    assert failures[0]["DDBStreamBatchInfo"]["batchSize"] == 1
