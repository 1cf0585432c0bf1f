"""The tripartite convention: collectivité, préfecture and MILDECA sign; the third signature
binds."""

from services.selection.commands import Sign
from services.selection.errors import AlreadySigned, ConventionDeadlinePassed, NotSelected
from services.selection.guards import known_to, require_not_withdrawn
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.selection import ConventionSignatureAdded, ConventionSigned, Outcome, Party
from shared.language.actors import Role, require_role
from shared.language.campaigns import PARIS, find

SIGN = "sign the convention"

# Who signs for which party: the role says it, the token's binding limits it to its own dossiers.
PARTY_OF = {
    Role.applicant: Party.collectivite,
    Role.prefecture: Party.prefecture,
    Role.president: Party.mildeca,
}


def sign(state: SelectionState, c: Sign) -> list[DomainEvent]:
    require_role(c.actor, *PARTY_OF, to=SIGN)
    dossier = known_to(c.actor, state)
    require_not_withdrawn(c.withdrawn, SIGN)
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
    campaign = find(c.campaigns, dossier.campaign_id)
    if c.now >= campaign.convention_deadline:
        raise ConventionDeadlinePassed(
            f"conventions of the campaign {campaign.id!r} are signed strictly before "
            f"{campaign.convention_deadline.astimezone(PARIS).isoformat()} (Europe/Paris)"
        )
    party = PARTY_OF[c.actor.role]
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
            signatory=c.actor.subject,
            signed_at=c.now,
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
                signed_at=c.now,
                duration_months=dossier.duration_months,
            )
        )
    return events
