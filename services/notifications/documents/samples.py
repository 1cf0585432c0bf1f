"""The sample documents of docs/documents/: one dossier's life, chained as the stores chain it,
rendered to PDF with a PNG of each first page. `python -m services.notifications.documents.samples
docs/documents` writes them again, the same each time (fixed ids and instants)."""

import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from uuid import UUID, uuid5

from services.notifications.documents import files
from services.notifications.documents.convention import convention
from shared.audit import AuditEvent
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.committee import CommitteeSessionHeld, SessionDossier, session_stream
from shared.contracts.payments import (
    BalanceReleased,
    FundsCommitted,
    InstalmentPaid,
    PlannedInstalment,
)
from shared.contracts.selection import (
    ConventionSignatureAdded,
    ConventionSigned,
    Outcome,
    SelectionDecided,
)
from shared.kernel import hashchain
from shared.language.campaigns import Campaign, load_campaigns

CAMPAIGN = "mildeca-2024"
NAMESPACE = UUID("6f1d3a52-9a53-4f7e-9d43-1c2f6a0b7e11")
MOTIVATION = (
    "Plan global mobilisant plusieurs leviers (formation des professionnels, prévention en "
    "collège, reconquête des halls), porté par la maire et le conseil municipal, avec le parquet "
    "et le bailleur social ; avis très favorable de la préfecture du Gard."
)
REJECTION = (
    "Actions ponctuelles et peu coordonnées ; le partenariat avec la police et la justice n'est "
    "pas établi. L'avis de la préfecture est réservé."
)


@dataclass
class Life:
    """A dossier's events as its services' stores record them: each stream chained."""

    dossier_id: UUID
    trail: list[AuditEvent] = field(default_factory=list)
    stream_id: str = ""  # the dossier's id, or a committee session's stream

    def __post_init__(self) -> None:
        self.stream_id = self.stream_id or str(self.dossier_id)

    def record(self, service: str, event: DomainEvent, at: datetime, actor: str) -> AuditEvent:
        stream = [e for e in self.trail if e.service == service]
        version = len(stream) + 1
        prev = stream[-1].hash if stream else hashchain.GENESIS
        event_id = uuid5(NAMESPACE, f"{self.dossier_id}/{service}/{version}")
        data = event.model_dump(mode="json")
        digest = hashchain.link(
            prev,
            stream_id=self.stream_id,
            version=version,
            event_id=str(event_id),
            event_type=event.cloud_type(),
            occurred_at=at.isoformat(),
            data=data,
            actor=actor,
        )
        recorded = AuditEvent(
            service,
            self.stream_id,
            version,
            event_id,
            event.name,
            event.cloud_type(),
            at,
            actor,
            None,
            data,
            prev,
            digest,
        )
        self.trail.append(recorded)
        return recorded


def ales() -> Dossier:
    """The demo's other commune (deploy/keycloak: maire.gard), its plan over three years."""
    return Dossier.model_validate(
        {
            "applicant": {
                "siren": "213000078",
                "name": "Commune d'Alès",
                "kind": "commune",
                "departement": "30",
            },
            "representative": {
                "name": "Sylvie Bousquet",
                "role": "maire",
                "email": "maire@ales.example.fr",
            },
            "project": {
                "title": "Alès, quartiers sans trafic : prévenir et reconquérir",
                "summary": "Plan partenarial du CISPD sur les Prés-Saint-Jean et la Royale.",
                "territory": "Quartiers des Prés-Saint-Jean et de la Royale, à Alès",
                "beneficiaries": "Collégiens de 11 à 16 ans, leurs familles, les habitants",
                "objectives": ["prevent_entry", "detect_and_support", "reclaim_public_space"],
                "partners": [{"name": "Parquet d'Alès", "kind": "justice"}],
                "duration_months": 36,
            },
            "budget": {
                "lines": [
                    _line(1, "personnel", "Coordinatrice du plan (CDD 3 ans)", "42000.00"),
                    _line(1, "training", "Formation des éducateurs et des médiateurs", "18000.00"),
                    _line(2, "actions", "Compétences psychosociales en collège", "56000.00"),
                    _line(3, "actions", "Chantiers éducatifs dans les halls", "59000.00"),
                    _line(3, "evaluation", "Évaluation par un laboratoire", "15000.00"),
                ],
                "total_cost_eur": "190000.00",
            },
            "requested_eur": "150000.00",
        }
    )


def _line(year: int, category: str, label: str, amount: str) -> dict[str, object]:
    return {"year": year, "category": category, "label": label, "amount_eur": amount}


