"""Idempotency-Key on command routes (IETF httpapi draft): a retried POST records nothing twice.

A client that retries a command (a timeout on the deadline day) sends the same
`Idempotency-Key`. The first request's record is written in the transaction of its events
(`record`, called by the command runner): the events and the key commit together, or
neither does. A later request with the same key and the same body answers the first answer
and records nothing; with another body it is refused (422 naming the header). Two requests
with one key at the same instant meet on the key's primary key: the second's transaction
waits for the first, finds the key taken, records nothing and answers the first answer.

Keys belong to whoever sent them (role, binding and subject of the token): one actor never
reads another's answer. They are kept `KEPT` after the first request.
"""

import asyncio
import hashlib
import json
import logging
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.kernel import outages
from shared.kernel.eventstore import StoredEvent
from shared.kernel.http import recorded as answer_of
from shared.language.errors import DomainError

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
KEPT = timedelta(hours=24)
ANSWER_WAIT_SECONDS = 2.0  # how long a retry waits for the first request's answer to be kept
# An sf-string of the draft, as clients send them: printable ASCII, a UUID in practice.
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_KEY = re.compile(KEY_PATTERN)

_FIND = """
SELECT fingerprint, status, headers, body, recorded FROM idempotency_keys
WHERE scope = $1 AND key = $2 AND created_at > now() - $3::interval
"""

# With the command's events; waits for a concurrent holder of the key, then finds it taken.
_CLAIM = """
INSERT INTO idempotency_keys (scope, key, fingerprint, recorded) VALUES ($1, $2, $3, $4::jsonb)
ON CONFLICT (scope, key) DO UPDATE SET fingerprint = excluded.fingerprint,
    recorded = excluded.recorded, status = NULL, headers = NULL, body = NULL, created_at = now()
    WHERE idempotency_keys.created_at <= now() - $5::interval
RETURNING 1
"""

_ANSWERED = """
UPDATE idempotency_keys SET status = $3, headers = $4::jsonb, body = $5
WHERE scope = $1 AND key = $2
"""

_PRUNE = "DELETE FROM idempotency_keys WHERE created_at <= now() - $1::interval"


class KeyTaken(DomainError):
    """A concurrent request with the same key recorded first: this one records nothing."""


@dataclass
class Claim:
    scope: str
    key: str
    fingerprint: str
    recorded: bool = False
    taken: bool = False


_claim: ContextVar[Claim | None] = ContextVar("idempotency_claim", default=None)


async def record(conn: asyncpg.Connection, stored: list[StoredEvent]) -> None:
    """In the command's transaction: the key of the request being served, if it has one."""
    claim = _claim.get()
    if claim is None:
        return
    recorded = json.dumps(answer_of(stored)["recorded"])
    if await conn.fetchval(_CLAIM, claim.scope, claim.key, claim.fingerprint, recorded, KEPT):
        claim.recorded = True
        return
    claim.taken = True
    raise KeyTaken(f"another request with {HEADER} {claim.key!r} was recorded first")


async def prune_forever(pool: asyncpg.Pool, every_seconds: float = 3600) -> None:
    """Forget the keys older than KEPT, every hour; an outage only delays it."""
    while True:
        try:
            async with pool.acquire() as conn:
                await conn.execute(_PRUNE, KEPT)
        except outages.DATABASE_AWAY as error:
            log.warning("idempotency keys not pruned (%s); next try in %s s", error, every_seconds)
        await asyncio.sleep(every_seconds)


@dataclass
class _Buffered:
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


