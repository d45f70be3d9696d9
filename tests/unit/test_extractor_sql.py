"""The extractor's pure logic: page queries per engine, window names, hashing, CSV parts,
connection strings and settings, without a database or AWS."""

from __future__ import annotations

import csv
import gzip
import hashlib
import hmac
import io
import json
import struct
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from functions.catalog import Dataset, load_catalog, parse_platform
from functions.extractor.connections import datetimeoffset, replica_connection_string
from functions.extractor.parts import PartWriter, UnsupportedValueError, csv_text
from functions.extractor.privacy import HashKeyError, ValueHasher
from functions.extractor.settings import ExtractorSettings, Replica, SettingsError
from functions.extractor.sql import ENGINES, page_queries
from functions.extractor.window import window_after

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "datasets")
STAFF = CATALOG.find("maths/staff")
BOOK_PROGRESS = CATALOG.find("reading/book_progress")
KEY = b"k" * 32
# An integer watermark that is also the key: the cursor is the watermark alone.
(EVENTS,) = parse_platform(
    {
        "platform": "science",
        "datasets": [
            {
                "name": "events",
                "source": "test",
                "table": "science_events",
                "keys": ["event_id"],
                "watermark": "event_id",
                "extract": {"database": "lab", "from": "lab.Events", "batch_rows": 500},
                "columns": [
                    {"name": "event_id", "type": "integer", "nullable": False, "field": "EventId"},
                    {"name": "kind", "type": "string", "field": "Kind"},
                ],
            }
        ],
    },
    source="test",
)
STAFF_FIELDS = '"id", "school_id", "email", "role", "updated_at"'


def test_staff_on_postgres_selects_only_declared_fields_after_the_keyset_cursor() -> None:
    queries = page_queries(STAFF, ENGINES["postgres"])

    assert queries.every_row == (
        f'SELECT {STAFF_FIELDS} FROM "public"."staff" WHERE (deleted_at IS NULL)'
        ' ORDER BY "updated_at", "id" LIMIT 10000'
    )
    assert queries.from_start == (
        f'SELECT {STAFF_FIELDS} FROM "public"."staff" WHERE (deleted_at IS NULL)'
        ' AND ("updated_at" >= CAST(? AS timestamp)) ORDER BY "updated_at", "id" LIMIT 10000'
    )
    assert queries.after_cursor == (
        f'SELECT {STAFF_FIELDS} FROM "public"."staff" WHERE (deleted_at IS NULL)'
        ' AND ("updated_at" >= CAST(? AS timestamp))'
        ' AND ("updated_at" > CAST(? AS timestamp) OR ("updated_at" = CAST(? AS timestamp)'
        ' AND ("id" > ?))) ORDER BY "updated_at", "id" LIMIT 10000'
    )
    assert queries.fields == ("id", "school_id", "email", "role", "updated_at")
    for statement in (queries.every_row, queries.from_start, queries.after_cursor):
        assert "date_of_birth" not in statement
        assert "*" not in statement


def test_book_progress_on_mysql_orders_by_watermark_then_both_keys() -> None:
    queries = page_queries(BOOK_PROGRESS, ENGINES["mysql"])
    fields = "`reader_id`, `book_id`, `pages_read`, `finished`, `updated_at`"
    order = "ORDER BY `updated_at`, `reader_id`, `book_id` LIMIT 10000"

    assert queries.every_row == f"SELECT {fields} FROM `book_progress` {order}"
    assert queries.from_start == (
        f"SELECT {fields} FROM `book_progress` WHERE (`updated_at` >= CAST(? AS DATETIME(6)))"
        f" {order}"
    )
    assert queries.after_cursor == (
        f"SELECT {fields} FROM `book_progress` WHERE (`updated_at` >= CAST(? AS DATETIME(6)))"
        " AND (`updated_at` > CAST(? AS DATETIME(6))"
        " OR (`updated_at` = CAST(? AS DATETIME(6)) AND (`reader_id` > ? OR (`reader_id` = ?"
        f" AND (`book_id` > ?))))) {order}"
    )
    assert ENGINES["mariadb"] == ENGINES["mysql"]


