"""Selection's subscribers: events in, handlers called. Thin."""

import asyncpg

from services.selection import handlers
from shared.campaigns import find
from shared.consumer import Consumer, Subscription
from shared.contracts.applications import ApplicationSubmitted
from shared.envelope import Envelope
from shared.runtime import Runtime


def eligibility(rt: Runtime) -> Subscription:
    async def on_submitted(conn: asyncpg.Connection, event: ApplicationSubmitted, env: Envelope) -> None:
        campaign = find(rt.campaigns, event.campaign_id)
        await handlers.check_eligibility(conn, rt.store, event, campaign, rt.clock(), env.id)

    return Subscription(Consumer("eligibility", {ApplicationSubmitted: on_submitted}), ["applications"])