class IdempotentCommands:
    """ASGI middleware: POSTs that carry the header are answered once, then replayed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        key = headers.get(HEADER)
        owner = _owner(scope, headers.get("authorization"))
        if key is None or not _KEY.match(key) or owner is None:
            # No key, a malformed one (the route's declared header refuses it), or nobody the
            # services know: served as it comes.
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        fingerprint = hashlib.sha256(
            scope["path"].encode() + b"\n" + (scope.get("query_string") or b"") + b"\n" + body
        ).hexdigest()
        pool: asyncpg.Pool | None = getattr(scope["app"].state.runtime, "pool", None)
        if pool is None:
            await self.app(scope, _replaying(body, receive), send)
            return
        try:
            if await _answer_again(pool, owner, key, fingerprint, send):
                return
        except outages.DATABASE_AWAY:
            await outages.send_unavailable(send)
            return
        claim = Claim(owner, key, fingerprint)
        answer = _Buffered()

        async def keep(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = list(message.get("headers", []))
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")

        token = _claim.set(claim)
        try:
            await self.app(scope, _replaying(body, receive), keep)
        finally:
            _claim.reset(token)
        try:
            if claim.taken and await _answer_again(pool, owner, key, fingerprint, send):
                return
        except outages.DATABASE_AWAY:
            await outages.send_unavailable(send)
            return
        if claim.recorded and 200 <= answer.status < 300:
            try:
                async with pool.acquire() as conn:
                    await conn.execute(
                        _ANSWERED,
                        owner,
                        key,
                        answer.status,
                        json.dumps(_kept_headers(answer.headers)),
                        bytes(answer.body),
                    )
            except outages.DATABASE_AWAY as error:
                # The events and the key are committed: a retry answers from the events.
                log.warning("the answer to %s %r was not kept: %s", HEADER, key, error)
        await send(
            {"type": "http.response.start", "status": answer.status, "headers": answer.headers}
        )
        await send({"type": "http.response.body", "body": bytes(answer.body)})


def _owner(scope: Scope, authorization: str | None) -> str | None:
    """Who the key belongs to: the verified actor of the request, or None."""
    verifier = getattr(scope["app"].state, "verifier", None)
    if verifier is None or not authorization:
        return None
    try:
        actor = verifier.verify(authorization)
    except DomainError:
        return None
    # Kept as a digest: the scope is compared, never read, and the subject is a person's e-mail.
    label: str = actor.label()
    return hashlib.sha256(label.encode()).hexdigest()


_KEPT_HEADERS = {b"content-type", b"location"}


def _kept_headers(headers: list[tuple[bytes, bytes]]) -> list[list[str]]:
    return [
        [k.decode("latin-1"), v.decode("latin-1")] for k, v in headers if k.lower() in _KEPT_HEADERS
    ]


async def _answer_again(
    pool: asyncpg.Pool, owner: str, key: str, fingerprint: str, send: Send
) -> bool:
    """Answer a key already used: its first answer, or a refusal when the body differs."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow(_FIND, owner, key, KEPT)
        # The first request keeps its answer a moment after its commit: a retry sent at the
        # same instant waits for it rather than answer from the events alone.
        waited = 0.0
        while row is not None and row["body"] is None and waited < ANSWER_WAIT_SECONDS:
            await asyncio.sleep(0.05)
            waited += 0.05
            row = await conn.fetchrow(_FIND, owner, key, KEPT)
    if row is None:
        return False
    if row["fingerprint"] != fingerprint:
        reason = (
            f"this {HEADER} was used for another request (another route or body): "
            "a retry sends the same body, a new command a new key"
        )
        body = {
            "error": "invalid",
            "detail": f"{HEADER}: {reason}",
            "errors": [
                {"field": HEADER, "type": "idempotency_key_reused", "reason": reason, "context": {}}
            ],
        }
        await _send_json(send, 422, body, [])
        return True
    if row["body"] is not None:
        kept = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in json.loads(row["headers"])]
        await _send(send, row["status"], bytes(row["body"]), kept)
        return True
    # Recorded, but the first answer was lost (the service or its database stopped between
    # the commit and the answer): the events it recorded say what it did.
    await _send_json(send, 201, {"recorded": json.loads(row["recorded"])}, [])
    return True


async def _send_json(
    send: Send, status: int, body: dict[str, Any], headers: list[tuple[bytes, bytes]]
) -> None:
    data = json.dumps(body, ensure_ascii=False).encode()
    await _send(send, status, data, [(b"content-type", b"application/json"), *headers])


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    replayed = [
        *headers,
        (b"idempotent-replayed", b"true"),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": replayed})
    await send({"type": "http.response.body", "body": body})


async def _read_body(receive: Receive) -> bytes:
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    return bytes(body)


def _replaying(body: bytes, then: Receive) -> Receive:
    """The body read already, then the client's own messages (its disconnection)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await then()

    return receive
