"""Selection's subscribers: events in, handlers called. Thin."""

import asyncpg

from services.selection import handlers
from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope
from shared.kernel.runtime import Runtime
from shared.language.campaigns import find


def eligibility(rt: Runtime) -> Subscription:
    async def on_submitted(
        conn: asyncpg.Connection, event: ApplicationSubmitted, env: Envelope
    ) -> None:
        campaign = find(rt.campaigns, event.campaign_id)
        await handlers.check_eligibility(conn, rt.store, event, campaign, rt.clock(), env.id)

    return Subscription(
        Consumer("eligibility", {ApplicationSubmitted: on_submitted}), ["applications"]
    )


def withdrawals(rt: Runtime) -> Subscription:
    async def on_withdrawn(
        conn: asyncpg.Connection, event: ApplicationWithdrawn, env: Envelope
    ) -> None:
        await handlers.react_to_withdrawal(conn, rt.store, rt.campaigns, event, rt.clock(), env.id)

    return Subscription(
        Consumer("withdrawals", {ApplicationWithdrawn: on_withdrawn}), ["applications"]
    )
