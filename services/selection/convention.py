"""The tripartite convention: collectivité, préfecture and MILDECA sign; the third signature binds."""

from datetime import datetime

from services.selection.domain import (
    SelectionState,
    known,
    require_departement,
    require_not_withdrawn,
    require_siren,
)
from services.selection.errors import AlreadySigned, ConventionDeadlinePassed, NotSelected
from shared.contracts import DomainEvent
from shared.contracts.selection import ConventionSignatureAdded, ConventionSigned, Outcome, Party
from shared.language.actors import Actor, Role, require_role
from shared.language.campaigns import PARIS, Campaign, find

SIGN = "sign the convention"

# Who signs for which party: the role says it, the token's binding limits it to its own dossiers.
PARTY_OF = {
    Role.applicant: Party.collectivite,
    Role.prefecture: Party.prefecture,
    Role.president: Party.mildeca,
}


def sign(
    state: SelectionState, actor: Actor, campaigns: dict[str, Campaign], now: datetime
) -> list[DomainEvent]:
    require_role(actor, *PARTY_OF, to=SIGN)
    dossier = known(state)
    require_siren(actor, dossier, SIGN)
    require_departement(actor, dossier, SIGN)
    require_not_withdrawn(state, SIGN)
    decision = state.decision
    if decision is None or decision.outcome is not Outcome.selected:
        raise NotSelected(
            "only a selected dossier has a convention to sign: "
            + (
                "the President has not decided yet"
                if decision is None
                else "this dossier was rejected"
            )
        )
    campaign = find(campaigns, dossier.campaign_id)
    if now >= campaign.convention_deadline:
        raise ConventionDeadlinePassed(
            f"conventions of the campaign {campaign.id!r} are signed strictly before "
            f"{campaign.convention_deadline.astimezone(PARIS).isoformat()} (Europe/Paris)"
        )
    party = PARTY_OF[actor.role]
    if party in state.signed_by:
        raise AlreadySigned(
            f"the {party.value} already signed this convention: each party signs once"
        )
    events: list[DomainEvent] = [
        ConventionSignatureAdded(
            dossier_id=dossier.dossier_id,
            reference=dossier.reference,
            campaign_id=dossier.campaign_id,
            party=party,
            signatory=actor.subject,
            signed_at=now,
        )
    ]
    if state.signed_by | {party} == set(Party):
        events.append(
            ConventionSigned(
                dossier_id=dossier.dossier_id,
                reference=dossier.reference,
                campaign_id=dossier.campaign_id,
                siren=dossier.siren,
                departement=dossier.departement,
                granted_eur=decision.granted_eur,
                signed_at=now,
            )
        )
    return events
