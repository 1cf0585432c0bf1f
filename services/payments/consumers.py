"""Payments' subscriber: a signed convention commits the funds. Thin."""

from collections.abc import Callable, Mapping
from datetime import datetime

import asyncpg

from services.payments import handlers
from services.payments.commands import CommitFunds
from shared.contracts.selection import ConventionSigned
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.eventstore import EventStore
from shared.language.campaigns import Campaign, find


def commitments(
    store: EventStore, campaigns: Mapping[str, Campaign], clock: Callable[[], datetime]
) -> Subscription:
    async def on_signed(
        conn: asyncpg.Connection, event: ConventionSigned, envelope: Envelope
    ) -> None:
        command = CommitFunds(event, find(campaigns, event.campaign_id), clock())
        await handlers.commit_funds(conn, store, command, caused_by=envelope.id)

    return Subscription(Consumer("commitments", {ConventionSigned: on_signed}), ["selection"])
