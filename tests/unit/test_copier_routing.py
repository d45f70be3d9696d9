"""The cross-account copier's pure logic: where staging keys go, and its settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.catalog import PACKAGED_BUNDLE, load_catalog
from functions.cross_account_copier.routing import StagingFileError, route
from functions.cross_account_copier.settings import (
    CopierSettings,
    SettingsError,
)
from functions.loader.layout import parse_incoming

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "datasets")
KEY_ARN = "arn:aws:kms:eu-west-2:111100000001:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ENVIRONMENT = {
    "LANDING_BUCKET": "reporting-landing",
    "LANDING_ACCOUNT_ID": "111100000001",
    "LANDING_KEY_ARN": KEY_ARN,
    "PLATFORM": "languages",
}


@pytest.mark.parametrize(
    ("key", "landing_key", "needs_conversion"),
    [
        (
            "envelopes/lesson_progress/2026/11/26/15/stream-1.gz",
            "incoming/languages/lesson_progress/2026/11/26/15/stream-1.gz",
            False,
        ),
        (
            "records/lesson_progress/native-1.gz",
            "incoming/languages/lesson_progress/native-1.gz",
            True,
        ),
        (
            "records/lesson_progress/2026 11/a+b é.gz",
            "incoming/languages/lesson_progress/2026 11/a+b é.gz",
            True,
        ),
    ],
)
def test_pipeline_keys_go_to_the_platforms_incoming_folder(
    key: str, landing_key: str, needs_conversion: bool
) -> None:
    staged = route(key, "languages", CATALOG)

    assert staged is not None
    assert staged.landing_key == landing_key
    assert staged.needs_conversion is needs_conversion
    assert staged.dataset.qualified_name == "languages/lesson_progress"
    # The landing loader reads the key back as the same dataset.
    parsed = parse_incoming(staged.landing_key)
    assert parsed is not None
    assert parsed.qualified_dataset == "languages/lesson_progress"


@pytest.mark.parametrize(
    "key",
    [
        "errors/processing-failed/2026/11/26/15/failed-1.gz",
        "lesson_progress/a.gz",
        "envelopes/lesson_progress/",
        "envelopes/lesson_progress/2026/11/",
        "envelopes/lesson_progress",
        "envelopes//a.gz",
        "records/",
        "Envelopes/lesson_progress/a.gz",
    ],
)
def test_other_keys_are_left_alone(key: str) -> None:
    assert route(key, "languages", CATALOG) is None


def test_a_dataset_the_platform_does_not_declare_is_an_error() -> None:
    with pytest.raises(StagingFileError) as raised:
        route("envelopes/pupils/a.gz", "languages", CATALOG)

    assert str(raised.value) == "envelopes/pupils/a.gz: no dataset languages/pupils in the catalog"


def test_a_dataset_that_is_not_a_change_stream_is_an_error() -> None:
    with pytest.raises(StagingFileError) as raised:
        route("records/learners/a.gz", "languages", CATALOG)

    assert str(raised.value) == (
        "records/learners/a.gz: dataset languages/learners is csv, not dynamodb-stream"
    )


def test_settings_are_read_from_the_environment() -> None:
    settings = CopierSettings.from_environment(ENVIRONMENT)

    assert settings == CopierSettings(
        landing_bucket="reporting-landing",
        landing_account_id="111100000001",
        landing_key_arn=KEY_ARN,
        platform="languages",
        catalog_file=PACKAGED_BUNDLE,
    )
    assert Path(__file__).resolve().parents[2] / "catalog.json" == PACKAGED_BUNDLE
    assert CopierSettings.from_environment(
        {**ENVIRONMENT, "CATALOG_FILE": "/var/task/other.json"}
    ).catalog_file == Path("/var/task/other.json")


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LANDING_BUCKET", "", "environment variable LANDING_BUCKET is required"),
        ("LANDING_ACCOUNT_ID", None, "environment variable LANDING_ACCOUNT_ID is required"),
        ("LANDING_ACCOUNT_ID", "11110000001", "LANDING_ACCOUNT_ID must be 12 digits"),
        # Full-width digits: digits to re's \d, but no account id.
        ("LANDING_ACCOUNT_ID", "\uff11" * 10 + "01", "LANDING_ACCOUNT_ID must be 12 digits"),
        ("LANDING_KEY_ARN", None, "environment variable LANDING_KEY_ARN is required"),
        ("LANDING_KEY_ARN", "0f1e2d3c-4b5a", "LANDING_KEY_ARN must be a KMS key ARN"),
        (
            "LANDING_KEY_ARN",
            "arn:aws:kms:eu-west-2:111100000001:alias/landing",
            "LANDING_KEY_ARN must be a KMS key ARN",
        ),
        (
            "LANDING_KEY_ARN",
            KEY_ARN.replace("111100000001", "444400000001"),
            "LANDING_KEY_ARN must be a key of LANDING_ACCOUNT_ID",
        ),
        ("PLATFORM", None, "environment variable PLATFORM is required"),
    ],
)
def test_missing_or_invalid_settings_fail_naming_the_variable(
    name: str, value: str | None, message: str
) -> None:
    environment = {key: item for key, item in ENVIRONMENT.items() if key != name}
    if value is not None:
        environment[name] = value

    with pytest.raises(SettingsError) as raised:
        CopierSettings.from_environment(environment)

    assert str(raised.value).endswith(message)
