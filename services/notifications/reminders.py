"""The wording of the deadlines' mails, in French: a reminder before each deadline, to the party
that must act, and a notice once it passed. Pure; services/notifications/templates.py renders
them as its other letters."""

from collections.abc import Callable
from typing import Any

from services.notifications.domain import Recipient
from shared.language.french import SIGNING_PARTIES, date, date_and_time

Facts = dict[str, Any]
Wording = Callable[[Recipient, Facts], tuple[str, str]]

# Who a convention's reminder asks for a signature (the party to act of DeadlineApproaching).
_SIGNATURE_OF = {
    "applicant": "la signature de la collectivité",
    "prefecture": "la signature de la préfecture",
    "mildeca": "la signature de la MILDECA",
}


def _days(n: int) -> str:
    return "1 jour" if n == 1 else f"{n} jours"


def _by(f: Facts) -> str:
    """ "au plus tard le 30 septembre 2024 à 23 h 59 (heure de Paris), soit dans 7 jours" """
    return (
        f"au plus tard le {date_and_time(f['due_at'])} (heure de Paris), soit dans "
        f"{_days(f['days_left'])}"
    )


def _reminder_opinion(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Rappel : avis de la préfecture attendu avant le {date(f['due_at'])}", (
        f"L'avis de la préfecture sur le dossier {r.reference}, déposé par la collectivité "
        f"« {r.holder} » au titre de l'appel à projets MILDECA (campagne {f['campaign_id']}), est "
        f"attendu {_by(f)}. En votre qualité de chef de projet départemental MILDECA, nous vous "
        "remercions de le rendre sur la plateforme : favorable, réservé ou défavorable, "
        "accompagné d'une motivation. Le comité de sélection n'examine le dossier qu'après lui."
    )


def _reminder_convention(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Rappel : convention à signer avant le {date(f['due_at'])}", (
        f"La convention tripartite relative au dossier {r.reference} ({r.holder}) doit être signée "
        f"par la collectivité, la préfecture et la MILDECA {_by(f)}. "
        f"{_SIGNATURE_OF[f['party']].capitalize()} n'y figure pas encore. Passé ce délai, fixé "
        "par l'appel à projets, la convention ne pourra plus être signée."
    )


def _reminder_final_report(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Rappel : rapport final attendu avant le {date(f['due_at'])}", (
        f"Le rapport final du projet soutenu au titre du dossier {r.reference} est attendu "
        f"{_by(f)}. Il justifie les dépenses réalisées et présente le bilan de l'action ; le solde "
        "de la subvention n'est versé qu'après lui et l'avis motivé du chef de projet "
        "départemental."
    )


def _reminder_correction(r: Recipient, f: Facts) -> tuple[str, str]:
    return f"Rappel : correction attendue avant le {date(f['due_at'])}", (
        f"La correction demandée sur votre dossier {r.reference} est attendue {_by(f)}. Passé ce "
        "délai, le dossier pourra être clos comme incomplet."
    )


def _opinion_overdue(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Avis de la préfecture en retard", (
        f"L'avis de la préfecture sur le dossier {r.reference} ({r.holder}) était attendu au plus "
        f"tard le {date_and_time(f['due_at'])} (heure de Paris) ; il ne nous est pas parvenu à la "
        f"date du {date(f['recorded_at'])}. Nous vous remercions de le rendre dans les meilleurs "
        "délais : le comité de sélection ne peut examiner le dossier sans lui."
    )


def _convention_overdue(r: Recipient, f: Facts) -> tuple[str, str]:
    missing = ", ".join(SIGNING_PARTIES[party] for party in f["unsigned"])
    return "Convention non signée dans le délai", (
        f"La convention tripartite relative au dossier {r.reference} ({r.holder}) devait être "
        f"signée au plus tard le {date_and_time(f['due_at'])} (heure de Paris), date fixée par "
        f"l'appel à projets. Manque à ce jour la signature de : {missing}. La convention ne peut "
        "plus être signée ; la MILDECA vous indiquera la suite donnée au dossier."
    )


def _final_report_overdue(r: Recipient, f: Facts) -> tuple[str, str]:
    return "Rapport final en retard", (
        f"Le rapport final du projet soutenu au titre du dossier {r.reference} était attendu au "
        f"plus tard le {date_and_time(f['due_at'])} (heure de Paris) ; il ne nous est pas parvenu "
        f"à la date du {date(f['recorded_at'])}. Le solde de la subvention ne peut être versé sans "
        "lui : nous vous remercions de le déposer sur la plateforme dans les meilleurs délais."
    )


WORDINGS: dict[str, Wording] = {
    "reminder_prefecture_opinion_prefecture": _reminder_opinion,
    "reminder_convention_applicant": _reminder_convention,
    "reminder_convention_prefecture": _reminder_convention,
    "reminder_convention_mildeca": _reminder_convention,
    "reminder_final_report_applicant": _reminder_final_report,
    "reminder_correction_applicant": _reminder_correction,
    "opinion_overdue": _opinion_overdue,
    "convention_overdue": _convention_overdue,
    "final_report_overdue": _final_report_overdue,
}
