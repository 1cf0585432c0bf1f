"""Selection's read model, from the dossiers' submissions and its own decisions."""

import json

import asyncpg

from shared.consumer import Consumer, Subscription
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.selection import EligibilityChecked
from shared.envelope import Envelope

# Two topics, no order between them: each event fills only the columns it knows.
_SUBMITTED = """
INSERT INTO selection_dossiers (dossier_id, reference, campaign_id, departement, applicant, requested_eur)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (dossier_id) DO UPDATE SET departement = excluded.departement,
    applicant = excluded.applicant, requested_eur = excluded.requested_eur
"""

_CHECKED = """
INSERT INTO selection_dossiers (dossier_id, reference, campaign_id, eligible, failed_rules, checked_at)
VALUES ($1, $2, $3, $4, $5::jsonb, $6)
ON CONFLICT (dossier_id) DO UPDATE SET eligible = excluded.eligible,
    failed_rules = excluded.failed_rules, checked_at = excluded.checked_at
"""


async def on_submitted(conn: asyncpg.Connection, e: ApplicationSubmitted, _: Envelope) -> None:
    a = e.dossier.applicant
    await conn.execute(_SUBMITTED, e.dossier_id, e.reference, e.campaign_id, a.departement,
                       a.name, e.dossier.requested_eur)


async def on_checked(conn: asyncpg.Connection, e: EligibilityChecked, _: Envelope) -> None:
    failures = json.dumps([f.model_dump() for f in e.failed_rules])
    await conn.execute(_CHECKED, e.dossier_id, e.reference, e.campaign_id, e.eligible, failures,
                       e.checked_at)


def dossiers() -> Subscription:
    return Subscription(
        Consumer("dossiers", {ApplicationSubmitted: on_submitted, EligibilityChecked: on_checked}),
        services=["applications", "selection"],
        read_models=["selection_dossiers"],
    )
