"""How the console writes what the services answer, in French: amounts, dates, where a dossier
stands and who acts next, the DSFR badge of each state. Pure presentation: no rule."""

import json
from typing import Any

from jinja2 import Environment, Undefined

from services.console import forms
from shared.language.attachments import ACCEPTED
from shared.language.french import (
    BUDGET_CATEGORIES,
    DOSSIER_FIELDS,
    OPINIONS,
    SIDES,
    date,
    date_and_time,
    euros,
)

ROLES = {
    "applicant": "Collectivité porteuse",
    "prefecture": "Préfecture",
    "instructor": "Instruction MILDECA",
    "president": "Présidence de la MILDECA",
    "reviewer": "Comité de sélection",
    "auditor": "Contrôle",
}

# (label, DSFR badge variant) of each state of selection's read model.
STATES: dict[str, tuple[str, str]] = {
    "submitted": ("Déposé", "info"),
    "ineligible": ("Non éligible", "error"),
    "awaiting_opinion": ("Avis de la préfecture attendu", "new"),
    "opinion_given": ("Avis de la préfecture rendu", "info"),
    "assessed": ("Évalué par le comité", "info"),
    "selected": ("Retenu", "success"),
    "rejected": ("Non retenu", "error"),
    "convention_signed": ("Convention signée", "success"),
    "withdrawn": ("Retiré", "warning"),
    "closed_incomplete": ("Clos comme incomplet", "warning"),
}

# Who acts next, as a person reads it on the dossier's page.
NEXT = {
    "submitted": "MILDECA vérifie l'éligibilité du dossier.",
    "ineligible": "Le dossier ne va pas plus loin.",
    "awaiting_opinion": "La préfecture du département donne son avis.",
    "opinion_given": "Le comité de sélection évalue le dossier.",
    "assessed": "La présidence de la MILDECA décide.",
    "selected": "La collectivité, la préfecture et la MILDECA signent la convention.",
    "rejected": "Le dossier ne va pas plus loin.",
    "convention_signed": "La MILDECA verse la subvention selon l'échéancier.",
    "withdrawn": "Le dossier a été retiré : plus rien n'est fait.",
    "closed_incomplete": "Le dossier a été clos comme incomplet : plus rien n'est fait.",
}

STEPS = (
    "Dépôt",
    "Éligibilité",
    "Avis de la préfecture",
    "Comité de sélection",
    "Décision de la présidence",
    "Convention tripartite",
    "Paiements et solde",
)
# The step a dossier in each state is at (1-based).
STEP_OF = {
    "submitted": 2,
    "ineligible": 2,
    "awaiting_opinion": 3,
    "opinion_given": 4,
    "assessed": 5,
    "rejected": 5,
    "selected": 6,
    "convention_signed": 7,
    "withdrawn": 1,
    "closed_incomplete": 1,
}


def stepper(state: str) -> dict[str, Any]:
    at = STEP_OF.get(state, 1)
    following = STEPS[at] if at < len(STEPS) else None
    return {"current": at, "count": len(STEPS), "title": STEPS[at - 1], "next": following}


CRITERIA = {
    "adequacy": "Adéquation au cahier des charges",
    "innovation": "Caractère innovant",
    "team_competence": "Compétence de l'équipe",
    "methodology": "Qualité méthodologique",
    "partnership": "Qualité du partenariat",
    "prefecture_opinion": "Avis de la préfecture",
}

OBJECTIVES = {
    "partnership_training": "Créer une dynamique partenariale et former les professionnels",
    "prevent_entry": "Prévenir l'entrée dans les réseaux",
    "counter_attractiveness": "Lutter contre l'image positive des réseaux",
    "detect_and_support": "Repérer et accompagner les jeunes en risque de basculer",
    "reclaim_public_space": "Reconquérir l'espace public aux points de deal",
}

CATEGORIES = BUDGET_CATEGORIES

# Where a committee member stands on a dossier they review (label, DSFR badge variant).
REVIEW_STATUSES: dict[str, tuple[str, str]] = {
    "to_declare": ("Déclaration d'intérêts attendue", "new"),
    "cleared": ("Sans conflit : notation attendue", "info"),
    "reviewed": ("Noté", "success"),
    "recused": ("Déporté (conflit d'intérêts)", "warning"),
}

# The conflicts of interest a committee member declares (shared/contracts/committee.py), and
# what counts as each.
CONFLICTS = {
    "elected_office": "Un mandat électif dans la collectivité porteuse",
    "employment": "Un emploi, un contrat ou une mission pour la collectivité porteuse",
    "family": "Un lien familial avec un élu ou un agent de la collectivité porteuse",
    "other": "Un autre intérêt, direct ou indirect, dans le projet",
}

OUTCOMES = {"selected": "Retenu", "rejected": "Non retenu"}


def review_status(status: str | None) -> tuple[str, str]:
    return REVIEW_STATUSES.get(status or "", (status or "—", "info"))


