"""The decision letter: the President's decision (selected or rejected, with its motivation),
notified to the holder under cover of the departmental project lead. Pure."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from services.notifications.documents.dossier import Attested, Holder, holder, last_of, up_to
from shared.audit import AuditEvent
from shared.contracts.selection import Outcome, SelectionDecided
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class DecisionLetter:
    holder: Holder
    campaign_title: str
    selected: bool
    requested_eur: Decimal
    granted_eur: Decimal
    motivation: str
    decided_at: datetime
    attested: Attested


def decision_letter(
    trail: Sequence[AuditEvent], campaigns: Mapping[str, Campaign], event_id: UUID | None = None
) -> DecisionLetter:
    """The letter of the decision `event_id` (by default the dossier's last decision)."""
    if event_id is None:
        event_id = last_of(trail, "SelectionDecided").event_id
    known = up_to(trail, event_id)
    recorded = known[-1]
    decided = recorded.event()
    assert isinstance(decided, SelectionDecided)
    campaign = campaigns.get(decided.campaign_id)
    return DecisionLetter(
        holder=holder(known),
        campaign_title=campaign.title if campaign else decided.campaign_id,
        selected=decided.outcome is Outcome.selected,
        requested_eur=decided.requested_eur,
        granted_eur=decided.granted_eur,
        motivation=decided.motivation,
        decided_at=decided.decided_at,
        attested=Attested.of(recorded),
    )
