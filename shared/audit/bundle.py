"""A dossier's history as one self-contained JSON document, verified offline, without a database.

The bundle holds every event with its place in its stream's chain, each stream's head hash,
and the SHA-256 of the canonical JSON of all of it: one changed byte breaks the digest, and
the chain says which event (stream, version) it touched.
"""

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from shared.audit.chain import Break, verify_chain
from shared.audit.events import AuditEvent, short_type
from shared.contracts import UnknownEventType, event_model
from shared.kernel import hashchain

FORMAT = "aap-audit-bundle/1"


def _digest(body: Mapping[str, Any]) -> str:
    return hashlib.sha256(hashchain.canonical(body)).hexdigest()


def export_bundle(
    history: Sequence[AuditEvent], dossier_id: UUID, exported_at: datetime
) -> dict[str, Any]:
    heads: dict[tuple[str, str], AuditEvent] = {}
    for event in history:
        key = (event.service, event.stream_id)
        if key not in heads or heads[key].version < event.version:
            heads[key] = event
    body = {
        "format": FORMAT,
        "dossier_id": str(dossier_id),
        "exported_at": exported_at.isoformat(),
        "events": [e.as_json() for e in history],
        "streams": [
            {"service": s, "stream_id": i, "versions": e.version, "head_hash": e.hash}
            for (s, i), e in sorted(heads.items())
        ],
    }
    return {**body, "digest": {"algorithm": "sha256", "value": _digest(body)}}


def verify_bundle(bundle: Any) -> list[Break]:
    """Every break of the bundle: its digest, each event's link, each stream's head."""
    if not isinstance(bundle, dict) or bundle.get("format") != FORMAT:
        return [Break("bundle", "", 0, "unreadable", f"not a bundle of format {FORMAT}")]
    body = {k: v for k, v in bundle.items() if k != "digest"}
    digest = bundle.get("digest")
    breaks = (
        []
        if isinstance(digest, dict) and digest.get("value") == _digest(body)
        else [Break("bundle", "", 0, "digest", "the bundle's content no longer matches its digest")]
    )
    streams: dict[tuple[str, str], list[AuditEvent]] = {}
    for raw in _list(bundle.get("events")):
        try:
            event = AuditEvent.from_json(raw)
        except (KeyError, ValueError, TypeError, AttributeError) as error:
            where = raw if isinstance(raw, dict) else {}
            breaks.append(
                Break(
                    str(where.get("service", "?")),
                    str(where.get("stream_id", "?")),
                    _int(where.get("version")),
                    "unreadable",
                    f"not an event: {error}",
                )
            )
            continue
        breaks += _inconsistencies(event)
        streams.setdefault((event.service, event.stream_id), []).append(event)
    for events in streams.values():
        breaks += verify_chain(events)
    return breaks + _heads(bundle.get("streams"), streams)


def _inconsistencies(event: AuditEvent) -> list[Break]:
    """What the hash does not cover is derived from what it does: the two must agree."""
    found = []
    if event.type != short_type(event.cloud_type):
        found.append(f"its type {event.type!r} is not its CloudEvents type {event.cloud_type!r}")
    try:
        service = event_model(event.cloud_type).__module__.removeprefix("shared.contracts.")
        if "." not in service and service != event.service:
            found.append(f"a {event.type} is recorded by {service}, not by {event.service}")
    except UnknownEventType:
        pass
    return [Break(event.service, event.stream_id, event.version, "changed", f) for f in found]


def _heads(declared: Any, streams: Mapping[tuple[str, str], list[AuditEvent]]) -> list[Break]:
    breaks, heads = [], {}
    for raw in _list(declared):
        key = (
            (str(raw.get("service")), str(raw.get("stream_id")))
            if isinstance(raw, dict)
            else ("?", "?")
        )
        heads[key] = raw if isinstance(raw, dict) else {}
    for key in sorted(set(heads) | set(streams)):
        events, head = streams.get(key, []), heads.get(key)
        last = max(events, key=lambda e: e.version) if events else None
        if head is None:
            breaks.append(Break(*key, 0, "head", "a stream the bundle does not declare"))
        elif last is None or last.version < _int(head.get("versions")):
            end = last.version if last else 0
            breaks.append(
                Break(
                    *key,
                    end + 1,
                    "missing",
                    f"the stream's head is version "
                    f"{head.get('versions')}, its events end at version {end}",
                )
            )
        elif head.get("head_hash") != last.hash or head.get("versions") != last.version:
            breaks.append(
                Break(*key, last.version, "head", "the declared head is not the last event")
            )
    return breaks


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0
