"""How the console writes what the services answer, in French: amounts, dates, where a dossier
stands and who acts next, the DSFR badge of each state. Pure presentation: no rule."""

import json
from typing import Any

from jinja2 import Environment

from services.console import forms
from shared.language.french import OPINIONS, date, date_and_time, euros

ROLES = {
    "applicant": "Collectivité porteuse",
    "prefecture": "Préfecture",
    "instructor": "Instruction MILDECA",
    "president": "Présidence de la MILDECA",
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

CATEGORIES = {
    "actions": "Actions",
    "personnel": "Personnel dédié au projet",
    "training": "Formation",
    "communication": "Communication",
    "equipment": "Équipement",
    "evaluation": "Évaluation",
    "structure_operation": "Fonctionnement de structure",
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
    "opinion_on_balance_requested": "Demande d'avis motivé avant le solde",
    "departmental_opinion_given": "Avis motivé avant le solde rendu",
    "balance_released": "Versement du solde",
    "balance_withheld": "Solde non versé",
}


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
    )


def menu(person: Any) -> list[tuple[str, str]]:
    """The menu of a person's role: where each of its pages is."""
    role = person.role.value if person.role else ""
    items = {
        "applicant": [("/dossiers", "Mes dossiers"), ("/deposer", "Déposer un dossier")],
        "prefecture": [
            ("/campagnes/tableau", "Dossiers du département"),
            ("/campagnes", "Tableau de bord"),
        ],
        "instructor": [
            ("/campagnes", "Tableau de bord"),
            ("/campagnes/tableau", "Dossiers"),
            ("/classement", "Classement"),
        ],
        "president": [
            ("/classement", "Classement et décisions"),
            ("/campagnes/tableau", "Dossiers"),
            ("/campagnes", "Tableau de bord"),
        ],
        "auditor": [("/campagnes/tableau", "Dossiers"), ("/controle", "Contrôle")],
    }.get(role, [])
    if role in ("prefecture", "instructor", "president", "auditor"):
        items.append(("/habilitations", "Habilitations"))
    return items