def a_life(
    campaign: Campaign, *, granted: str = "125000.00", selected: bool = True, seed: str = "1"
) -> Life:
    """Filed, decided; when selected, signed by the three parties, committed, two instalments
    paid and the balance released."""
    life = Life(uuid5(NAMESPACE, f"dossier/{seed}"))
    d = ales()
    ids = {"dossier_id": life.dossier_id, "reference": "AAP-2024-00042", "campaign_id": campaign.id}
    who = {"siren": d.applicant.siren, "departement": d.applicant.departement}
    filed = _paris(2024, 4, 2, 11, 0)
    life.record(
        "applications",
        ApplicationSubmitted(**ids, submitted_at=filed, dossier=d),
        filed,
        f"applicant:{d.applicant.siren}",
    )
    decided = _paris(2024, 6, 20, 10, 0)
    grant = Decimal(granted) if selected else Decimal("0.00")
    decision = SelectionDecided(
        **ids,
        **who,
        outcome=Outcome.selected if selected else Outcome.rejected,
        requested_eur=d.requested_eur,
        granted_eur=grant,
        motivation=MOTIVATION if selected else REJECTION,
        decided_at=decided,
    )
    life.record("selection", decision, decided, "president:presidente")
    if not selected:
        return life
    signatories = [
        ("collectivite", "maire@ales.example.fr", _paris(2024, 7, 2, 9, 12)),
        ("prefecture", "cdp-mildeca@gard.gouv.fr", _paris(2024, 7, 4, 15, 40)),
        ("mildeca", "presidente@mildeca.gouv.fr", _paris(2024, 7, 8, 17, 5)),
    ]
    for party, signatory, at in signatories:
        added = ConventionSignatureAdded(**ids, party=party, signatory=signatory, signed_at=at)
        life.record("selection", added, at, signatory)
    signed_at = signatories[-1][2]
    signed = ConventionSigned(
        **ids, **who, granted_eur=grant, signed_at=signed_at, duration_months=36
    )
    life.record("selection", signed, signed_at, "presidente@mildeca.gouv.fr")
    plan = [
        PlannedInstalment(number=p.number, label=p.due_on, due_on=p.due_on, amount_eur=p.amount_eur)
        for p in convention(life.trail, {campaign.id: campaign}).plan
    ]
    committed = FundsCommitted(**ids, **who, committed_eur=grant, plan=plan, committed_at=signed_at)
    life.record("payments", committed, signed_at, "system:commitments")
    paid = Decimal("0.00")
    paid_at = [_paris(2024, 7, 22, 10, 0), _paris(2025, 9, 15, 10, 0)]
    for instalment, at in zip(plan[:-1], paid_at, strict=True):
        paid += instalment.amount_eur
        event = InstalmentPaid(
            dossier_id=life.dossier_id,
            reference=ids["reference"],
            number=instalment.number,
            label=instalment.label,
            amount_eur=instalment.amount_eur,
            paid_total_eur=paid,
            paid_at=at,
        )
        life.record("payments", event, at, "instructor:instruction")
    released = _paris(2027, 10, 4, 10, 0)
    balance = BalanceReleased(
        dossier_id=life.dossier_id,
        reference=ids["reference"],
        amount_eur=plan[-1].amount_eur,
        paid_total_eur=paid + plan[-1].amount_eur,
        released_at=released,
    )
    life.record("payments", balance, released, "instructor:instruction")
    return life


def a_session(campaign: Campaign) -> Life:
    """A session of the committee that examined three dossiers."""
    session_id = uuid5(NAMESPACE, "session/1")
    life = Life(session_id, stream_id=session_stream(session_id))
    held_at = _paris(2024, 6, 12, 14, 30)
    ranked = [
        ("AAP-2024-00042", "4.35", "125000.00"),
        ("AAP-2024-00017", "3.90", "98000.00"),
        ("AAP-2024-00051", "2.10", "0.00"),
    ]
    held = CommitteeSessionHeld(
        dossier_id=session_id,
        session_id=session_id,
        campaign_id=campaign.id,
        title="Comité de sélection du 12 juin 2024",
        held_at=held_at,
        moderator="instructor:instruction@mildeca.gouv.fr",
        members_present=[
            "rapporteur.sante@mildeca.gouv.fr",
            "rapporteur.justice@mildeca.gouv.fr",
            "rapporteur.interieur@mildeca.gouv.fr",
        ],
        dossiers=[
            SessionDossier(
                dossier_id=uuid5(NAMESPACE, reference),
                reference=reference,
                weighted_score=Decimal(score),
                proposed_eur=Decimal(proposed),
            )
            for reference, score, proposed in ranked
        ],
        minutes=(
            "Le comité a examiné trois dossiers. Il retient les deux premiers, plans globaux "
            "portés par les exécutifs locaux avec la police et la justice. Le troisième, fait "
            "d'actions ponctuelles, n'est pas proposé. Un rapporteur s'est déporté sur le dossier "
            "AAP-2024-00017 (conflit d'intérêts déclaré)."
        ),
        recorded_at=held_at,
    )
    life.record("selection", held, held_at, "instructor:instruction@mildeca.gouv.fr")
    return life


def _paris(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """An instant of the sample dossier, in UTC (summer time in Paris: two hours ahead)."""
    return datetime(year, month, day, hour - 2, minute, tzinfo=UTC)


def documents(campaigns: dict[str, Campaign]) -> list[files.Document]:
    campaign = campaigns[CAMPAIGN]
    life = a_life(campaign)
    rejected = a_life(campaign, selected=False, seed="2")
    payments = [e for e in life.trail if e.type in ("InstalmentPaid", "BalanceReleased")]
    return [
        files.decision(life.trail, campaigns),
        _renamed(files.decision(rejected.trail, campaigns), "decision-non-retenu.pdf"),
        files.convention_of(life.trail, campaigns),
        *(files.attestation_of(life.trail, e.event_id) for e in payments),
        files.minutes_of(a_session(campaign).trail, campaigns),
    ]


def _renamed(document: files.Document, filename: str) -> files.Document:
    return files.Document(filename, document.content)


def write(directory: Path) -> list[Path]:
    import pypdfium2  # a dev dependency: the samples are written by developers only

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for document in documents(load_campaigns()):
        path = directory / document.filename
        path.write_bytes(document.content)
        page = pypdfium2.PdfDocument(document.content)[0]
        page.render(scale=1.4).to_pil().save(path.with_suffix(".png"), optimize=True)
        written += [path, path.with_suffix(".png")]
    return written


if __name__ == "__main__":
    for path in write(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/documents")):
        print(path)
