"""The filing form and the dossier the applications service takes: the form's fields become the
dossier's JSON (rows left empty are no rows), and the service's reasons for refusing a field
come back to the field of the form that held it. The rules themselves are the services'."""

import re
from dataclasses import dataclass, field
from typing import Any

from starlette.datastructures import FormData

PARTNER_ROWS = 6
BUDGET_ROWS = 8
MAX_ROWS = 200  # a dossier's budget has 200 lines at most

TEXTS = (
    "applicant.name",
    "applicant.kind",
    "applicant.departement",
    "representative.name",
    "representative.role",
    "representative.email",
    "project.title",
    "project.summary",
    "project.territory",
    "project.beneficiaries",
)


# The form's labels, by field: beside each field and in the list of errors at the top.
LABELS = {
    "campagne": "Appel à projets",
    "applicant.name": "Nom de la collectivité",
    "applicant.kind": "Nature",
    "applicant.departement": "Département",
    "representative.name": "Nom et prénom",
    "representative.role": "Qualité",
    "representative.email": "Adresse électronique",
    "project.title": "Titre du projet",
    "project.summary": "Résumé",
    "project.territory": "Territoire",
    "project.beneficiaries": "Publics bénéficiaires",
    "project.objectives": "Finalités",
    "project.duration_months": "Durée (mois)",
    "project.partners": "Les partenaires",
    "budget.lines": "Le budget prévisionnel",
    "budget.total_cost_eur": "Coût total du projet (€)",
    "requested_eur": "Subvention demandée (€)",
}
_ROWS = {
    "project.partners": {"name": "Partenaire {n}", "kind": "Nature du partenaire {n}"},
    "budget.lines": {
        "year": "Année {n}",
        "category": "Catégorie {n}",
        "label": "Poste {n}",
        "amount_eur": "Montant {n} (€)",
        "permanent_post": "Poste pérenne {n}",
    },
}


def label(name: str) -> str:
    """The label of a field of the form (`budget.lines.2.amount_eur`: « Montant 3 (€) »)."""
    for prefix, cells in _ROWS.items():
        if name.startswith(prefix + "."):
            row, _, cell = name.removeprefix(prefix + ".").partition(".")
            if row.isdigit() and cell in cells:
                return cells[cell].format(n=int(row) + 1)
            if row.isdigit():
                return LABELS[prefix] + f", ligne {int(row) + 1}"
    return LABELS.get(name, name)


@dataclass
class Filing:
    """What the person typed (to show it again) and the dossier built from it."""

    values: dict[str, str] = field(default_factory=dict)
    objectives: list[str] = field(default_factory=list)
    dossier: dict[str, Any] = field(default_factory=dict)
    # the form's row of each row of the dossier: a dossier's budget.lines.2 may be row 5
    partner_rows: list[int] = field(default_factory=list)
    line_rows: list[int] = field(default_factory=list)

    def form_field(self, service_field: str) -> str:
        """The form's name for a field the service names (`budget.lines.0.amount_eur`)."""
        service_field = _WHOLE.get(service_field, service_field)
        parts = service_field.split(".")
        for prefix, rows in (
            ("budget.lines", self.line_rows),
            ("project.partners", self.partner_rows),
        ):
            head = prefix.split(".")
            if parts[: len(head)] == head and len(parts) > len(head) and parts[len(head)].isdigit():
                index = int(parts[len(head)])
                row = rows[index] if index < len(rows) else index
                return ".".join([*head, str(row), *parts[len(head) + 1 :]])
        return service_field


# A part of the dossier refused whole (a draft without any budget): said beside its first field.
_WHOLE = {
    "applicant": "applicant.name",
    "representative": "representative.name",
    "project": "project.title",
    "budget": "budget.lines",
}


