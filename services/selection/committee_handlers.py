"""The committee's sessions (on streams of their own), and the President's decision of a
session's dossiers at once, every one in the transaction that locks the campaign's envelope. (A
dossier's reviewers and reviews are steps on its stream: handlers.on_dossier.)"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4

import asyncpg

from services.selection import envelopes, withdrawals
from services.selection.commands import Decide
from services.selection.domain import SELECTION
from services.selection.sessions import SESSION, Choice, DecideSession, RecordSession
from services.selection.state import SelectionState
from shared.contracts.committee import CommitteeSessionDecided, session_stream
from shared.contracts.selection import Outcome
from shared.kernel.aggregate import run, transact
from shared.kernel.eventstore import EventStore, StoredEvent
from shared.language.actors import Actor
from shared.language.campaigns import Campaign, find
from shared.language.errors import DomainError, Invalid

Campaigns = Mapping[str, Campaign]
NOTHING = Decimal("0.00")


async def record_session(
    pool: asyncpg.Pool,
    store: EventStore,
    campaign: Campaign,
    actor: Actor,
    *,
    title: str,
    held_at: datetime,
    members_present: Sequence[str],
    minutes: str,
    dossier_ids: Sequence[UUID],
    now: datetime,
) -> tuple[UUID, list[StoredEvent]]:
    session_id = uuid4()

    async def body(conn: asyncpg.Connection) -> list[StoredEvent]:
        states: dict[UUID, SelectionState] = {}
        for dossier_id in dossier_ids:
            history = await store.load(conn, str(dossier_id))
            states[dossier_id] = SELECTION.fold(s.event() for s in history)
        withdrawn = frozenset([d for d in dossier_ids if await withdrawals.withdrawn(conn, d)])
        command = RecordSession(
            actor,
            session_id,
            campaign,
            title,
            held_at,
            tuple(dict.fromkeys(m.strip().lower() for m in members_present)),
            minutes,
            states,
            withdrawn,
            now,
        )
        return await run(
            conn,
            store,
            SESSION,
            session_stream(session_id),
            command,
            now=now,
            actor=actor.label(),
            new_stream=True,
        )

    return session_id, await transact(pool, body, session_stream(session_id))


async def decide_session(
    pool: asyncpg.Pool,
    store: EventStore,
    campaigns: Campaigns,
    session_id: UUID,
    actor: Actor,
    *,
    choices: Mapping[UUID, Choice],
    now: datetime,
) -> list[StoredEvent]:
    """The session's decision, then each dossier's in the session's ranking, the envelope
    locked first: all are recorded, or — one dossier refused, the envelope exceeded — none."""
    stream = session_stream(session_id)

    async def body(conn: asyncpg.Connection) -> list[StoredEvent]:
        history = await store.load(conn, stream)
        held = SESSION.fold(s.event() for s in history).held
        granted = (
            await envelopes.lock_campaign(conn, find(campaigns, held.campaign_id))
            if held
            else NOTHING
        )
        command = DecideSession(actor, campaigns, choices, granted, now)
        session = await run(conn, store, SESSION, stream, command, now=now, actor=actor.label())
        decided = session[0].event()
        assert isinstance(decided, CommitteeSessionDecided)
        dossiers: list[StoredEvent] = []
        for d in decided.decisions:
            choice = choices[d.dossier_id]
            withdrawn = await withdrawals.withdrawn(conn, d.dossier_id)
            amount = d.granted_eur if d.outcome is Outcome.selected else None
            decide = Decide(
                actor, d.outcome, amount, choice.motivation, campaigns, granted, withdrawn, now
            )
            try:
                dossiers += await run(
                    conn,
                    store,
                    SELECTION,
                    d.dossier_id,
                    decide,
                    now=now,
                    actor=actor.label(),
                    caused_by=session[0].event_id,
                )
            except Invalid:
                raise
            except DomainError as refusal:
                raise type(refusal)(
                    f"dossier {d.reference}: {refusal.detail}; the whole session is refused, "
                    "none of its dossiers is decided"
                ) from refusal
            granted += d.granted_eur
        await envelopes.follow(conn, [s.event() for s in dossiers])
        return [*session, *dossiers]

    return await transact(pool, body, stream)


async def session_of(pool: asyncpg.Pool, store: EventStore, session_id: UUID) -> list[StoredEvent]:
    """The session's stream, read where it is written (no read model lags behind it)."""
    async with pool.acquire() as conn:
        return await store.load(conn, session_stream(session_id))