def test_sql_server_limits_with_top_and_spells_out_the_row_value_comparison() -> None:
    queries = page_queries(STAFF, ENGINES["sqlserver-ee"])
    select = "SELECT TOP (10000) [id], [school_id], [email], [role], [updated_at]"

    assert queries.every_row == (
        f"{select} FROM [public].[staff] WHERE (deleted_at IS NULL) ORDER BY [updated_at], [id]"
    )
    assert queries.after_cursor == (
        f"{select} FROM [public].[staff] WHERE (deleted_at IS NULL)"
        " AND ([updated_at] >= CAST(? AS datetime2(6))) AND ([updated_at] >"
        " CAST(? AS datetime2(6)) OR ([updated_at] = CAST(? AS datetime2(6)) AND ([id] > ?)))"
        " ORDER BY [updated_at], [id]"
    )


def test_an_integer_watermark_that_is_the_key_is_the_whole_cursor() -> None:
    queries = page_queries(EVENTS, ENGINES["postgres"])
    select = 'SELECT "EventId", "Kind" FROM "lab"."Events"'

    assert queries.from_start == f'{select} WHERE ("EventId" >= ?) ORDER BY "EventId" LIMIT 500'
    assert queries.after_cursor == (
        f'{select} WHERE ("EventId" >= ?) AND ("EventId" > ?) ORDER BY "EventId" LIMIT 500'
    )
    assert queries.from_start_parameters(41) == [41]
    assert queries.after_cursor_parameters((42,)) == [42, 42]


def test_cursor_parameters_bind_timestamps_as_naive_utc_text_and_keys_as_read() -> None:
    staff = page_queries(STAFF, ENGINES["postgres"])
    books = page_queries(BOOK_PROGRESS, ENGINES["mysql"])
    paris = timezone(timedelta(hours=1))

    assert staff.cursor_of((7, 3, "a@b", "head", datetime(2026, 1, 2, 3, 4, 5, 6))) == (
        datetime(2026, 1, 2, 3, 4, 5, 6),
        7,
    )
    assert staff.after_cursor_parameters((datetime(2026, 1, 2, 3, 4, 5, 6), 7)) == [
        "2026-01-02 03:04:05.000006",
        "2026-01-02 03:04:05.000006",
        "2026-01-02 03:04:05.000006",
        7,
    ]
    assert staff.from_start_parameters(datetime(2026, 1, 2, 4, 0, tzinfo=paris)) == [
        "2026-01-02 03:00:00"
    ]
    assert books.after_cursor_parameters((datetime(2026, 1, 2), 5, 9)) == [
        "2026-01-02 00:00:00",
        "2026-01-02 00:00:00",
        "2026-01-02 00:00:00",
        5,
        5,
        9,
    ]


def test_identifiers_are_quoted_with_their_closing_quote_doubled() -> None:
    assert ENGINES["postgres"].quote('odd"name') == '"odd""name"'
    assert ENGINES["mysql"].quote("odd`name") == "`odd``name`"
    assert ENGINES["sqlserver-ee"].quote("odd]name") == "[odd]]name]"


def test_a_dataset_without_extract_has_no_page_queries() -> None:
    with pytest.raises(ValueError, match="maths/pupils has no extract"):
        page_queries(CATALOG.find("maths/pupils"), ENGINES["postgres"])


def test_a_window_starts_the_overlap_before_a_timestamp_watermark() -> None:
    window = window_after(STAFF, datetime(2026, 3, 1, 12, 0), timedelta(seconds=300))

    assert window.start == datetime(2026, 3, 1, 11, 55)
    expected_id = hashlib.sha256(b"maths\0staff\x002026-03-01T11:55:00").hexdigest()[:16]
    assert window.id == expected_id
    assert window.part_key(0) == f"incoming/maths/staff/{expected_id}-00000.csv.gz"
    assert window.part_key(12) == f"incoming/maths/staff/{expected_id}-00012.csv.gz"


