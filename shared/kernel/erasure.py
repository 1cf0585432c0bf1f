"""A person's data erased at their request: their key destroyed, then the erasure announced.

The vault and the applications' store are two databases: the key goes first (from then on
nothing sealed under it is readable, whatever happens next), then `PersonalDataErased` is
appended to applications' store, whose relay publishes it and every service rewrites what it
keeps of the person's dossiers; the person's lookup goes last. An erasure cut short between
the two is found again by the same e-mail and announced.
"""

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from shared.contracts.personal import PersonalDataErased
from shared.kernel import hashchain, topics
from shared.kernel.eventstore import EventStore
from shared.kernel.settings import Settings
from shared.personal import vault

ACTOR = "system:personal-data"  # the administrator's command, on the DPO's request


@dataclass(frozen=True)
class Announced:
    person_id: UUID
    streams: list[str]
    new: bool  # False: announced already by an erasure cut short before it forgot the lookup


async def erase(settings: Settings, email: str, now: datetime) -> list[Announced]:
    """Erase the person known by `email` (as the administrator); nothing when none is known."""
    keys = await asyncpg.connect(settings.admin_dsn(vault.VAULT))
    try:
        erased = await vault.erase(keys, email)
        announced = [await _announce(settings, e, now) for e in erased]
        for e in erased:
            await vault.forget(keys, e.person_id)
    finally:
        await keys.close()
    return announced


async def _announce(settings: Settings, erased: vault.Erased, now: datetime) -> Announced:
    store = EventStore(
        source="/aap/applications", topic=topics.events_topic(settings.topic_prefix, "applications")
    )
    stream = str(erased.person_id)
    conn = await asyncpg.connect(settings.admin_dsn("applications"))
    try:
        async with conn.transaction():
            history = await store.load(conn, stream)
            if history:
                return Announced(erased.person_id, erased.streams, new=False)
            event = PersonalDataErased(
                dossier_id=erased.person_id,
                person_id=erased.person_id,
                streams=erased.streams,
                erased_at=erased.erased_at,
            )
            await store.append(
                conn,
                stream,
                0,
                [event],
                prev_hash=hashchain.GENESIS,
                now=now,
                metadata={"actor": ACTOR},
                new_stream=True,
            )
    finally:
        await conn.close()
    return Announced(erased.person_id, erased.streams, new=True)
