"""JSON Schema of every event type: the published contract, kept in the repository."""

import json
from pathlib import Path

from shared.contracts.base import registered_types


def event_schemas() -> dict[str, str]:
    """File name → JSON Schema text, one per event type and version."""
    out = {}
    for model in registered_types().values():
        if model.__module__.startswith("shared.contracts."):
            schema = model.model_json_schema(mode="serialization")
            schema["$id"] = model.dataschema()
            schema["title"] = model.cloud_type()
            out[f"{model.name}.v{model.version}.json"] = json.dumps(schema, indent=2, sort_keys=True,
                                                                  ensure_ascii=False) + "\n"
    return dict(sorted(out.items()))


def write(folder: Path) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.json"):
        stale.unlink()
    for name, text in event_schemas().items():
        (folder / name).write_text(text)
    return list(event_schemas())
