"""A dossier's history across the services: its order, and the life the audit tests replay."""

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

from shared.audit import AuditEvent, ordered
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.notifications import NotificationSent
from shared.contracts.payments import (
    BalanceReleased,
    DepartmentalOpinionGiven,
    FinalReportSubmitted,
    FundsCommitted,
    InstalmentPaid,
    PlannedInstalment,
)
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    Scores,
    SelectionDecided,
)
from shared.kernel import hashchain
from tests.factories import eligible_dossier

SUBMITTED = datetime(2024, 4, 2, 9, 0, tzinfo=UTC)
DECIDED = datetime(2024, 6, 20, 8, 0, tzinfo=UTC)  # 10:00 in Paris
SIGNED = datetime(2024, 7, 1, 12, 0, tzinfo=UTC)
SECOND = timedelta(seconds=1)


@dataclass
class Life:
    """A dossier's events as the event stores record them: chained, with actor and cause."""

    dossier_id: UUID = field(default_factory=uuid4)
    events: list[AuditEvent] = field(default_factory=list)

    def record(
        self,
        service: str,
        event: DomainEvent,
        at: datetime,
        actor: str,
        caused_by: AuditEvent | None = None,
    ) -> AuditEvent:
        stream = [e for e in self.events if e.service == service]
        version, prev = len(stream) + 1, stream[-1].hash if stream else hashchain.GENESIS
        event_id, data = uuid4(), event.model_dump(mode="json")
        cause = str(caused_by.event_id) if caused_by else None
        digest = hashchain.link(
            prev,
            stream_id=str(self.dossier_id),
            version=version,
            event_id=str(event_id),
            event_type=event.cloud_type(),
            occurred_at=at.isoformat(),
            data=data,
            actor=actor,
            causation_id=cause,
        )
        recorded = AuditEvent(
            service,
            str(self.dossier_id),
            version,
            event_id,
            event.name,
            event.cloud_type(),
            at,
            actor,
            cause,
            data,
            prev,
            digest,
        )
        self.events.append(recorded)
        return recorded

    def of(self, type_: str) -> AuditEvent:
        return next(e for e in self.events if e.type == type_)


