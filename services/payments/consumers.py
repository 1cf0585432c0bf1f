"""Payments' subscriber: a signed convention commits the funds. Thin."""

from collections.abc import Callable, Mapping
from datetime import datetime

import asyncpg

from services.payments import handlers
from services.payments.commands import CommitFunds
from shared.contracts.payments import FinalReportSubmitted, FundsCommitted
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


def deadlines(campaigns: Mapping[str, Campaign]) -> Subscription:
    """The final report's deadline, planned when the commitment is heard on payments' own topic
    and dropped when the report is: as selection's deadlines (services/selection/consumers.py),
    fed by the events, decided when they come."""

    async def on_committed(
        conn: asyncpg.Connection, event: FundsCommitted, envelope: Envelope
    ) -> None:
        await handlers.plan_final_report_deadline(conn, campaigns, event, envelope.id)

    async def on_report(
        conn: asyncpg.Connection, event: FinalReportSubmitted, envelope: Envelope
    ) -> None:
        await handlers.cancel_final_report_deadline(conn, event.dossier_id)

    return Subscription(
        Consumer("deadlines", {FundsCommitted: on_committed, FinalReportSubmitted: on_report}),
        ["payments"],
    )
