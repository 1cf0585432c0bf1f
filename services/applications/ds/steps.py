"""What each of aap's events asks Démarches Simplifiées to do, as mutations in order. Pure.

DS is told what aap decided, when it decided it: instruction starts when the dossier is found
eligible (the commune can no longer edit it on DS), the President's decision becomes DS's
`accepte` or `refuse` with its motivation, a closure or a withdrawal decided in aap becomes
`sans_suite`, and what aap writes to the applicant (a correction asked, a message of the thread,
the failed eligibility rules) is sent as a DS message. DS's own mails on state changes are
turned off (`disableNotification`): aap mails the applicant itself.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shared.contracts import DomainEvent
from shared.contracts.applications import (
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CorrectionRequested,
    DossierClosedIncomplete,
    MessagePosted,
    Side,
)
from shared.contracts.selection import EligibilityChecked, Outcome, SelectionDecided
from shared.language import french

# A dossier's state on DS once each mutation took effect: what is read after a crash.
TARGET = {
    "PasserEnInstruction": ("en_instruction", "accepte", "refuse", "sans_suite"),
    "Accepter": ("accepte",),
    "Refuser": ("refuse",),
    "ClasserSansSuite": ("sans_suite",),
}
WITHDRAWN_ON_DS = "supprimé sur Démarches Simplifiées"
SKEW = timedelta(minutes=2)  # between DS's clock and ours


@dataclass(frozen=True)
class Step:
    mutation: str  # an operation of documents.graphql
    input: dict[str, Any]  # without dossierId and instructeurId, added when sent


def steps_for(event: DomainEvent, annotations: dict[str, str]) -> list[Step]:
    """The mutations that tell DS of `event`, in order; none for what DS need not know."""
    quiet = {"disableNotification": True}
    match event:
        case ApplicationSubmitted() if "reference" in annotations:
            value = {"text": event.reference}
            note = {"annotations": [{"id": annotations["reference"], "value": value}]}
            return [Step("ModifierAnnotations", note)]
        case EligibilityChecked(eligible=True, after_amendment=None):
            return [Step("PasserEnInstruction", quiet)]
        case EligibilityChecked(eligible=False):
            rules = "\n".join(f"- {r.rule} : {r.reason}" for r in event.failed_rules)
            body = (
                f"Votre dossier {event.reference} ne remplit pas les conditions de l'appel à "
                f"projets :\n{rules}"
            )
            return [Step("EnvoyerMessage", {"body": body})]
        case CorrectionRequested():
            body = (
                f"Une correction de votre dossier {event.reference} est demandée : "
                f"{french.fields(event.fields)}.\n{event.reason}\nÀ corriger avant le "
                f"{french.date_and_time(event.due_at.isoformat())}."
            )
            return [Step("EnvoyerMessage", {"body": body, "correction": "incorrect"})]
        case MessagePosted(side=Side.mildeca | Side.prefecture):
            return [Step("EnvoyerMessage", {"body": event.text})]
        case SelectionDecided(outcome=Outcome.selected):
            granted = f"Montant accordé : {french.euros(event.granted_eur)}."
            motivation = f"{event.motivation}\n{granted}"
            return [
                Step("PasserEnInstruction", quiet),
                Step("Accepter", {**quiet, "motivation": motivation}),
                *_granted(event, annotations),
            ]
        case SelectionDecided():
            return [
                Step("PasserEnInstruction", quiet),
                Step("Refuser", {**quiet, "motivation": event.motivation}),
            ]
        case DossierClosedIncomplete():
            return _closed(event.motivation)
        case ApplicationWithdrawn() if not event.reason.startswith(WITHDRAWN_ON_DS):
            return _closed(f"Dossier retiré par la collectivité : {event.reason}")
        case _:
            return []


def _closed(motivation: str) -> list[Step]:
    quiet = {"disableNotification": True}
    return [
        Step("PasserEnInstruction", quiet),
        Step("ClasserSansSuite", {**quiet, "motivation": motivation}),
    ]


def _granted(event: SelectionDecided, annotations: dict[str, str]) -> list[Step]:
    if "granted_eur" not in annotations:
        return []
    value = {"text": str(event.granted_eur)}  # DS's numbers are floats: the amount as text
    return [
        Step(
            "ModifierAnnotations",
            {"annotations": [{"id": annotations["granted_eur"], "value": value}]},
        )
    ]


def reached(mutation: str, dossier: dict[str, Any], step: dict[str, Any]) -> bool:
    """Whether DS's dossier shows the step done (read after a crash, or after a refusal)."""
    if mutation in TARGET:
        return dossier.get("state") in TARGET[mutation]
    if mutation == "EnvoyerMessage":
        # Heuristic (DS keeps no idempotency key): our text, posted since our attempt began.
        since: datetime | None = step.get("attempted_at")
        return any(
            m.get("body") == step["input"]["body"]
            and (since is None or datetime.fromisoformat(m["createdAt"]) >= since - SKEW)
            for m in dossier.get("messages") or []
        )
    return False  # annotations: writing them again is harmless
