"""What a route receives, each on its own: the actor, the database, the store, the campaigns, the
clock."""

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BeforeValidator

from shared.kernel.auth import TokenVerifier, Unauthenticated
from shared.kernel.blobs import Blobs
from shared.kernel.eventstore import EventStore
from shared.kernel.runtime import Runtime
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign
from shared.language.errors import Forbidden

_bearer = HTTPBearer(
    auto_error=False, description="a JWT naming a role (and its SIREN or département)"
)


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def actor_of(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """The authenticated actor of a request; 401 with the reason when there is none."""
    verifier: TokenVerifier | None = getattr(request.app.state, "verifier", None)
    if verifier is None:
        raise Unauthenticated("this service has no key to verify tokens")
    header = (
        f"Bearer {credentials.credentials}" if credentials else request.headers.get("Authorization")
    )
    return verifier.verify(header)


async def agent_or_applicant(actor: Annotated[Actor, Depends(actor_of)]) -> Actor:
    """Every route's actor but the committee's: a committee member acts only through the routes
    written for them (ReviewerDep), so that no list or dossier route, reading its binding as
    "everything", ever shows them what their declarations of interests have not opened."""
    if actor.role is Role.reviewer:
        raise Forbidden(
            "a committee member may not use this route: reviewers read and score the dossiers "
            "they review through the committee's routes (/reviews)"
        )
    return actor


def pool_of(request: Request) -> asyncpg.Pool:
    return _runtime(request).db()


def store_of(request: Request) -> EventStore:
    return _runtime(request).store


def campaigns_of(request: Request) -> Mapping[str, Campaign]:
    return _runtime(request).campaigns


def clock_of(request: Request) -> Callable[[], datetime]:
    return _runtime(request).clock


def blobs_of(request: Request) -> Blobs:
    return _runtime(request).blobs


ActorDep = Annotated[Actor, Depends(agent_or_applicant)]
ReviewerDep = Annotated[Actor, Depends(actor_of)]  # any role: the committee's routes say which
PoolDep = Annotated[asyncpg.Pool, Depends(pool_of)]
StoreDep = Annotated[EventStore, Depends(store_of)]
CampaignsDep = Annotated[Mapping[str, Campaign], Depends(campaigns_of)]
ClockDep = Annotated[Callable[[], datetime], Depends(clock_of)]
BlobsDep = Annotated[Blobs, Depends(blobs_of)]


# --- parameters of the routes, as exact as their documents say ------------------------------

CAMPAIGN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
CampaignId = Annotated[
    str, Path(pattern=CAMPAIGN_ID_PATTERN, description="a campaign's id, e.g. demo")
]
CampaignFilter = Annotated[
    str | None, Query(pattern=CAMPAIGN_ID_PATTERN, description="only this campaign's")
]


def _written_instant(value: Any) -> Any:
    """An instant is written in ISO 8601 with its offset, never a number of seconds."""
    if not isinstance(value, str) or not value[:4].isdigit() or "T" not in value:
        raise ValueError(
            "an instant in ISO 8601 with its UTC offset, e.g. 2024-06-20T10:00:00+02:00"
        )
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_written_instant)]
