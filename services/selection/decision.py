"""The President's decision: selected with an amount that fits every limit, or rejected."""

from decimal import Decimal

from services.selection.commands import Decide, ReleaseOnWithdrawal
from services.selection.errors import AssessmentMissing, OverEnvelope, SingleLever
from services.selection.guards import (
    require_opinion,
    require_within_request_and_cap,
    under_instruction,
)
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.selection import DecidedOn, GrantReleased, Outcome, SelectionDecided
from shared.language.actors import Role
from shared.language.campaigns import find

DECIDE = "decide on this dossier"
NOTHING = Decimal("0.00")


def decide(state: SelectionState, c: Decide) -> list[DomainEvent]:
    """`c.granted_so_far`: what the campaign granted before, read under the envelope's lock."""
    dossier = under_instruction(state, c.actor, Role.president, c.withdrawn, DECIDE)
    require_opinion(
        state, "no decision before the préfecture's opinion and the committee's assessment"
    )
    if state.assessment is None:
        raise AssessmentMissing(
            "no decision before the committee's assessment: "
            "the committee has not assessed this dossier yet"
        )
    granted = NOTHING
    if c.outcome is Outcome.selected:
        if len(set(dossier.objectives)) < 2:
            raise SingleLever(
                "a project acting on a single objective is not retained: the call "
                "selects global plans using several levers, not one-off actions"
            )
        granted = c.granted_eur or NOTHING
        campaign = find(c.campaigns, dossier.campaign_id)
        require_within_request_and_cap(granted, dossier, campaign)
        remaining = campaign.envelope_eur - c.granted_so_far
        if granted > remaining:
            raise OverEnvelope(
                f"granting {granted} EUR would exceed the campaign's envelope of "
                f"{campaign.envelope_eur} EUR: {remaining} EUR remain"
            )
    return [
        SelectionDecided(
            dossier_id=dossier.dossier_id,
            reference=dossier.reference,
            campaign_id=dossier.campaign_id,
            siren=dossier.siren,
            departement=dossier.departement,
            outcome=c.outcome,
            requested_eur=dossier.requested_eur,
            granted_eur=granted,
            motivation=c.motivation,
            decided_at=c.now,
            decided_on=DecidedOn(amendment=dossier.after_amendment),
        )
    ]


def release_on_withdrawal(state: SelectionState, c: ReleaseOnWithdrawal) -> list[DomainEvent]:
    """The dossier was withdrawn: a grant decided before selection heard of it goes back to the
    campaign's envelope. Withdrawals and decisions are accepted by two services that meet only
    on the bus, so the two can cross; once the convention binds, payments has the funds and
    nothing is released here."""
    decision = state.decision
    if decision is None or not decision.granted_eur or state.released or state.convention_signed:
        return []
    return [
        GrantReleased(
            dossier_id=decision.dossier_id,
            reference=decision.reference,
            campaign_id=decision.campaign_id,
            released_eur=decision.granted_eur,
            released_at=c.now,
        )
    ]
