"""JSON Schema of every event type and version: the published contract, kept in the repository."""

import copy
import json
from pathlib import Path
from typing import Any

from shared.contracts.base import DomainEvent
from shared.contracts.publishers import PUBLISHED_BY, in_the_log

# A person's value on the wire, sealed under their key (shared.personal.sealing).
SEALED = {
    "type": "string",
    "pattern": "^aap-sealed:1:[0-9a-f-]{36}:(name|email):[A-Za-z0-9_-]+$",
    "title": "Sealed",
    "description": "a person's data, sealed under their own key (AES-256-GCM): "
    "aap-sealed:1:<person id>:<kind>:<base64url of nonce, ciphertext and tag>. "
    "Readable only through aap; unreadable for good once the person's data is erased "
    "(docs/personal-data.md)",
}

# Where only an e-mail is sealed: a subject that is no e-mail (an agent's id) stays in clear.
CLEAR_ID = {
    "type": "string",
    "pattern": "^[^@]+$",
    "description": "a subject that is not an e-mail (an agent's id): it names nobody outside aap",
}


def event_schema(model: type[DomainEvent]) -> dict[str, Any]:
    """The JSON Schema of the payload as published (money as strings: the serialized form),
    the people it names sealed."""
    schema = model.model_json_schema(mode="serialization")
    for person in model.personal:
        leaves = [] if person.email is None else [k for k in (person.email, person.name) if k]
        _seal(schema, schema, person.at.split("."), leaves, person.only_emails)
    schema["$id"] = model.dataschema()
    schema["title"] = model.cloud_type()
    return schema


def _resolved(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The node, its `$ref` inlined: a shared definition stays clear where it is not sealed."""
    while "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        node = copy.deepcopy(root["$defs"][name])
    return node


def _seal(
    root: dict[str, Any],
    node: dict[str, Any],
    steps: list[str],
    leaves: list[str],
    only_emails: bool = False,
) -> None:
    """Replace, along the path, the sealed values' schemas (a node of free shape stays free)."""
    step, rest = steps[0], steps[1:]
    properties = node.get("properties", {})
    key = step.removesuffix("[]")
    if key not in properties:
        return
    child = properties[key] = _resolved(root, properties[key])
    if step.endswith("[]"):
        if "items" not in child:
            return
        holder, slot = child, "items"
    else:
        holder, slot = properties, key
    target = holder[slot] = _resolved(root, holder[slot])
    if rest:
        _seal(root, target, rest, leaves, only_emails)
    elif only_emails:
        holder[slot] = {"anyOf": [dict(SEALED), CLEAR_ID]}
    elif not leaves:
        holder[slot] = dict(SEALED)
    else:
        for leaf in leaves:
            if leaf in target.get("properties", {}):
                target["properties"][leaf] = dict(SEALED)


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
