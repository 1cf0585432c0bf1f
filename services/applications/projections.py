"""The applications read model: one row per dossier, from the service's own events."""

import asyncpg

from shared.contracts.applications import ApplicationSubmitted, ApplicationWithdrawn
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope

_UPSERT = """
INSERT INTO dossiers (dossier_id, reference, campaign_id, siren, applicant_name, departement,
                      title, requested_eur, status, submitted_at, filed)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'submitted', $9, $10::jsonb)
ON CONFLICT (dossier_id) DO NOTHING
"""


async def on_submitted(conn: asyncpg.Connection, event: ApplicationSubmitted, _: Envelope) -> None:
    d = event.dossier
    await conn.execute(
        _UPSERT,
        event.dossier_id,
        event.reference,
        event.campaign_id,
        d.applicant.siren,
        d.applicant.name,
        d.applicant.departement,
        d.project.title,
        d.requested_eur,
        event.submitted_at,
        d.model_dump_json(),
    )


async def on_withdrawn(conn: asyncpg.Connection, event: ApplicationWithdrawn, _: Envelope) -> None:
    await conn.execute(
        "UPDATE dossiers SET status = 'withdrawn', withdrawn_at = $2, "
        "withdrawal_reason = $3 WHERE dossier_id = $1",
        event.dossier_id,
        event.withdrawn_at,
        event.reason,
    )


def dossiers() -> Subscription:
    return Subscription(
        Consumer(
            "dossiers", {ApplicationSubmitted: on_submitted, ApplicationWithdrawn: on_withdrawn}
        ),
        services=["applications"],
        read_models=["dossiers"],
    )
