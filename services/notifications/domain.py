"""Which mail an event calls for, and its wording. Pure: no SMTP, no database."""

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted
from shared.contracts.selection import EligibilityChecked


@dataclass(frozen=True)
class MailRequest:
    notification_id: str
    dossier_id: UUID
    template: str
    facts: dict[str, Any]


@dataclass(frozen=True)
class Recipient:
    reference: str
    email: str
    name: str
    holder: str


def mails_for(event: DomainEvent, event_id: UUID) -> list[MailRequest]:
    """One event, the mails it calls for; the id makes a second request for it a no-op."""
    if isinstance(event, ApplicationSubmitted):
        return [MailRequest(f"{event_id}:acknowledgement", event.dossier_id, "acknowledgement",
                            {"campaign_id": event.campaign_id,
                             "submitted_at": event.submitted_at.isoformat()})]
    if isinstance(event, EligibilityChecked):
        template = "eligible" if event.eligible else "ineligible"
        return [MailRequest(f"{event_id}:{template}", event.dossier_id, template,
                            {"failed_rules": [f.model_dump() for f in event.failed_rules]})]
    return []


def render(template: str, recipient: Recipient, facts: dict[str, Any]) -> tuple[str, str]:
    """(subject, body) of a mail, in French: the applicants are French collectivités."""
    ref = recipient.reference
    greeting = f"Madame, Monsieur,\n\nDossier {ref} — {recipient.holder}\n\n"
    signature = "\n\nLa Mission interministérielle de lutte contre les drogues et les conduites addictives (MILDECA)\n"
    if template == "acknowledgement":
        return (f"[{ref}] Accusé de réception de votre dossier",
                greeting + "Nous accusons réception de votre dossier de candidature, déposé le "
                f"{facts['submitted_at']}. Son éligibilité va être vérifiée." + signature)
    if template == "eligible":
        return (f"[{ref}] Votre dossier est éligible",
                greeting + "Votre dossier remplit les critères d'éligibilité de l'appel à projets. "
                "Il est transmis pour avis à la préfecture de votre département." + signature)
    if template == "ineligible":
        reasons = "\n".join(f"  - {f['rule']} : {f['reason']}" for f in facts["failed_rules"])
        return (f"[{ref}] Votre dossier n'est pas éligible",
                greeting + "Votre dossier ne remplit pas les critères d'éligibilité suivants :\n"
                f"{reasons}" + signature)
    raise ValueError(f"no template {template!r}")
