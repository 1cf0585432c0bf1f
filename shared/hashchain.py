"""The hash chain of a stream: each event's hash covers its content and the previous hash."""

import hashlib
import json
from typing import Any

GENESIS = "0" * 64


def canonical(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(prev_hash: str, *, stream_id: str, version: int, event_id: str, event_type: str,
         occurred_at: str, data: dict[str, Any]) -> str:
    body = canonical(
        {
            "stream_id": stream_id,
            "version": version,
            "event_id": event_id,
            "event_type": event_type,
            "occurred_at": occurred_at,
            "data": data,
        }
    )
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()
