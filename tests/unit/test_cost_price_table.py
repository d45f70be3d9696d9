"""The price table and the volumes file: every price dated, with a unit and a source; every
price the rules and the sample stacks need is there; a missing or malformed entry is named."""

from __future__ import annotations

import copy

import pytest
import yaml
from stack_helpers import ALL_STACKS, parsed_config

from offline.cost.prices import (
    PRICE_TABLE,
    MissingPriceError,
    PriceTableError,
    load_price_table,
    parse_price_table,
)
from offline.cost.rules import FIXED_PRICES
from offline.cost.volumes import VOLUMES, VolumesError, load_volumes, parse_volumes
from stack_config import HubConfig


def real_document() -> dict:
    return yaml.safe_load(PRICE_TABLE.read_text(encoding="utf-8"))


def test_the_table_is_dated_usd_for_its_region_and_every_price_has_unit_and_source():
    table = load_price_table()

    assert (table.region, table.currency) == ("eu-west-2", "USD")
    assert table.effective.isoformat() == str(real_document()["effective"])
    assert table.prices
    for price in table.prices.values():
        assert price.unit.strip(), price.key
        assert price.source.startswith("https://aws.amazon.com/"), price.key
        assert price.usd > 0 and price.per >= 1, price.key


def test_the_table_holds_every_fixed_price_and_each_sample_database_class():
    table = load_price_table()
    table.require(FIXED_PRICES)
    for stack in ALL_STACKS:
        config = parsed_config(stack)
        if isinstance(config, HubConfig):
            databases = [(config.database.engine, config.database.instance_class)]
        else:
            databases = [(d.engine, d.instance_class) for d in config.platform.databases]
        for engine, instance_class in databases:
            table.price(f"rds/instance-hour/{engine}/{instance_class}")


def test_a_missing_price_is_named():
    table = load_price_table()
    with pytest.raises(MissingPriceError) as raised:
        table.require([*FIXED_PRICES, "rds/instance-hour/postgres/db.x9.huge"])
    assert raised.value.key == "rds/instance-hour/postgres/db.x9.huge"
    assert str(raised.value) == (
        "prices-eu-west-2.yaml has no price rds/instance-hour/postgres/db.x9.huge"
    )


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("unit", "prices/lambda/requests: has no unit"),
        ("source", "prices/lambda/requests: has no source"),
        ("usd", "prices/lambda/requests: has no usd"),
    ],
)
def test_a_price_without_amount_unit_or_source_fails_naming_its_key(field, message):
    document = copy.deepcopy(real_document())
    del document["prices"]["lambda"]["requests"][field]
    with pytest.raises(PriceTableError, match=message):
        parse_price_table("prices.yaml", document)


def test_undated_or_foreign_currency_or_unknown_source_tables_fail():
    for change, message in [
        (lambda d: d.update(effective="soon"), "effective: must be a date"),
        (lambda d: d.update(currency="GBP"), "currency: must be USD"),
        (
            lambda d: d["prices"]["kms"]["key-month"].update(source="blog"),
            "prices/kms/key-month: source 'blog' is not one of `sources`",
        ),
        (
            lambda d: d["sources"].update(kms="http://example.com/"),
            "sources/kms: must be an https://aws.amazon.com/ pricing page",
        ),
    ]:
        document = copy.deepcopy(real_document())
        change(document)
        with pytest.raises(PriceTableError, match=message):
            parse_price_table("prices.yaml", document)


def test_the_volumes_file_loads_and_names_a_missing_key():
    volumes = load_volumes()
    assert volumes.function("loader")[1] is False
    assert volumes.function("not-a-kind") == (volumes.default_function, True)

    document = yaml.safe_load(VOLUMES.read_text(encoding="utf-8"))
    del document["streams"]["averageRecordKb"]
    with pytest.raises(VolumesError, match=r"volumes.yaml: streams.averageRecordKb is required"):
        parse_volumes("volumes.yaml", document)
    document["streams"]["averageRecordKb"] = -1
    with pytest.raises(VolumesError, match="must be a number >= 0"):
        parse_volumes("volumes.yaml", document)