def test_a_window_starts_at_an_integer_watermark_itself() -> None:
    window = window_after(EVENTS, 41, timedelta(seconds=300))

    assert window.start == 41
    assert window.id == hashlib.sha256(b"science\0events\x0041").hexdigest()[:16]


def test_window_ids_depend_only_on_dataset_and_start() -> None:
    overlap = timedelta(seconds=300)
    first = window_after(STAFF, None, overlap)

    assert first.start is None
    assert first == window_after(STAFF, None, overlap)
    assert first.id == hashlib.sha256(b"maths\0staff\0").hexdigest()[:16]
    assert first.id != window_after(BOOK_PROGRESS, None, overlap).id
    later = window_after(STAFF, datetime(2026, 3, 1), overlap)
    assert later == window_after(STAFF, datetime(2026, 3, 1), overlap)
    assert later.id != window_after(STAFF, datetime(2026, 3, 1, 0, 0, 1), overlap).id


def test_a_window_after_a_run_that_stopped_early_resumes_after_its_cursor_without_overlap() -> None:
    overlap = timedelta(seconds=300)
    stopped_at = datetime(2026, 3, 1, 12, 0)

    window = window_after(STAFF, stopped_at, overlap, resume_keys=(7,))

    assert (window.start, window.after) == (stopped_at, (stopped_at, 7))
    assert (
        window.id
        == hashlib.sha256(
            b"maths\0staff\x002026-03-01T12:00:00\0after\x002026-03-01T12:00:00\x007"
        ).hexdigest()[:16]
    )
    assert window.id != window_after(STAFF, stopped_at, overlap, resume_keys=(8,)).id
    assert window_after(STAFF, stopped_at, overlap).after is None


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        ("", ""),
        ('a,"b"\nc', 'a,"b"\nc'),
        (True, "true"),
        (False, "false"),
        (-9223372036854775808, "-9223372036854775808"),
        (Decimal("1E+2"), "100"),
        (Decimal("-0.010"), "-0.010"),
        (1e-05, "0.00001"),
        (date(2026, 2, 28), "2026-02-28"),
        (datetime(2026, 2, 28, 23, 59, 59, 999999), "2026-02-28 23:59:59.999999"),
        (datetime(2026, 3, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))), "2026-02-28 23:30:00"),
        (datetime(2026, 3, 1, tzinfo=UTC), "2026-03-01 00:00:00"),
    ],
)
def test_values_are_written_as_the_loader_reads_them(value: object, text: str) -> None:
    assert csv_text(value) == text


def test_a_value_of_another_type_is_refused_without_showing_it() -> None:
    with pytest.raises(UnsupportedValueError, match=r"^a source value of type bytes$"):
        csv_text(b"secret")


def test_hashes_are_keyed_hmac_sha256_hex_of_the_text() -> None:
    hasher = ValueHasher(KEY)

    assert hasher.hash_text("a@example.org") == (
        hmac.new(KEY, b"a@example.org", hashlib.sha256).hexdigest()
    )
    assert len(hasher.hash_text("é")) == 64
    assert ValueHasher(b"j" * 32).hash_text("a@example.org") != hasher.hash_text("a@example.org")


def test_a_short_hash_key_is_refused() -> None:
    with pytest.raises(HashKeyError, match="the hash key has 31 bytes, at least 32 needed"):
        ValueHasher(b"k" * 31)


class FakeSecrets:
    def __init__(self, response: dict[str, object]) -> None:
        self.response = response

    def get_secret_value(self, SecretId: str) -> dict[str, object]:  # noqa: N803 -- boto3's
        return self.response


