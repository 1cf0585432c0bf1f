"""The hash chain of a stream: each event's hash covers its content and the previous hash.

The content is the event's place (stream, version), identity, type, time and payload, and —
for events recorded with them — who acted and what caused it. Events recorded before the
actor was covered keep their hash: `matches` accepts either form, and cannot be fooled into
the older one, since a stored hash commits to the form it was computed with.
"""

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(
    prev_hash: str,
    *,
    stream_id: str,
    version: int,
    event_id: str,
    event_type: str,
    occurred_at: str,
    data: dict[str, Any],
    actor: str | None = None,
    causation_id: str | None = None,
) -> str:
    content: dict[str, Any] = {
        "stream_id": stream_id,
        "version": version,
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": occurred_at,
        "data": data,
    }
    if actor is not None or causation_id is not None:
        content["actor"] = actor
        content["causation_id"] = causation_id
    return hashlib.sha256(prev_hash.encode() + canonical(content)).hexdigest()


def matches(
    stored_hash: str,
    prev_hash: str,
    *,
    stream_id: str,
    version: int,
    event_id: str,
    event_type: str,
    occurred_at: str,
    data: dict[str, Any],
    actor: str | None = None,
    causation_id: str | None = None,
) -> bool:
    """Whether `stored_hash` is the link of this content (with or without its actor)."""

    def linked(actor: str | None, causation_id: str | None) -> bool:
        return stored_hash == link(
            prev_hash,
            stream_id=stream_id,
            version=version,
            event_id=event_id,
            event_type=event_type,
            occurred_at=occurred_at,
            data=data,
            actor=actor,
            causation_id=causation_id,
        )

    if linked(actor, causation_id):
        return True
    return (actor is not None or causation_id is not None) and linked(None, None)
