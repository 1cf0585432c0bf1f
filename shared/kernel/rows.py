"""A database row as the services' JSON says it: amounts "1234.50", aware times in ISO 8601."""

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID


def plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


def as_json(row: Mapping[str, Any], json_columns: Iterable[str] = ()) -> dict[str, Any]:
    """Every column plain; the JSON columns named read back into values."""
    out = {name: plain(value) for name, value in row.items()}
    for name in json_columns:
        if isinstance(out.get(name), str):
            out[name] = json.loads(out[name])
    return out