def means(reviews: list[dict[str, Any]]) -> dict[str, str]:
    """Each criterion's mean over the reviews, as the moderator reads it beside them ("3,7")."""
    if not reviews:
        return {}
    return {
        c: f"{sum(int(r['scores'][c]) for r in reviews) / len(reviews):.1f}".replace(".", ",")
        for c in CRITERIA
    }


# What each mail of notifications is, as the dossier's page lists them.
MAILS = {
    "acknowledgement": "Accusé de réception du dépôt",
    "eligible": "Dossier éligible",
    "ineligible": "Dossier non éligible",
    "opinion_requested": "Demande d'avis à la préfecture",
    "opinion_given": "Avis de la préfecture rendu",
    "withdrawn": "Retrait du dossier",
    "decision_selected": "Décision : projet retenu",
    "decision_rejected": "Décision : projet non retenu",
    "grant_released": "Subvention libérée après un retrait",
    "signature_added": "Signature de la convention",
    "convention_signed": "Convention signée par les trois parties",
    "funds_committed": "Engagement des crédits",
    "instalment_paid": "Versement d'une tranche",
    "activity_report_submitted": "Rapport d'activité déposé",
    "opinion_on_balance_requested": "Demande d'avis motivé avant le solde",
    "departmental_opinion_given": "Avis motivé avant le solde rendu",
    "balance_released": "Versement du solde",
    "balance_withheld": "Solde non versé",
    "reminder_prefecture_opinion_prefecture": "Rappel : avis de la préfecture attendu",
    "reminder_convention_applicant": "Rappel : convention à signer (collectivité)",
    "reminder_convention_prefecture": "Rappel : convention à signer (préfecture)",
    "reminder_convention_mildeca": "Rappel : convention à signer (MILDECA)",
    "reminder_final_report_applicant": "Rappel : rapport final attendu",
    "reminder_correction_applicant": "Rappel : correction attendue",
    "opinion_overdue": "Avis de la préfecture en retard",
    "convention_overdue": "Convention non signée dans le délai",
    "final_report_overdue": "Rapport final en retard",
    "message_posted": "Nouveau message",
    "note_added": "Note interne aux agents",
    "correction_requested": "Demande de correction",
    "application_amended": "Dossier corrigé",
    "amendments_set_aside": "Correction écartée (parvenue après la décision)",
    "correction_overdue": "Délai de correction dépassé",
    "closed_incomplete": "Dossier clos comme incomplet",
    "draft_shared": "Brouillon présenté à la préfecture",
    "draft_commented": "Commentaire sur le brouillon",
    "reviewer_assigned": "Désignation d'un examinateur du comité",
    "reviewer_recused": "Déport d'un examinateur (conflit d'intérêts)",
}


# The files a dossier carries, by their kind (shared/language/attachments.py).
ATTACHMENT_KINDS = {
    "deliberation": "Délibération du conseil",
    "budget": "Budget détaillé",
    "bank_details": "Relevé d'identité bancaire (RIB)",
    "proof_of_spending": "Justificatif de dépenses",
    "other": "Autre pièce",
}
AUDIENCES = {
    "parties": "Toutes les parties (la collectivité, la préfecture, la MILDECA)",
    "agents": "Les agents seulement (la MILDECA et la préfecture)",
}


def capitalized(text: str) -> str:
    return text[:1].upper() + text[1:]


# Who wrote in a dossier's thread; the parts of a dossier a correction names, as a heading says
# them ("Le budget prévisionnel").
SIDE_LABELS = {side: capitalized(words) for side, words in SIDES.items()}
FIELD_LABELS = {name: capitalized(words) for name, words in DOSSIER_FIELDS.items()}


def side_label(side: str | None) -> str:
    return SIDE_LABELS.get(side or "", side or "—")


def field_label(name: str) -> str:
    return FIELD_LABELS.get(name, forms.label(name))


def size(n: Any) -> str:
    """A file's size as a French page writes it: "820 octets", "61,9 ko", "2,3 Mo"."""
    try:
        count = int(n)
    except (TypeError, ValueError):
        return "—"
    if count < 1000:
        return f"{count} octet{'s' if count > 1 else ''}"
    for unit, scale in (("ko", 1e3), ("Mo", 1e6), ("Go", 1e9)):
        if count < scale * 1000 or unit == "Go":
            shown = f"{count / scale:.1f}".replace(".", ",").removesuffix(",0")
            return f"{shown}\u00a0{unit}"
    return str(count)


def file_type(media_type: str | None) -> str:
    return ACCEPTED.get(media_type or "", media_type or "")


def field_value(name: str, value: Any) -> str:
    """A part of the dossier as a person reads it, before or after a correction."""
    if isinstance(value, Undefined) or value in (None, "", [], {}):
        return "—"
    if name in ("requested_eur", "budget.total_cost_eur"):
        return _money_or_text(value)
    if name == "project.duration_months":
        return f"{value} mois"
    if name == "project.objectives" and isinstance(value, list):
        return " ; ".join(OBJECTIVES.get(str(o), str(o)) for o in value)
    if name == "project.partners" and isinstance(value, list):
        return " ; ".join(
            f"{p.get('name', '')} ({p.get('kind', '')})" for p in value if isinstance(p, dict)
        )
    if name == "representative" and isinstance(value, dict):
        return f"{value.get('name', '')} ({value.get('role', '')}), {value.get('email', '')}"
    if name == "budget" and isinstance(value, dict):
        lines = [_line(line) for line in value.get("lines") or []]
        total = _money_or_text(value.get("total_cost_eur"))
        return " ; ".join(lines) + f" — coût total {total}"
    if isinstance(value, dict | list):
        return pretty(value, indent=0)
    return str(value)