def test_the_hash_key_is_the_secret_strings_bytes_or_its_binary() -> None:
    from_string = ValueHasher.from_secret(FakeSecrets({"SecretString": "s" * 40}), "arn")
    from_binary = ValueHasher.from_secret(FakeSecrets({"SecretBinary": b"b" * 32}), "arn")

    assert from_string.hash_text("x") == hmac.new(b"s" * 40, b"x", hashlib.sha256).hexdigest()
    assert from_binary.hash_text("x") == hmac.new(b"b" * 32, b"x", hashlib.sha256).hexdigest()
    with pytest.raises(HashKeyError, match="the hash key secret arn has no value"):
        ValueHasher.from_secret(FakeSecrets({"SecretString": ""}), "arn")


def _part(dataset: Dataset, rows: list[tuple[object, ...]]) -> bytes:
    writer = PartWriter(dataset, ValueHasher(KEY))
    writer.write(rows)
    assert writer.rows == len(rows)
    return writer.finish()


def test_a_part_is_gzip_csv_with_the_source_fields_and_hashed_values() -> None:
    rows = [
        (1, 10, "a@example.org", "head", datetime(2026, 1, 1, 9, 0)),
        (2, 10, None, "", datetime(2026, 1, 1, 9, 0, 0, 5)),
    ]

    body = _part(STAFF, rows)

    text = gzip.decompress(body).decode("utf-8")
    email_hash = hmac.new(KEY, b"a@example.org", hashlib.sha256).hexdigest()
    assert text == (
        "id,school_id,email,role,updated_at\r\n"
        f"1,10,{email_hash},head,2026-01-01 09:00:00\r\n"
        "2,10,,,2026-01-01 09:00:00.000005\r\n"
    )
    assert "a@example.org" not in text


def test_a_part_has_the_same_bytes_whenever_it_is_written() -> None:
    rows = [(1, 2, 3, True, datetime(2026, 1, 1)), (1, 3, 0, False, datetime(2026, 1, 2))]

    body = _part(BOOK_PROGRESS, rows)

    assert body == _part(BOOK_PROGRESS, rows)
    # No name, and time 0, in the gzip header (RFC 1952): bytes 4-7 are the time.
    assert body[3] == 0
    assert body[4:8] == b"\0\0\0\0"
    assert list(csv.reader(io.StringIO(gzip.decompress(body).decode()))) == [
        ["reader_id", "book_id", "pages_read", "finished", "updated_at"],
        ["1", "2", "3", "true", "2026-01-01 00:00:00"],
        ["1", "3", "0", "false", "2026-01-02 00:00:00"],
    ]


def test_a_dataset_with_hashed_columns_needs_a_hasher() -> None:
    with pytest.raises(ValueError, match="maths/staff hashes columns: a hasher is needed"):
        PartWriter(STAFF, None)
    PartWriter(BOOK_PROGRESS, None)


REPLICA = Replica(
    platform="maths",
    name="homework",
    engine="postgres",
    host="homework.abc.eu-west-2.rds.amazonaws.com",
    port=5432,
    database="homework",
    secret_arn="arn:aws:secretsmanager:eu-west-2:111100000001:secret:login",
)


def test_connection_strings_require_verified_tls_on_every_engine() -> None:
    assert replica_connection_string(REPLICA, "reader", "p;w{d}") == (
        "Driver=PostgreSQL Unicode;Server=homework.abc.eu-west-2.rds.amazonaws.com;Port=5432;"
        "Database=homework;Uid=reader;Pwd={p;w{d}}};SSLmode=verify-full;"
        "pqopt={sslrootcert=/opt/etc/rds-ca-bundle.pem};BoolsAsChar=0;"
    )
    mysql = replace(REPLICA, engine="mysql", port=3306, driver="MySQL ODBC 8.4 Unicode Driver")
    assert replica_connection_string(mysql, "reader", "pw") == (
        "Driver=MySQL ODBC 8.4 Unicode Driver;Server=homework.abc.eu-west-2.rds.amazonaws.com;"
        "Port=3306;Database=homework;Uid=reader;Pwd=pw;SSLMODE=VERIFY_IDENTITY;"
        "SSLCA=/opt/etc/rds-ca-bundle.pem;CHARSET=utf8mb4;"
    )
    assert "Driver=MySQL ODBC 8.0 Unicode Driver;" in replica_connection_string(
        replace(REPLICA, engine="mariadb"), "reader", "pw"
    )
    sql_server = replace(REPLICA, engine="sqlserver-ee", port=1433)
    assert replica_connection_string(sql_server, "reader", "pw") == (
        "Driver=ODBC Driver 18 for SQL Server;"
        "Server=tcp:homework.abc.eu-west-2.rds.amazonaws.com,1433;Database=homework;"
        "Uid=reader;Pwd=pw;Encrypt=yes;TrustServerCertificate=no;"
    )


