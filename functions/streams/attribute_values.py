"""DynamoDB attribute values, in the JSON form Lambda events and Kinesis records carry, as JSON.

boto3's `TypeDeserializer` does the walking and the numbers (exact `Decimal`s in DynamoDB's
38-digit context); this subclass makes each value ready for JSON as it goes, so one pass does
both: binary stays standard base64 text, sets become sorted lists. It is strict where boto3 is
lenient, since a malformed value here means a poison record, not a programming error.

Imported on first use (see `envelope.py`): importing boto3 costs about 130 ms.
"""

from __future__ import annotations

import base64
import binascii
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer


class JsonAttributeDeserializer(TypeDeserializer):
    """An attribute value -> None, bool, str, Decimal, list or dict; malformed raises ValueError."""

    def deserialize(self, value: Any) -> Any:
        if not isinstance(value, dict) or len(value) != 1:
            raise ValueError(f"not a DynamoDB attribute value (one type, one value): {value!r}")
        try:
            return super().deserialize(value)
        except TypeError as error:
            raise ValueError(str(error)) from None

    def _deserialize_null(self, value: Any) -> None:
        if value is not True:
            raise ValueError(f"NULL must be true, not {value!r}")

    def _deserialize_bool(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"BOOL must be true or false, not {value!r}")
        return value

    def _deserialize_s(self, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"S must be a string, not {value!r}")
        return value

    def _deserialize_n(self, value: Any) -> Decimal:
        if not isinstance(value, str):
            raise ValueError(f"N must be a string of digits, not {value!r}")
        try:
            number = super()._deserialize_n(value)
        except ArithmeticError:
            # The context traps inexact, rounded and out-of-range values as well as bad text.
            raise ValueError(f"{value!r} is not a DynamoDB number") from None
        if not number.is_finite():
            raise ValueError(f"{value!r} is not a DynamoDB number")
        return number

    def _deserialize_b(self, value: Any) -> str:
        return base64.b64encode(_binary(value)).decode("ascii")

    def _deserialize_ss(self, value: Any) -> list[str]:
        return sorted(set(map(self._deserialize_s, _set_members(value))))

    def _deserialize_ns(self, value: Any) -> list[Decimal]:
        return sorted(set(map(self._deserialize_n, _set_members(value))))

    def _deserialize_bs(self, value: Any) -> list[str]:
        members = sorted(set(map(_binary, _set_members(value))))
        return [base64.b64encode(member).decode("ascii") for member in members]

    def _deserialize_l(self, value: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValueError(f"L must be a list, not {value!r}")
        return super()._deserialize_l(value)

    def _deserialize_m(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise ValueError(f"M must be an object, not {value!r}")
        return super()._deserialize_m(value)


def _binary(value: Any) -> bytes:
    if not isinstance(value, str):
        raise ValueError(f"B must be base64 text, not {value!r}")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError(f"B must be base64 text, not {value!r}") from None


def _set_members(value: Any) -> list[Any]:
    # DynamoDB has no empty sets.
    if not isinstance(value, list) or not value:
        raise ValueError(f"a set must be a non-empty list, not {value!r}")
    return value