def _nested(flat: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for dotted, value in flat.items():
        node = out
        *parents, last = dotted.split(".")
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return out


def rows(values: dict[str, str], prefix: str, minimum: int, spare: int = 0) -> int:
    """How many rows of a table of the form (`budget.lines`) to read, or to show: every row
    that holds something, `spare` empty ones after them, and `minimum` at least."""
    used = [
        int(row) + 1
        for name, value in values.items()
        if value and name.startswith(prefix + ".")
        for row in [name.removeprefix(prefix + ".").partition(".")[0]]
        if row.isdigit() and int(row) < MAX_ROWS
    ]
    return max(minimum, max(used, default=0) + spare)


def filing(form: FormData, siren: str) -> Filing:
    """The dossier of the form, the SIREN the person's own (never a field they can change)."""
    values = {k: str(v).strip() for k, v in form.multi_items() if isinstance(v, str)}
    return filing_of(values, [str(v) for v in form.getlist("project.objectives")], siren)


def filing_of(values: dict[str, str], objectives: list[str], siren: str) -> Filing:
    result = Filing(values=values, objectives=objectives)
    flat: dict[str, Any] = {name: values.get(name, "") for name in TEXTS}
    dossier = _nested(flat)
    dossier["applicant"]["siren"] = siren
    dossier["project"]["objectives"] = result.objectives
    dossier["project"]["duration_months"] = _number(values.get("project.duration_months", ""))
    partners = []
    for row in range(rows(values, "project.partners", PARTNER_ROWS)):
        name, kind = (
            values.get(f"project.partners.{row}.name", ""),
            values.get(f"project.partners.{row}.kind", ""),
        )
        if name or kind:
            partners.append({"name": name, "kind": kind})
            result.partner_rows.append(row)
    dossier["project"]["partners"] = partners
    lines = []
    for row in range(rows(values, "budget.lines", BUDGET_ROWS)):
        cells = {
            k: values.get(f"budget.lines.{row}.{k}", "")
            for k in ("year", "category", "label", "amount_eur")
        }
        if any(cells.values()):
            line: dict[str, Any] = {
                **cells,
                "year": _number(cells["year"]),
                "amount_eur": amount(cells["amount_eur"]),
            }
            line["permanent_post"] = values.get(f"budget.lines.{row}.permanent_post") == "on"
            lines.append(line)
            result.line_rows.append(row)
    dossier["budget"] = {
        "lines": lines,
        "total_cost_eur": amount(values.get("budget.total_cost_eur")),
    }
    dossier["requested_eur"] = amount(values.get("requested_eur"))
    result.dossier = dossier
    return result


def values_of(body: Any) -> Filing:
    """A dossier's body (as filed, or a draft's content, however far it goes) as the form's
    fields, to show it again in the form: the way back of `filing`."""
    body = body if isinstance(body, dict) else {}
    values: dict[str, str] = {}
    for name in (*TEXTS, "project.duration_months", "requested_eur", "budget.total_cost_eur"):
        value = at(body, name)
        if value is not None and not isinstance(value, dict | list):
            values[name] = str(value)
    project = body.get("project") if isinstance(body.get("project"), dict) else {}
    for row, partner in enumerate(_list(project.get("partners"))):
        for cell in ("name", "kind"):
            values[f"project.partners.{row}.{cell}"] = str(partner.get(cell) or "")
    budget = body.get("budget") if isinstance(body.get("budget"), dict) else {}
    for row, line in enumerate(_list(budget.get("lines"))):
        for cell in ("year", "category", "label", "amount_eur"):
            value = line.get(cell)
            values[f"budget.lines.{row}.{cell}"] = "" if value is None else str(value)
        if line.get("permanent_post") is True:
            values[f"budget.lines.{row}.permanent_post"] = "on"
    objectives = [str(o) for o in project.get("objectives") or [] if isinstance(o, str)]
    return Filing(values=values, objectives=objectives)


def draft_content(filing: Filing) -> dict[str, Any]:
    """What a draft keeps of the form: what was typed, however little (nothing empty)."""
    kept = _pruned(filing.dossier)
    return kept if isinstance(kept, dict) else {}


def changes(filing: Filing, fields: list[str]) -> dict[str, Any]:
    """The new value of each part of the dossier a correction asks for, as the form gives it."""
    return {name: at(filing.dossier, name) for name in fields}


def at(tree: Any, dotted: str) -> Any:
    """The value at `project.title` of a nested body, or None."""
    for key in dotted.split("."):
        if not isinstance(tree, dict):
            return None
        tree = tree.get(key)
    return tree


def _list(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _pruned(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: v for k, v in ((k, _pruned(v)) for k, v in value.items()) if v is not None}
        return kept or None
    if isinstance(value, list):
        items = [v for v in (_pruned(v) for v in value) if v is not None]
        return items or None
    if isinstance(value, str) and not value:
        return None
    return value


_FRENCH_AMOUNT = re.compile(r"[0-9]+(?:[.,][0-9]+)?")
_SPACES = re.compile(r"[\s\u00a0\u202f]")  # "1 200,50": spaces, no-break spaces, thin ones


def amount(text: Any) -> str:
    """An amount as a French person types it ("1 200,50", "120000", "1200.5 €") in the API's
    form ("1200.50" stays as typed otherwise, for the service to say what is wrong)."""
    typed = str(text or "").strip()
    bare = _SPACES.sub("", typed).removesuffix("€").removesuffix("EUR")
    return bare.replace(",", ".") if _FRENCH_AMOUNT.fullmatch(bare) else typed


def _number(text: str) -> Any:
    """A whole number as typed; anything else as typed, for the service to name what is wrong."""
    return int(text) if text.isdigit() else text