def a_whole_life(campaign: str = "mildeca-2024", granted: str = "120000.00") -> Life:
    life = Life()
    d = Dossier.model_validate(eligible_dossier())
    ids = {"dossier_id": life.dossier_id, "reference": "AAP-2024-00042", "campaign_id": campaign}
    who = {"siren": d.applicant.siren, "departement": "59"}
    applicant, prefecture = f"applicant:{d.applicant.siren}:maire", "prefecture:59:cdp"
    submitted = life.record(
        "applications",
        ApplicationSubmitted(**ids, submitted_at=SUBMITTED, dossier=d),
        SUBMITTED,
        applicant,
    )
    at = SUBMITTED + SECOND
    life.record(
        "selection",
        EligibilityChecked(
            **ids,
            **who,
            eligible=True,
            failed_rules=[],
            checked_at=at,
            applicant_name=d.applicant.name,
            requested_eur=d.requested_eur,
            objectives=d.project.objectives,
        ),
        at,
        "system:eligibility",
        submitted,
    )
    life.record(
        "selection",
        PrefectureOpinionRequested(**ids, departement="59", requested_at=at),
        at,
        "system:eligibility",
        submitted,
    )
    at = datetime(2024, 5, 20, 14, 0, tzinfo=UTC)
    life.record(
        "selection",
        PrefectureOpinionGiven(
            **ids,
            departement="59",
            opinion="favorable",
            motivation="Projet partenarial solide.",
            given_at=at,
        ),
        at,
        prefecture,
    )
    at = datetime(2024, 6, 10, 9, 0, tzinfo=UTC)
    life.record(
        "selection",
        CommitteeAssessmentRecorded(
            **ids,
            scores=Scores(
                adequacy=4,
                innovation=3,
                team_competence=4,
                methodology=4,
                partnership=5,
                prefecture_opinion=5,
            ),
            weighted_score=Decimal("4.29"),
            proposed_eur=Decimal(granted),
            comment="Plan global.",
            assessed_at=at,
        ),
        at,
        "instructor:agent",
    )
    life.record(
        "selection",
        SelectionDecided(
            **ids,
            **who,
            outcome="selected",
            requested_eur=d.requested_eur,
            granted_eur=Decimal(granted),
            motivation="Au vu de l'avis.",
            decided_at=DECIDED,
        ),
        DECIDED,
        "president:pdt",
    )
    life.record(
        "notifications",
        NotificationSent(
            dossier_id=life.dossier_id,
            notification_id="n1",
            template="decision",
            to=["a@b.fr"],
            cc=[],
            message_id="<m1>",
            sent_at=DECIDED + SECOND,
        ),
        DECIDED + SECOND,
        "system:mailer",
    )
    for offset, (party, actor) in enumerate(
        [("collectivite", applicant), ("prefecture", prefecture)]
    ):
        at = SIGNED - timedelta(days=2 - offset)
        life.record(
            "selection",
            ConventionSignatureAdded(**ids, party=party, signatory=actor, signed_at=at),
            at,
            actor,
        )
    life.record(
        "selection",
        ConventionSignatureAdded(**ids, party="mildeca", signatory="pdt", signed_at=SIGNED),
        SIGNED,
        "president:pdt",
    )
    signed = life.record(
        "selection",
        ConventionSigned(**ids, **who, granted_eur=Decimal(granted), signed_at=SIGNED),
        SIGNED,
        "president:pdt",
    )
    half = Decimal(granted) / 2
    plan = [
        PlannedInstalment(number=1, label="advance", due_on="signature", amount_eur=half),
        PlannedInstalment(number=2, label="balance", due_on="balance", amount_eur=half),
    ]
    life.record(
        "payments",
        FundsCommitted(
            **ids, **who, committed_eur=Decimal(granted), plan=plan, committed_at=SIGNED
        ),
        SIGNED,
        "system:commitments",
        signed,
    )
    at = datetime(2024, 7, 15, 9, 0, tzinfo=UTC)
    life.record(
        "payments",
        InstalmentPaid(
            dossier_id=life.dossier_id,
            reference=ids["reference"],
            number=1,
            label="advance",
            amount_eur=half,
            paid_total_eur=half,
            paid_at=at,
        ),
        at,
        "instructor:agent",
    )
    at = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)
    life.record(
        "payments",
        FinalReportSubmitted(
            dossier_id=life.dossier_id,
            reference=ids["reference"],
            justified_spending_eur=Decimal(granted),
            summary="420 jeunes touchés.",
            submitted_at=at,
        ),
        at,
        applicant,
    )
    at += timedelta(days=10)
    life.record(
        "payments",
        DepartmentalOpinionGiven(
            dossier_id=life.dossier_id,
            reference=ids["reference"],
            departement="59",
            opinion="favorable",
            motivation="Action efficace.",
            given_at=at,
        ),
        at,
        prefecture,
    )
    at += timedelta(days=5)
    life.record(
        "payments",
        BalanceReleased(
            dossier_id=life.dossier_id,
            reference=ids["reference"],
            amount_eur=half,
            paid_total_eur=Decimal(granted),
            released_at=at,
        ),
        at,
        "instructor:agent",
    )
    return life


def test_a_history_is_in_time_order_across_the_services():
    life = a_whole_life()
    shuffled = sorted(life.events, key=lambda e: (e.service, -e.version))
    assert [e.event_id for e in ordered(shuffled)] == [e.event_id for e in life.events]


def test_events_of_one_instant_follow_the_services_order():
    life = a_whole_life()
    signed, committed = life.of("ConventionSigned"), life.of("FundsCommitted")
    assert signed.occurred_at == committed.occurred_at
    assert ordered([committed, signed]) == [signed, committed]


def test_an_event_of_the_same_instant_comes_after_the_event_that_caused_it():
    life = a_whole_life()
    cause = life.of("BalanceReleased")
    # An applications event (first in the services' order) caused by a payments event.
    effect = replace(
        life.of("ApplicationSubmitted"),
        event_id=uuid4(),
        occurred_at=cause.occurred_at,
        causation_id=str(cause.event_id),
        stream_id="another",
    )
    assert ordered([effect, cause]) == [cause, effect]


def test_a_cause_stamped_later_by_a_skewed_clock_still_comes_first():
    life = a_whole_life()
    signed, committed = life.of("ConventionSigned"), life.of("FundsCommitted")
    skewed = replace(signed, occurred_at=committed.occurred_at + SECOND)
    assert ordered([committed, skewed]) == [skewed, committed]


def test_a_stream_keeps_its_versions_order_whatever_the_clocks_say():
    life = a_whole_life()
    first, second = [e for e in life.events if e.service == "payments"][:2]
    late_first = replace(first, occurred_at=second.occurred_at + SECOND)
    assert ordered([second, late_first]) == [late_first, second]
