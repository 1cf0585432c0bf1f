"""A file sent to a service (multipart/form-data), checked before anything is kept, and a file
given back after its bytes were checked against the hash its event recorded.

Accepted by content, not by name: the type is read from the bytes (shared/language/attachments),
a declared type that differs is refused, as are a name with a path, an empty file and one over
the call's limit. Each refusal is a 422 naming the field `file`, and nothing is stored.
"""

import base64
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import quote
from uuid import uuid4

import asyncpg
from fastapi import UploadFile
from fastapi.responses import Response

from shared.contracts import DomainEvent
from shared.contracts.values import Attachment
from shared.kernel.aggregate import Then
from shared.kernel.blobs import Blobs, sha256_of
from shared.language.attachments import (
    ACCEPTED,
    UNSAID,
    AttachmentKind,
    declared_type,
    detected_type,
    name_problem,
)
from shared.language.errors import DomainError, invalid


class AttachmentAltered(DomainError):
    """The stored bytes are not those the event recorded: nothing is given, the audit says so."""

    status = 409
    code = "altered"


@dataclass(frozen=True)
class Received:
    name: str
    media_type: str
    content: bytes
    sha256: str

    @property
    def size(self) -> int:
        return len(self.content)

    def attachment(self, kind: AttachmentKind) -> Attachment:
        """What the event says of the file: a new id, its name, type, size and hash."""
        return Attachment(
            attachment_id=uuid4(),
            kind=kind,
            name=self.name,
            media_type=self.media_type,
            size=self.size,
            sha256=self.sha256,
        )

    def kept(self, blobs: Blobs) -> Then:
        """The bytes kept in the transaction of the event that names them (none recorded on a
        retry, none kept)."""

        async def keep(conn: asyncpg.Connection, events: Sequence[DomainEvent]) -> None:
            if events:
                await blobs.put(conn, self.sha256, self.content)

        return keep


async def receive(upload: UploadFile, max_bytes: int, field: str = "file") -> Received:
    """The file, once it passed every rule; else a 422 naming the rule it broke."""
    name = (upload.filename or "").strip()
    problem = name_problem(name)
    if problem is not None:
        raise invalid(field, "file_name_invalid", problem)
    content = await upload.read(max_bytes + 1)
    if not content:
        raise invalid(field, "file_empty", "the file is empty")
    if len(content) > max_bytes:
        raise invalid(
            field,
            "file_too_large",
            f"a file is at most {max_bytes:,} bytes in this call".replace(",", " "),
            max_bytes=max_bytes,
        )
    media = detected_type(content)
    if media not in ACCEPTED:
        accepted = ", ".join(ACCEPTED.values())
        raise invalid(
            field,
            "file_type_not_accepted",
            f"its content is {media or 'of no type this call accepts'}: accepted {accepted}",
            detected=media or "unknown",
        )
    declared = declared_type(upload.content_type)
    if declared not in UNSAID and declared != media:
        raise invalid(
            field,
            "file_type_mismatch",
            f"the file is declared {declared} but its content is {media}",
            declared=declared,
            detected=media,
        )
    return Received(name, media, content, sha256_of(content))


def given_back(content: bytes | None, *, name: str, media_type: str, sha256: str) -> Response:
    """The file as its event recorded it, or a refusal when its bytes were altered or lost."""
    if content is None or sha256_of(content) != sha256:
        raise AttachmentAltered(
            f"the stored bytes of {name!r} are not those recorded (SHA-256 {sha256}): "
            "the file is not given; the stream's audit reports it"
        )
    digest = base64.b64encode(hashlib.sha256(content).digest()).decode()
    fallback = name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{fallback}"; '
            f"filename*=UTF-8''{quote(name)}",
            "Repr-Digest": f"sha-256=:{digest}:",  # RFC 9530: the client can check it too
            "X-Content-Type-Options": "nosniff",
        },
    )
