"""The price table: a dated YAML file of one region's list prices, each with its unit and the
pricing page it comes from. Loaded and validated once; a missing price names its key."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

PRICE_TABLE = Path(__file__).resolve().parent / "prices-eu-west-2.yaml"
CURRENCY = "USD"
_PRICE_FIELDS = frozenset({"usd", "per", "unit", "source"})


class PriceTableError(ValueError):
    """The price table cannot be used; the message names the file and the key."""


class MissingPriceError(PriceTableError):
    """A rule asked for a price the table does not hold."""

    def __init__(self, table: str, key: str) -> None:
        super().__init__(f"{table} has no price {key}")
        self.key = key


@dataclass(frozen=True)
class Price:
    """`usd` for every `per` `unit` (0.20 USD per 1,000,000 requests), from `source`."""

    key: str
    usd: float
    per: int
    unit: str
    source: str

    @property
    def service(self) -> str:
        """The first part of the key (`rds`, `lambda`, ...)."""
        return self.key.split("/", 1)[0]

    def cost(self, quantity: float) -> float:
        return quantity * self.usd / self.per


@dataclass(frozen=True)
class PriceTable:
    name: str
    region: str
    currency: str
    effective: date
    services: dict[str, str]
    prices: dict[str, Price]

    def price(self, key: str) -> Price:
        """The price at `key`; MissingPriceError names the key when the table lacks it."""
        try:
            return self.prices[key]
        except KeyError:
            raise MissingPriceError(self.name, key) from None

    def require(self, keys: Iterable[str]) -> None:
        """Fail, naming the first absent key, unless every one of `keys` has a price."""
        for key in keys:
            self.price(key)

    def service_name(self, service: str) -> str:
        return self.services.get(service, service)


def load_price_table(path: Path = PRICE_TABLE) -> PriceTable:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as problem:
        raise PriceTableError(f"{path.name}: {problem}") from None
    return parse_price_table(path.name, document)


def parse_price_table(name: str, document: Any) -> PriceTable:
    """A PriceTable from the YAML document of file `name`; PriceTableError names the bad key."""

    def fail(key: str, message: str) -> PriceTableError:
        return PriceTableError(f"{name}: {key}: {message}")

    if not isinstance(document, Mapping):
        raise PriceTableError(f"{name}: must be a YAML mapping")
    for key in ("region", "currency", "effective", "sources", "services", "prices"):
        if key not in document:
            raise fail(key, "is required")
    if document["currency"] != CURRENCY:
        raise fail("currency", f"must be {CURRENCY}, not {document['currency']!r}")
    effective = document["effective"]
    if not isinstance(effective, date):
        raise fail("effective", "must be a date YYYY-MM-DD (the day the prices were read)")
    sources = _mapping(document["sources"], "sources", fail)
    for source, url in sources.items():
        if not isinstance(url, str) or not url.startswith("https://aws.amazon.com/"):
            raise fail(f"sources/{source}", "must be an https://aws.amazon.com/ pricing page")
    services = {str(k): str(v) for k, v in _mapping(document["services"], "services", fail).items()}
    prices: dict[str, Price] = {}
    for key, entry in _leaves(_mapping(document["prices"], "prices", fail), "", fail):
        if key.split("/", 1)[0] not in services:
            raise fail(f"prices/{key}", "its first part is not one of `services`")
        prices[key] = _price(key, entry, sources, fail)
    return PriceTable(
        name=name,
        region=str(document["region"]),
        currency=CURRENCY,
        effective=effective,
        services=services,
        prices=prices,
    )


def _mapping(value: Any, key: str, fail) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not value:
        raise fail(key, "must be a non-empty mapping")
    return value


def _leaves(tree: Mapping[str, Any], prefix: str, fail) -> Iterable[tuple[str, Mapping]]:
    """(key path, entry) for every price: a mapping with a price's fields ends a path."""
    for part, value in tree.items():
        key = f"{prefix}{part}"
        if isinstance(value, Mapping) and _PRICE_FIELDS & set(value):
            yield key, value
        else:
            yield from _leaves(_mapping(value, f"prices/{key}", fail), f"{key}/", fail)


def _price(key: str, entry: Mapping[str, Any], sources: Mapping[str, str], fail) -> Price:
    where = f"prices/{key}"
    unknown = set(entry) - _PRICE_FIELDS
    if unknown:
        raise fail(where, f"unknown field(s) {', '.join(sorted(unknown))}")
    if "usd" not in entry:
        raise fail(where, "has no usd")
    usd = entry["usd"]
    if isinstance(usd, bool) or not isinstance(usd, (int, float)) or usd < 0:
        raise fail(where, "usd must be a number >= 0")
    per = entry.get("per", 1)
    if isinstance(per, bool) or not isinstance(per, int) or per < 1:
        raise fail(where, "per must be a whole number >= 1")
    unit = entry.get("unit")
    if not isinstance(unit, str) or not unit.strip():
        raise fail(where, "has no unit")
    source = entry.get("source")
    if source is None:
        raise fail(where, "has no source (the pricing page it comes from)")
    if source not in sources:
        raise fail(where, f"source {source!r} is not one of `sources`")
    return Price(key=key, usd=float(usd), per=per, unit=unit, source=sources[source])
