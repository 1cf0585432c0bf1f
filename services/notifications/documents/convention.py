"""The tripartite convention (collectivité, préfecture, MILDECA) as signed: its articles, its
annexes (the budget as filed, the payment plan) and each party's signature with its time. Pure."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.notifications.documents.dossier import (
    Attested,
    Holder,
    NoSuchDocument,
    holder,
    last_of,
    up_to,
)
from shared.audit import AuditEvent
from shared.contracts.selection import ConventionSignatureAdded, ConventionSigned, SelectionDecided
from shared.language.campaigns import Campaign, Instalment, instalment_amounts

PARTIES = ("collectivite", "prefecture", "mildeca")


@dataclass(frozen=True)
class Signature:
    party: str  # collectivite, prefecture, mildeca
    signatory: str
    signed_at: datetime


@dataclass(frozen=True)
class PlannedPayment:
    number: int
    due_on: str  # signature, activity_report, balance
    share: Decimal
    amount_eur: Decimal


@dataclass(frozen=True)
class Convention:
    holder: Holder
    campaign_title: str
    granted_eur: Decimal
    decided_at: datetime
    motivation: str
    signatures: tuple[Signature, ...]  # in the order of PARTIES
    signed_at: datetime
    duration_months: int
    plan: tuple[PlannedPayment, ...]
    attested: Attested


def convention(trail: Sequence[AuditEvent], campaigns: Mapping[str, Campaign]) -> Convention:
    """The convention as its last signature made it binding; NoSuchDocument before."""
    known = up_to(trail, last_of(trail, "ConventionSigned").event_id)
    recorded = known[-1]
    signed = recorded.event()
    decided = last_of(known, "SelectionDecided").event()
    assert isinstance(signed, ConventionSigned) and isinstance(decided, SelectionDecided)
    campaign = campaigns.get(signed.campaign_id)
    if campaign is None:
        raise NoSuchDocument(f"no campaign {signed.campaign_id}: its payment plan is unknown")
    by_party: dict[str, Signature] = {}
    for event in known:
        if event.type == "ConventionSignatureAdded":
            added = event.event()
            assert isinstance(added, ConventionSignatureAdded)
            by_party[added.party.value] = Signature(
                added.party.value, added.signatory, added.signed_at
            )
    filed = holder(known)
    return Convention(
        holder=filed,
        campaign_title=campaign.title,
        granted_eur=signed.granted_eur,
        decided_at=decided.decided_at,
        motivation=decided.motivation,
        signatures=tuple(by_party[p] for p in PARTIES if p in by_party),
        signed_at=signed.signed_at,
        duration_months=signed.duration_months or filed.duration_months,
        plan=payment_plan(campaign.payment_plan, signed.granted_eur),
        attested=Attested.of(recorded),
    )


def payment_plan(shares: Sequence[Instalment], granted_eur: Decimal) -> tuple[PlannedPayment, ...]:
    """The campaign's shares of the grant, as payments commits them (services/payments/plan.py):
    each rounded down to the cent, the balance (last) the rest."""
    amounts = instalment_amounts(shares, granted_eur)
    return tuple(
        PlannedPayment(number, entry.due_on, entry.share, amount)
        for number, (entry, amount) in enumerate(zip(shares, amounts, strict=True), start=1)
    )