def changes_of(name: str, before: Any, after: Any) -> list[tuple[str, str, str]]:
    """What a correction changed, as (what, before, after): the budget line by line (only the
    lines that changed, and the total), any other part whole."""
    if name == "budget" and isinstance(before, dict) and isinstance(after, dict):
        old, new = before.get("lines") or [], after.get("lines") or []
        rows = []
        for n in range(max(len(old), len(new))):
            was = _line(old[n]) if n < len(old) else "—"
            now = _line(new[n]) if n < len(new) else "—"
            if was != now:
                rows.append((f"Budget, ligne {n + 1}", was, now))
        if before.get("total_cost_eur") != after.get("total_cost_eur"):
            total = [_money_or_text(v.get("total_cost_eur")) for v in (before, after)]
            rows.append(("Coût total du projet", total[0], total[1]))
        return rows or [(field_label(name), field_value(name, before), field_value(name, after))]
    return [(field_label(name), field_value(name, before), field_value(name, after))]


def _line(line: Any) -> str:
    if not isinstance(line, dict):
        return str(line)
    category = CATEGORIES.get(str(line.get("category")), str(line.get("category") or "?"))
    perennial = ", poste pérenne" if line.get("permanent_post") else ""
    return (
        f"année {line.get('year', '?')}, {category}, {line.get('label', '')}{perennial} : "
        f"{_money_or_text(line.get('amount_eur'))}"
    )


def _money_or_text(value: Any) -> str:
    try:
        return money(value)
    except (ArithmeticError, ValueError):
        return str(value)


def mail_label(template: str) -> str:
    return MAILS.get(template, template)


def state_label(state: str | None) -> str:
    return STATES.get(state or "", (state or "—", "info"))[0]


def state_badge(state: str | None) -> str:
    return STATES.get(state or "", ("", "info"))[1]


def money(amount: Any) -> str:
    return "—" if amount in (None, "") else euros(str(amount))


def day(iso: Any) -> str:
    return "—" if not iso else date(str(iso))


def moment(iso: Any) -> str:
    return "—" if not iso else date_and_time(str(iso))


def pretty(value: Any, indent: int = 2) -> str:
    """JSON as an auditor reads it: indented, keys sorted, accents as they are (the page escapes
    it as any text)."""
    return json.dumps(value, indent=indent, ensure_ascii=False, sort_keys=True, default=str)


def install(env: Environment) -> None:
    env.filters.update(
        money=money,
        day=day,
        moment=moment,
        state_label=state_label,
        state_badge=state_badge,
        mail_label=mail_label,
        pretty=pretty,
        side_label=side_label,
        field_label=field_label,
        size=size,
        file_type=file_type,
    )
    env.globals.update(
        label=forms.label,
        stepper=stepper,
        ROLES=ROLES,
        STATES=STATES,
        NEXT=NEXT,
        CRITERIA=CRITERIA,
        OBJECTIVES=OBJECTIVES,
        CATEGORIES=CATEGORIES,
        OPINIONS=OPINIONS,
        ATTACHMENT_KINDS=ATTACHMENT_KINDS,
        AUDIENCES=AUDIENCES,
        FIELD_LABELS=FIELD_LABELS,
        field_value=field_value,
        changes_of=changes_of,
        review_status=review_status,
        means=means,
        CONFLICTS=CONFLICTS,
        OUTCOMES=OUTCOMES,
    )


def menu(person: Any) -> list[tuple[str, str]]:
    """The menu of a person's role: where each of its pages is."""
    role = person.role.value if person.role else ""
    items = {
        "applicant": [("/dossiers", "Mes dossiers"), ("/deposer", "Déposer un dossier")],
        "prefecture": [
            ("/campagnes/tableau", "Dossiers du département"),
            ("/brouillons", "Brouillons présentés"),
            ("/campagnes", "Tableau de bord"),
        ],
        "instructor": [
            ("/campagnes", "Tableau de bord"),
            ("/campagnes/tableau", "Dossiers"),
            ("/classement", "Classement"),
            ("/seances", "Séances du comité"),
        ],
        "president": [
            ("/classement", "Classement et décisions"),
            ("/seances", "Séances du comité"),
            ("/campagnes/tableau", "Dossiers"),
            ("/campagnes", "Tableau de bord"),
        ],
        "reviewer": [("/examens", "Mes dossiers à examiner")],
        "auditor": [
            ("/campagnes/tableau", "Dossiers"),
            ("/controle", "Contrôle"),
            ("/seances", "Séances du comité"),
        ],
    }.get(role, [])
    if role in ("prefecture", "instructor", "president", "auditor"):
        items.append(("/habilitations", "Habilitations"))
    return items