def test_sql_server_datetimeoffset_is_read_as_an_aware_datetime() -> None:
    raw = struct.pack("<6hI2h", 2026, 3, 1, 10, 30, 15, 123456700, -5, -30)

    value = datetimeoffset(raw)

    assert value == datetime(2026, 3, 1, 16, 0, 15, 123456, tzinfo=UTC)
    assert value.utcoffset() == timedelta(hours=-5, minutes=-30)


ENVIRONMENT = {
    "LANDING_BUCKET": "reporting-dev-landing",
    "HASH_KEY_SECRET_ARN": "arn:aws:secretsmanager:eu-west-2:111100000001:secret:hash",
    "REPLICAS": json.dumps(
        {
            "maths": {
                "homework": {
                    "engine": "postgres",
                    "host": REPLICA.host,
                    "port": 5432,
                    "database": "homework",
                    "secret_arn": REPLICA.secret_arn,
                }
            }
        }
    ),
}


def test_settings_read_the_replicas_and_the_overlap() -> None:
    settings = ExtractorSettings.from_environment({**ENVIRONMENT, "OVERLAP_SECONDS": "60"})

    assert settings.landing_bucket == "reporting-dev-landing"
    assert settings.replicas == {"maths": {"homework": REPLICA}}
    assert settings.overlap == timedelta(seconds=60)
    assert ExtractorSettings.from_environment(ENVIRONMENT).overlap == timedelta(seconds=300)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"LANDING_BUCKET": ""}, "environment variable LANDING_BUCKET is required"),
        ({"OVERLAP_SECONDS": "-1"}, "environment variable OVERLAP_SECONDS must be whole seconds"),
        ({"REPLICAS": "{"}, "environment variable REPLICAS is not JSON"),
        ({"REPLICAS": '{"maths": []}'}, "must map platforms to {replica name: replica}"),
        (
            {"REPLICAS": '{"maths": {"homework": {"engine": "oracle-ee"}}}'},
            "REPLICAS: maths.homework.engine must be one of postgres, mysql, mariadb, sqlserver-ee",
        ),
        (
            {"REPLICAS": '{"maths": {"homework": {"engine": "mysql", "password": "x"}}}'},
            "REPLICAS: maths.homework takes only database, driver, engine, host, port, secret_arn",
        ),
        (
            {
                "REPLICAS": json.dumps(
                    {"maths": {"homework": {"engine": "mysql", "host": "h", "database": "d"}}}
                )
            },
            "REPLICAS: maths.homework.secret_arn must be a non-empty string",
        ),
        (
            {
                "REPLICAS": json.dumps(
                    {
                        "maths": {
                            "homework": {
                                "engine": "mysql",
                                "host": "h",
                                "database": "d",
                                "secret_arn": "s",
                                "port": "3306",
                            }
                        }
                    }
                )
            },
            "REPLICAS: maths.homework.port must be a TCP port",
        ),
    ],
)
def test_invalid_settings_name_the_variable(change: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        ExtractorSettings.from_environment({**ENVIRONMENT, **change})
    assert message in str(raised.value)
