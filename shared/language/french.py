"""How amounts, dates and the domain's words read in French, in a letter or on a page. Pure."""

from datetime import datetime
from decimal import Decimal

from shared.language.campaigns import PARIS

CENT = Decimal("0.01")

# No-break spaces: an amount is never split across two lines of a mail.
NBSP = "\u00a0"

MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)

OPINIONS = {"favorable": "favorable", "reserved": "réservé", "unfavorable": "défavorable"}

# A budget line's category (shared.contracts.applications.BudgetCategory), as the call's budget
# form names it: the console's dossier page and the convention's budget annex.
BUDGET_CATEGORIES = {
    "actions": "Actions",
    "personnel": "Personnel dédié au projet",
    "training": "Formation",
    "communication": "Communication",
    "equipment": "Équipement",
    "evaluation": "Évaluation",
    "structure_operation": "Fonctionnement de structure",
}

SIGNING_PARTIES = {
    "collectivite": "la collectivité",
    "prefecture": "la préfecture",
    "mildeca": "la MILDECA",
}

DUE_ON = {
    "signature": "à la signature de la convention",
    "activity_report": "sur rapport d'activité",
    "balance": "solde, après le rapport final et l'avis motivé du chef de projet départemental",
}


def euros(amount: Decimal | str) -> str:
    """An exact amount as a French letter writes it: "120 000,00 €"."""
    units, cents = f"{Decimal(amount).quantize(CENT):,.2f}".split(".")
    return f"{units.replace(',', NBSP)},{cents}{NBSP}€"


def date(iso: str) -> str:
    """ "2024-04-01T10:30:00+02:00" → "1er avril 2024" (the day in Paris)."""
    moment = datetime.fromisoformat(iso).astimezone(PARIS)
    day = "1er" if moment.day == 1 else str(moment.day)
    return f"{day} {MONTHS[moment.month - 1]} {moment.year}"


def date_and_time(iso: str) -> str:
    """ "2024-04-01T10:30:00+02:00" → "1er avril 2024 à 10 h 30" (Paris time)."""
    moment = datetime.fromisoformat(iso).astimezone(PARIS)
    return f"{date(iso)} à {moment.hour} h {moment.minute:02d}"


# The parts of a dossier a correction names, as a letter says them.
DOSSIER_FIELDS = {
    "representative": "le représentant de la collectivité",
    "project.title": "le titre du projet",
    "project.summary": "le résumé du projet",
    "project.territory": "le territoire",
    "project.beneficiaries": "les publics bénéficiaires",
    "project.objectives": "les finalités",
    "project.partners": "les partenaires",
    "project.duration_months": "la durée du projet",
    "budget": "le budget prévisionnel",
    "requested_eur": "la subvention demandée",
}

# Who wrote in a dossier's thread.
SIDES = {
    "applicant": "la collectivité",
    "prefecture": "la préfecture",
    "mildeca": "la MILDECA",
}


def fields(names: list[str]) -> str:
    """["budget", "project.summary"] → "le budget prévisionnel, le résumé du projet"."""
    return ", ".join(DOSSIER_FIELDS.get(n, n) for n in names)
