"""Selection's read model, one row per dossier: its submission, withdrawal and every selection
step."""

import json
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from services.selection import committee_views, withdrawals
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    DossierClosedIncomplete,
)
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionOverdue,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    GrantReleased,
    OpinionOverdue,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    SelectionDecided,
)
from shared.kernel import writes
from shared.kernel.consumer import Consumer, Subscription
from shared.kernel.envelope import Envelope


class OfADossier(Protocol):
    @property
    def dossier_id(self) -> UUID: ...
    @property
    def reference(self) -> str: ...
    @property
    def campaign_id(self) -> str: ...


async def _upsert(conn: asyncpg.Connection, e: OfADossier, **columns: Any) -> None:
    """Two topics, no order between them: each event fills only the columns it knows."""
    await writes.upsert(
        conn,
        "selection_dossiers",
        {"dossier_id": e.dossier_id},
        columns,
        on_insert={"reference": e.reference, "campaign_id": e.campaign_id},
    )


async def on_submitted(conn: asyncpg.Connection, e: ApplicationSubmitted, _: Envelope) -> None:
    a = e.dossier.applicant
    await _upsert(
        conn,
        e,
        departement=a.departement,
        applicant=a.name,
        siren=a.siren,
        requested_eur=e.dossier.requested_eur,
        submitted_at=e.submitted_at,
    )


async def on_withdrawn(conn: asyncpg.Connection, e: ApplicationWithdrawn, _: Envelope) -> None:
    # Recorded as the commands' input in the same transaction as the row: whoever reads the
    # dossier withdrawn can count on every command being refused. A rebuild never drops
    # `withdrawals` (no read model), and replaying into it changes nothing.
    await withdrawals.record(conn, e)
    await _upsert(conn, e, withdrawn=True, withdrawn_at=e.withdrawn_at)


async def on_amended(
    conn: asyncpg.Connection, e: ApplicationAmended | AmendmentsSetAside, _: Envelope
) -> None:
    # after its filing on the same topic: the amended amount, whichever topic is read first;
    # an amendment that crossed the decision set aside: the amount as decided on
    await _upsert(conn, e, requested_eur=e.dossier.requested_eur)


async def on_closed(conn: asyncpg.Connection, e: DossierClosedIncomplete, _: Envelope) -> None:
    # closed as incomplete by MILDECA: out of the call as a withdrawn dossier is
    await withdrawals.record(conn, e)
    await _upsert(conn, e, withdrawn=True, withdrawn_at=e.closed_at)


async def on_checked(conn: asyncpg.Connection, e: EligibilityChecked, _: Envelope) -> None:
    failures = json.dumps([f.model_dump() for f in e.failed_rules])
    await _upsert(
        conn,
        e,
        eligible=e.eligible,
        failed_rules=failures,
        checked_at=e.checked_at,
        siren=e.siren,
        departement=e.departement,
        requested_eur=e.requested_eur,  # as checked: after an amendment, the amended amount
    )


async def on_requested(
    conn: asyncpg.Connection, e: PrefectureOpinionRequested, _: Envelope
) -> None:
    # an older request does not say its deadline (its campaign's days did): left unknown here
    await _upsert(conn, e, opinion_due_at=e.due_at)


async def on_opinion_overdue(conn: asyncpg.Connection, e: OpinionOverdue, _: Envelope) -> None:
    # stays true once the opinion comes: it came late
    await _upsert(conn, e, opinion_overdue=True)


async def on_convention_overdue(
    conn: asyncpg.Connection, e: ConventionOverdue, _: Envelope
) -> None:
    await _upsert(conn, e, convention_overdue=True)


async def on_opinion(conn: asyncpg.Connection, e: PrefectureOpinionGiven, _: Envelope) -> None:
    await _upsert(
        conn,
        e,
        opinion=e.opinion.value,
        opinion_motivation=e.motivation,
        opinion_given_at=e.given_at,
    )


async def on_assessed(
    conn: asyncpg.Connection, e: CommitteeAssessmentRecorded, _: Envelope
) -> None:
    await _upsert(
        conn,
        e,
        scores=e.scores.model_dump_json(),
        weighted_score=e.weighted_score,
        proposed_eur=e.proposed_eur,
        assessment_comment=e.comment,
        assessed_at=e.assessed_at,
    )


async def on_decided(conn: asyncpg.Connection, e: SelectionDecided, _: Envelope) -> None:
    await _upsert(
        conn,
        e,
        outcome=e.outcome.value,
        granted_eur=e.granted_eur,
        decision_motivation=e.motivation,
        decided_at=e.decided_at,
    )


async def on_released(conn: asyncpg.Connection, e: GrantReleased, _: Envelope) -> None:
    # a grant is released only for a withdrawn dossier: the view says so even before the
    # withdrawal's own projection (another consumer, on applications' topic) has caught up
    await _upsert(conn, e, released_eur=e.released_eur, released_at=e.released_at, withdrawn=True)


async def on_signature(conn: asyncpg.Connection, e: ConventionSignatureAdded, _: Envelope) -> None:
    signature = {
        "party": e.party.value,
        "signatory": e.signatory,
        "signed_at": e.signed_at.isoformat(),
    }
    await writes.append(
        conn, "selection_dossiers", {"dossier_id": e.dossier_id}, "signatures", [signature]
    )


async def on_signed(conn: asyncpg.Connection, e: ConventionSigned, _: Envelope) -> None:
    await _upsert(conn, e, convention_signed_at=e.signed_at)


def dossiers() -> Subscription:
    # PrefectureOpinionRequested fills the opinion's deadline: a reader may see the row of an
    # eligible dossier a moment before it (two events, two effects).
    return Subscription(
        Consumer(
            "dossiers",
            {
                ApplicationSubmitted: on_submitted,
                ApplicationWithdrawn: on_withdrawn,
                DossierClosedIncomplete: on_closed,
                ApplicationAmended: on_amended,
                AmendmentsSetAside: on_amended,
                EligibilityChecked: on_checked,
                PrefectureOpinionRequested: on_requested,
                PrefectureOpinionGiven: on_opinion,
                OpinionOverdue: on_opinion_overdue,
                ConventionOverdue: on_convention_overdue,
                CommitteeAssessmentRecorded: on_assessed,
                SelectionDecided: on_decided,
                ConventionSignatureAdded: on_signature,
                ConventionSigned: on_signed,
                GrantReleased: on_released,
                **committee_views.HANDLERS,
            },
        ),
        services=["applications", "selection"],
        read_models=["selection_dossiers", *committee_views.READ_MODELS],
    )
