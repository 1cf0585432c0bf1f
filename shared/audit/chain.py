"""Tamper evidence: recompute each stream's hash chain and say where, and how, it breaks."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.audit.events import AuditEvent
from shared.kernel import hashchain


@dataclass(frozen=True)
class Break:
    """Where a chain breaks: the stream, the position (version), and what was done there.

    what: "changed" (the event's content or hash no longer match), "missing" (versions
    absent), "reordered" (an intact event found at another version than it was written as),
    "unchained" (an event published without its place in the chain), or, for a bundle,
    "digest" / "unreadable" / "head".
    """

    service: str
    stream_id: str
    version: int
    what: str
    detail: str

    def as_json(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "stream_id": self.stream_id,
            "version": self.version,
            "what": self.what,
            "detail": self.detail,
        }


def verify_chain(events: Sequence[AuditEvent]) -> list[Break]:
    """Check one stream from its first version: every link recomputed, every version there."""
    if not events:
        return []
    ordered = sorted(events, key=lambda e: e.version)
    service, stream_id = ordered[0].service, ordered[0].stream_id

    def broken(version: int, what: str, detail: str) -> Break:
        return Break(service, stream_id, version, what, detail)

    if ordered[0].version == 0:
        return [broken(0, "unchained", "published before events carried their place in the chain")]
    versions = range(1, ordered[-1].version + 2)
    breaks: list[Break] = []
    expected_version, expected_prev, previous_links = 1, hashchain.GENESIS, True
    for event in ordered:
        if event.version < expected_version:
            breaks.append(
                broken(event.version, "reordered", f"a second event claims version {event.version}")
            )
            continue
        gap = event.version > expected_version
        if gap:
            last = event.version - 1
            span = (
                f"version {last}"
                if last == expected_version
                else f"versions {expected_version}–{last}"
            )
            breaks.append(
                broken(
                    expected_version,
                    "missing",
                    f"{span} absent: the stream goes on at version {event.version}",
                )
            )
        links = event.links()
        if not links:
            written_as = event.written_as(v for v in versions if v != event.version)
            breaks.append(
                broken(
                    event.version,
                    "changed",
                    f"{event.type} {event.event_id} no longer matches its hash",
                )
                if written_as is None
                else broken(
                    event.version,
                    "reordered",
                    f"{event.type} {event.event_id} was written as version {written_as}",
                )
            )
        elif event.prev_hash != expected_prev and not gap and previous_links:
            # The event is intact but chained to another hash: its predecessor was rewritten.
            breaks.append(
                broken(1, "changed", "the first event is not chained to the stream's start")
                if event.version == 1
                else broken(
                    event.version - 1,
                    "changed",
                    f"rewritten and re-hashed: version {event.version} was chained to "
                    f"{event.prev_hash[:12]}…, version {event.version - 1} hashes to "
                    f"{expected_prev[:12]}…",
                )
            )
        expected_version, expected_prev, previous_links = event.version + 1, event.hash, links
    return breaks


def verify_streams(events: Iterable[AuditEvent]) -> list[Break]:
    """Every stream among `events` (a dossier's history), each checked from its first version."""
    streams: dict[tuple[str, str], list[AuditEvent]] = {}
    for event in events:
        streams.setdefault((event.service, event.stream_id), []).append(event)
    return [b for stream in streams.values() for b in verify_chain(stream)]
