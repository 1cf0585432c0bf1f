"""JSON Schema of every event type and version: the published contract, kept in the repository."""

import json
from pathlib import Path
from typing import Any

from shared.contracts.base import DomainEvent
from shared.contracts.publishers import PUBLISHED_BY, in_the_log


def event_schema(model: type[DomainEvent]) -> dict[str, Any]:
    """The JSON Schema of the payload as published (money as strings: the serialized form)."""
    schema = model.model_json_schema(mode="serialization")
    schema["$id"] = model.dataschema()
    schema["title"] = model.cloud_type()
    return schema


def event_schemas() -> dict[str, str]:
    """File name → JSON Schema text, one per event type and version."""
    out = {}
    for service in PUBLISHED_BY:
        for model in in_the_log(service):
            text = json.dumps(event_schema(model), indent=2, sort_keys=True, ensure_ascii=False)
            out[f"{model.name}.v{model.version}.json"] = text + "\n"
    return dict(sorted(out.items()))


def write(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    schemas = event_schemas()
    for stale in folder.glob("*.json"):
        stale.unlink()
    for name, text in schemas.items():
        (folder / name).write_text(text)
    return list(schemas)
