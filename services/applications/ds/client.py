"""A client of Démarches Simplifiées' GraphQL API v2 (gql over httpx).

Every document is validated against DS's schema before it is sent (the file in
`AAP_DS_SCHEMA_FILE`, else DS's own by introspection). Queries are retried with back-off on what
passes (a 429, honouring its `Retry-After`; a 5xx; a dropped connection; a timeout); a mutation
is sent once, never retried here: DS keeps no idempotency key, and the write-back reads the
dossier before it tries again (services/applications/ds/writeback.py).
"""

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from functools import cache
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any, Self, TypeVar

from gql import Client, GraphQLRequest
from gql.client import AsyncClientSession
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)
from gql.transport.httpx import HTTPXAsyncTransport
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    Visitor,
    parse,
    visit,
)

from services.applications.ds.settings import DsSettings
from shared.kernel.backoff import Backoff

log = logging.getLogger(__name__)
T = TypeVar("T")

# What DS says when it refuses the token or the caller: no retry helps (docs/ds-bridge.md §1).
_REFUSED = ("Without a token", "Token expired", "forbidden network", "jeton")


class DsError(Exception):
    """DS answered with errors that retrying will not cure."""


class DsRefused(DsError):
    """DS refused the token or the caller: a person must fix the configuration."""


class DsNotFound(DsError):
    """DS does not know the démarche or the dossier asked (or no longer)."""


class DsTimeout(DsError):
    """DS gave up on the query (30 s): ask for less at once."""


class DsUnavailable(DsError):
    """DS did not answer, after every attempt (or, for a mutation, after the only one)."""


# --- the documents: one operation and the fragments it uses, sent alone ---------------------


@cache
def _documents() -> DocumentNode:
    text = resources.files("services.applications.ds").joinpath("documents.graphql").read_text()
    return parse(text)


@cache
def operation(name: str) -> DocumentNode:
    """The operation `name` of documents.graphql with the fragments it spreads, and no other."""
    definitions = _documents().definitions
    fragments = {d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)}
    chosen = [
        d
        for d in definitions
        if isinstance(d, OperationDefinitionNode) and d.name and d.name.value == name
    ]
    if not chosen:
        raise KeyError(f"no operation {name} in services/applications/ds/documents.graphql")
    needed: dict[str, FragmentDefinitionNode] = {}
    todo: list[Any] = list(chosen)
    while todo:
        for spread in _spreads(todo.pop()):
            if spread not in needed:
                needed[spread] = fragments[spread]
                todo.append(fragments[spread])
    return DocumentNode(definitions=(*chosen, *needed.values()))


def _spreads(node: Any) -> set[str]:
    found: set[str] = set()

    class Spreads(Visitor):
        def enter_fragment_spread(self, spread: FragmentSpreadNode, *_: Any) -> None:
            found.add(spread.name.value)

    visit(node, Spreads())
    return found


# --- the client ---------------------------------------------------------------------------------


class DsClient:
    """`async with DsClient(settings, token) as ds: await ds.query("OneDossier", {...})`."""

    def __init__(
        self,
        settings: DsSettings,
        token: str,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not token:
            raise DsRefused(
                "no Démarches Simplifiées token: set AAP_DS_READ_TOKEN (import) or "
                "AAP_DS_WRITE_TOKEN (write-back), created by an administrator of the démarche"
            )
        self.settings = settings
        self._sleep = sleep
        self._transport = HTTPXAsyncTransport(
            url=settings.url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=settings.timeout_seconds,
        )
        schema = Path(settings.schema_file).read_text() if settings.schema_file else None
        self._client = Client(
            transport=self._transport,
            schema=schema,
            fetch_schema_from_transport=schema is None,
            execute_timeout=None,  # the transport's timeout bounds each request
        )
        self._session: AsyncClientSession | None = None
        self._interval = 1 / settings.requests_per_second if settings.requests_per_second else 0
        self._next_at = 0.0
        self.requests = 0

    async def __aenter__(self) -> Self:
        self._session = await self._attempted(
            "connect",
            lambda: self._client.connect_async(reconnecting=False),  # type: ignore[no-untyped-call]
        )
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._client.close_async()  # type: ignore[no-untyped-call]
            self._session = None

    async def query(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The data of query `name`, retried with back-off on what passes."""
        request = GraphQLRequest(operation(name), variable_values=variables, operation_name=name)
        return await self._attempted(name, lambda: self._execute(request))

    async def mutate(self, name: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The data of mutation `name`, sent once: DsUnavailable when no answer came (it may or
        may not have been applied: the caller reads the dossier before trying again)."""
        request = GraphQLRequest(operation(name), variable_values=variables, operation_name=name)
        await self._paced()
        try:
            return await self._execute(request)
        except (TransportServerError, TransportConnectionFailed, TransportProtocolError) as e:
            raise DsUnavailable(f"{name}: {_said(e)}") from e

    async def _execute(self, request: GraphQLRequest) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError("DsClient is used outside `async with`")
        await self._paced()
        self.requests += 1
        try:
            data = await self._session.execute(request)
        except TransportQueryError as e:
            raise _classified(e) from e
        return dict(data)

    async def _attempted(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        backoff = Backoff(f"Démarches Simplifiées ({what})", first=0.5, longest=30.0, logger=log)
        for attempt in range(1, self.settings.attempts + 1):
            try:
                result = await call()
                backoff.succeeded()
                return result
            except (TransportServerError, TransportConnectionFailed, TransportProtocolError) as e:
                if isinstance(e, TransportServerError) and e.code in (401, 403):
                    raise DsRefused(f"Démarches Simplifiées refused the token: {_said(e)}") from e
                if attempt == self.settings.attempts:
                    raise DsUnavailable(
                        f"Démarches Simplifiées did not answer {what} after {attempt} attempts: "
                        f"{_said(e)}"
                    ) from e
                wait = self._retry_after(e) or backoff.failed(e)
                log.info("%s: %s; trying again in %.1f s", what, _said(e), wait)
                await self._sleep(wait)
        raise AssertionError("unreachable")

    def _retry_after(self, error: Exception) -> float | None:
        """The wait DS asks for with a 429 (`Retry-After`, in seconds)."""
        if not isinstance(error, TransportServerError) or error.code != 429:
            return None
        headers = self._transport.response_headers
        value = headers.get("Retry-After") if headers is not None else None
        try:
            return max(0.0, float(value)) if value is not None else 1.0
        except ValueError:
            return 1.0

    async def _paced(self) -> None:
        """At most `requests_per_second`, under DS's limit of 400 a minute per token."""
        if not self._interval:
            return
        now = time.monotonic()
        if self._next_at > now:
            await self._sleep(self._next_at - now)
        self._next_at = max(now, self._next_at) + self._interval


def _classified(error: TransportQueryError) -> DsError:
    errors = error.errors or []
    messages = "; ".join(str(e.get("message", e)) for e in errors) or str(error)
    codes = {(e.get("extensions") or {}).get("code") for e in errors if isinstance(e, dict)}
    if "timeout" in codes:
        return DsTimeout(f"Démarches Simplifiées gave up on the query: {messages}")
    if "not_found" in codes:
        return DsNotFound(messages)
    if "unauthorized" in codes or any(word in messages for word in _REFUSED):
        return DsRefused(f"Démarches Simplifiées refused the token: {messages}")
    return DsError(messages)


def _said(error: Exception) -> str:
    if isinstance(error, TransportServerError) and error.code == 429:
        return "429 Too Many Requests"
    return f"{type(error).__name__}: {str(error)[:200]}"
