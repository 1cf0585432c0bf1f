"""The minutes of a committee session: the dossiers it examined in their ranking, the members
present, what it said. Pure: over the session's events as the audit trail keeps them."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from services.notifications.documents.dossier import Attested, last_of
from shared.audit import AuditEvent
from shared.contracts.committee import CommitteeSessionHeld
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class Examined:
    rank: int
    reference: str
    weighted_score: Decimal
    proposed_eur: Decimal


@dataclass(frozen=True)
class Minutes:
    session_id: UUID
    title: str
    campaign_title: str
    held_at: datetime
    moderator: str
    members_present: tuple[str, ...]
    dossiers: tuple[Examined, ...]  # ranked: best consensus first
    text: str
    attested: Attested

    @property
    def proposed_total_eur(self) -> Decimal:
        return sum((d.proposed_eur for d in self.dossiers), Decimal("0.00"))


def minutes(trail: Sequence[AuditEvent], campaigns: Mapping[str, Campaign]) -> Minutes:
    """The minutes of the session whose events `trail` holds; NoSuchDocument before it is held."""
    recorded = last_of(trail, "CommitteeSessionHeld")
    held = recorded.event()
    assert isinstance(held, CommitteeSessionHeld)
    campaign = campaigns.get(held.campaign_id)
    return Minutes(
        session_id=held.session_id,
        title=held.title,
        campaign_title=campaign.title if campaign else held.campaign_id,
        held_at=held.held_at,
        moderator=held.moderator,
        members_present=tuple(held.members_present),
        dossiers=tuple(
            Examined(rank, d.reference, d.weighted_score, d.proposed_eur)
            for rank, d in enumerate(held.dossiers, start=1)
        ),
        text=held.minutes,
        attested=Attested.of(recorded),
    )
