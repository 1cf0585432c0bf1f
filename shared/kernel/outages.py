"""The database is away: which failures say so, and the 503 that tells a client to come back.

Every service answers a request it cannot serve for want of PostgreSQL with 503, a JSON body
and `Retry-After`, never a plain-text 500. A command whose transaction committed just before
the database went away may still answer 503: its client retries with its Idempotency-Key and
gets the first answer, with nothing recorded twice.
"""

import json
from typing import Any

import asyncpg
from starlette.types import Send

# Failures of the connection, not of the request.
DATABASE_AWAY: tuple[type[Exception], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # a connection broken in the middle of an exchange (the server went away as it answered)
    asyncpg.InternalClientError,
)

RETRY_AFTER_SECONDS = 5


def unavailable_body(error: BaseException | None = None) -> dict[str, Any]:
    detail = "the service's database does not answer; try again in a few seconds"
    return {"error": "unavailable", "reason": "DatabaseUnavailable", "detail": detail}


def headers() -> dict[str, str]:
    return {"Retry-After": str(RETRY_AFTER_SECONDS)}


async def send_unavailable(send: Send) -> None:
    """The 503 at the ASGI level, for middleware that meets the outage before any route."""
    body = json.dumps(unavailable_body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"retry-after", str(RETRY_AFTER_SECONDS).encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
