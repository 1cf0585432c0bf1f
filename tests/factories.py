"""Dossiers for tests and demos: a valid one, and variations of it."""

import copy
import random
from typing import Any

from shared.language.referentials import siren_is_valid


def random_siren() -> str:
    while True:
        candidate = "2" + "".join(random.choice("0123456789") for _ in range(8))
        if siren_is_valid(candidate):
            return candidate


def eligible_dossier(**overrides: Any) -> dict[str, Any]:
    dossier: dict[str, Any] = {
        "applicant": {
            "siren": random_siren(),
            "name": "Commune de Roubaix",
            "kind": "commune",
            "departement": "59",
        },
        "representative": {
            "name": "Guillaume Delbar",
            "role": "maire",
            "email": "maire@roubaix.example.fr",
        },
        "project": {
            "title": "LIMIT'S Roubaix : prévenir l'entrée des jeunes dans les trafics",
            "summary": "Plan d'action partenarial sur trois quartiers, piloté par le CLSPD.",
            "territory": "Quartiers de l'Alma, du Pile et des Trois-Ponts",
            "beneficiaries": "Jeunes de 10 à 18 ans et leurs parents",
            "objectives": ["partnership_training", "prevent_entry", "reclaim_public_space"],
            "partners": [
                {"name": "Parquet de Lille", "kind": "justice"},
                {"name": "Vilogia", "kind": "bailleur social"},
            ],
            "duration_months": 36,
        },
        "budget": {
            "lines": [
                {
                    "year": 1,
                    "category": "personnel",
                    "label": "Coordinateur de projet (CDD 3 ans)",
                    "amount_eur": "45000.00",
                },
                {
                    "year": 1,
                    "category": "training",
                    "label": "Formation des professionnels",
                    "amount_eur": "30000.00",
                },
                {
                    "year": 2,
                    "category": "actions",
                    "label": "Programme CPS en collèges",
                    "amount_eur": "60000.00",
                },
                {
                    "year": 3,
                    "category": "actions",
                    "label": "Réappropriation des halls",
                    "amount_eur": "65000.00",
                },
            ],
            "total_cost_eur": "200000.00",
        },
        "requested_eur": "160000.00",
    }
    for path, value in overrides.items():
        target = dossier
        *parents, leaf = path.split("__")
        for key in parents:
            target = target[key]
        target[leaf] = value
    return dossier


def dossier_failing_several_rules() -> dict[str, Any]:
    """An association (E1) asking too much (E3) for 12 months (E4) to run itself (E5) with a
    permanent post (E6), whose budget does not add up (E7)."""
    d = eligible_dossier()
    d = copy.deepcopy(d)
    d["applicant"]["kind"] = "association"
    d["applicant"]["name"] = "Association Horizons"
    d["representative"]["role"] = "other"
    d["project"]["duration_months"] = 12
    d["budget"]["lines"].append(
        {
            "year": 1,
            "category": "structure_operation",
            "label": "Loyer du siège",
            "amount_eur": "100000.00",
        }
    )
    d["budget"]["lines"].append(
        {
            "year": 1,
            "category": "personnel",
            "label": "Directeur (CDI)",
            "amount_eur": "50000.00",
            "permanent_post": True,
        }
    )
    d["budget"]["total_cost_eur"] = "340000.00"  # the lines add up to 350,000
    d["requested_eur"] = "300000.00"
    return d
