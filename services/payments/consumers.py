"""Payments' subscriber: a signed convention commits the funds. Thin."""

import asyncpg

from services.payments import handlers
from shared.contracts.selection import ConventionSigned
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.runtime import Runtime
from shared.language.campaigns import find


def commitments(rt: Runtime) -> Subscription:
    async def on_signed(
        conn: asyncpg.Connection, event: ConventionSigned, envelope: Envelope
    ) -> None:
        campaign = find(rt.campaigns, event.campaign_id)
        await handlers.commit_funds(
            conn, rt.store, event, campaign, rt.clock(), caused_by=envelope.id
        )

    return Subscription(Consumer("commitments", {ConventionSigned: on_signed}), ["selection"])
