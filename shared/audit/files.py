"""The files a store's events name, checked against their bytes: an attachment's event carries
its SHA-256 (covered by the hash chain), its bytes are kept apart (shared/kernel/blobs.py); a
byte changed after the event, or lost, is a break of the record as a changed event is."""

from collections.abc import Iterable
from typing import Any

import asyncpg

from shared.audit.chain import Break
from shared.kernel.blobs import Blobs, PostgresBlobs, sha256_of
from shared.kernel.eventstore import StoredEvent


def named_file(data: dict[str, Any]) -> dict[str, Any] | None:
    """The attachment an event names (its `attachment`), or None."""
    attachment = data.get("attachment")
    if isinstance(attachment, dict) and isinstance(attachment.get("sha256"), str):
        return attachment
    return None


async def file_breaks(
    conn: asyncpg.Connection,
    service: str,
    stored: Iterable[StoredEvent],
    blobs: Blobs | None = None,
) -> list[Break]:
    """Each file named by these events whose bytes are not those recorded, or are gone."""
    blobs = blobs or PostgresBlobs()
    breaks = []
    for event in stored:
        attachment = named_file(event.data)
        if attachment is None:
            continue
        content = await blobs.get(conn, attachment["sha256"])
        if content is None or sha256_of(content) != attachment["sha256"]:
            what = "file_missing" if content is None else "file_altered"
            breaks.append(
                Break(
                    service,
                    event.stream_id,
                    event.version,
                    what,
                    f"the bytes of {attachment.get('name')!r} are not those its event recorded "
                    f"(SHA-256 {attachment['sha256']})",
                )
            )
    return breaks
