"""Applications' subscribers: what it must hear from the other services. Thin."""

import asyncpg

from services.applications import handlers
from shared.contracts.selection import SelectionDecided
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope


async def on_decided(conn: asyncpg.Connection, event: SelectionDecided, _: Envelope) -> None:
    await handlers.record_decision(conn, event)


def decisions() -> Subscription:
    """The President's decisions: after one, a dossier can no longer be withdrawn."""
    return Subscription(Consumer("decisions", {SelectionDecided: on_decided}), ["selection"])
