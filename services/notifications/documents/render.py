"""HTML and CSS to PDF/A-3b with WeasyPrint: the templates in French, the audited event embedded.

PDF/A-3 keeps the document readable for the archives and allows the event it records to travel
inside it (evenement.json): its hash is recomputed from it (shared/kernel/hashchain.py).
"""

import json
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

import jinja2
from weasyprint import CSS, HTML, Attachment

from services.notifications.documents.dossier import Attested
from shared.language.french import (
    BUDGET_CATEGORIES,
    DUE_ON,
    SIGNING_PARTIES,
    date,
    date_and_time,
    euros,
)

PDF_VARIANT = "pdf/a-3b"


@cache
def _templates() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("services.notifications.documents", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        euros=euros,
        date=lambda moment: date(moment.isoformat()),
        date_and_time=lambda moment: date_and_time(moment.isoformat()),
        percent=_percent,
        points=lambda score: f"{score:.2f}".replace(".", ","),
    )
    env.globals.update(due_on=DUE_ON, parties=SIGNING_PARTIES, categories=BUDGET_CATEGORIES)
    return env


def _percent(share: Decimal) -> str:
    """0.3 → "30 %" (a no-break space, as French writes it)."""
    return f"{(share * 100).normalize():f}".replace(".", ",") + "\u00a0%"


@cache
def _stylesheet() -> CSS:
    css = resources.files(__package__).joinpath("templates", "style.css").read_text()
    return CSS(string=css)


def html(template: str, **context: Any) -> str:
    return _templates().get_template(template).render(**context)


def pdf(
    template: str, *, title: str, footer: str, audit_route: str, attested: Attested, **context: Any
) -> bytes:
    """The document as PDF/A-3b; its metadata and every page's footer name the event's hash."""
    source = html(
        template,
        title=title,
        footer=footer,
        audit_route=audit_route,
        attested=attested,
        **context,
    )
    record = json.dumps(attested.record, ensure_ascii=False, indent=2, sort_keys=True)
    event = Attachment(
        string=record,
        name="evenement.json",
        description=f"L'événement {attested.type} tel que publié (empreinte {attested.hash})",
        relationship="Source",
        created=attested.occurred_at,
        modified=attested.occurred_at,
    )
    written = HTML(string=source).write_pdf(
        stylesheets=[_stylesheet()],
        pdf_variant=PDF_VARIANT,
        attachments=[event],
        # the same document each time it is rendered: its identifier is the event's hash
        pdf_identifier=bytes.fromhex(attested.hash)[:16] if attested.hash else False,
    )
    assert isinstance(written, bytes)
    return written
