"""Each document as a file: built from the dossier's audit trail, rendered, named; the same
bytes whether mailed with its event's mail or downloaded later."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from uuid import UUID

from services.notifications.documents import render
from services.notifications.documents.attestation import attestation
from services.notifications.documents.convention import convention
from services.notifications.documents.decision import decision_letter
from services.notifications.documents.dossier import Attested, Holder
from services.notifications.documents.minutes import minutes
from shared.audit import AuditEvent
from shared.language.campaigns import Campaign
from shared.language.french import date


class Kind(str, Enum):
    """The documents of a dossier, each recording one event."""

    decision = "decision"  # SelectionDecided
    convention = "convention"  # ConventionSigned
    attestation = "attestation"  # InstalmentPaid, BalanceReleased


@dataclass(frozen=True)
class Document:
    filename: str
    content: bytes  # a PDF/A-3b

    media_type = "application/pdf"


def decision(
    trail: Sequence[AuditEvent], campaigns: Mapping[str, Campaign], event_id: UUID | None = None
) -> Document:
    letter = decision_letter(trail, campaigns, event_id)
    h = letter.holder
    return _rendered(
        "decision.html",
        f"decision-{h.reference}.pdf",
        f"Décision relative au dossier {h.reference}",
        f"MILDECA · dossier {h.reference} · décision du {date(letter.decided_at.isoformat())}",
        _audited(h),
        letter.attested,
        letter=letter,
    )


def convention_of(trail: Sequence[AuditEvent], campaigns: Mapping[str, Campaign]) -> Document:
    signed = convention(trail, campaigns)
    h = signed.holder
    return _rendered(
        "convention.html",
        f"convention-{h.reference}.pdf",
        f"Convention tripartite du dossier {h.reference}",
        f"Convention tripartite · dossier {h.reference} · {h.name}",
        _audited(h),
        signed.attested,
        convention=signed,
    )


def attestation_of(trail: Sequence[AuditEvent], event_id: UUID) -> Document:
    paid = attestation(trail, event_id)
    h = paid.holder
    return _rendered(
        "attestation.html",
        f"attestation-{h.reference}-versement-{paid.number}.pdf",
        f"Attestation de versement n° {paid.number} du dossier {h.reference}",
        f"MILDECA · dossier {h.reference} · versement n° {paid.number}",
        _audited(h),
        paid.attested,
        attestation=paid,
    )


def minutes_of(trail: Sequence[AuditEvent], campaigns: Mapping[str, Campaign]) -> Document:
    """The minutes of the committee session whose events `trail` holds."""
    held = minutes(trail, campaigns)
    return _rendered(
        "minutes.html",
        f"proces-verbal-{held.held_at.date().isoformat()}-{str(held.session_id)[:8]}.pdf",
        f"Procès-verbal du comité — {held.title}",
        f"MILDECA · procès-verbal du comité de sélection · {held.title}",
        f"GET /audit/dossiers/{held.session_id}",
        held.attested,
        minutes=held,
    )


def of_event(
    kind: Kind, trail: Sequence[AuditEvent], event_id: UUID, campaigns: Mapping[str, Campaign]
) -> Document:
    """The document a mail carries: the one recording the mail's event."""
    match kind:
        case Kind.decision:
            return decision(trail, campaigns, event_id)
        case Kind.convention:
            return convention_of(trail, campaigns)
        case Kind.attestation:
            return attestation_of(trail, event_id)


def available(trail: Sequence[AuditEvent]) -> list[dict[str, str]]:
    """The documents a dossier has so far, each with the event it records and its path."""
    found: dict[str, dict[str, str]] = {}
    for event in trail:
        kind = _KIND_OF.get(event.type)
        if kind is None:
            continue
        name = f"attestations/{event.event_id}" if kind is Kind.attestation else kind.value
        found[name] = {  # a decision or a convention: the last one
            "kind": kind.value,
            "event_id": str(event.event_id),
            "event_type": event.type,
            "hash": event.hash,
            "path": f"documents/{name}.pdf",
        }
    return list(found.values())


_KIND_OF = {
    "SelectionDecided": Kind.decision,
    "ConventionSigned": Kind.convention,
    "InstalmentPaid": Kind.attestation,
    "BalanceReleased": Kind.attestation,
}


def _rendered(
    template: str,
    filename: str,
    title: str,
    footer: str,
    audit_route: str,
    attested: Attested,
    **context: object,
) -> Document:
    content = render.pdf(
        template,
        title=title,
        footer=footer,
        audit_route=audit_route,
        attested=attested,
        **context,
    )
    return Document(filename, content)


def _audited(holder: Holder) -> str:
    return f"GET /audit/dossiers/{holder.dossier_id}"
