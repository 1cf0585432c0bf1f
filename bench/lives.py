"""Valid events of many dossiers' lives, made fast: one life built with the contracts, then copied.

A dossier selected, signed, funded and mailed: 16 events over the four services' logs. The
model life is built once through the pydantic contracts; each copy only swaps the dossier id
in its JSON and draws fresh event ids, so millions of valid events cost little to make.
"""

import asyncio
import json
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from aiokafka import AIOKafkaProducer

from cli.demo import demo_dossier, random_siren
from shared.contracts import DomainEvent
from shared.contracts.applications import ApplicationSubmitted, Dossier
from shared.contracts.notifications import NotificationSent
from shared.contracts.payments import FundsCommitted, InstalmentPaid, PlannedInstalment
from shared.contracts.selection import (
    CommitteeAssessmentRecorded,
    ConventionSignatureAdded,
    ConventionSigned,
    EligibilityChecked,
    Opinion,
    Outcome,
    Party,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    Scores,
    SelectionDecided,
)
from shared.kernel.envelope import wrap

MODEL = UUID(
    "5eed0000-0000-4000-8000-00000000b0b0"
)  # the model life's dossier id, swapped in copies
REFERENCE = "AAP-BENCH-00001"  # the model life's reference, swapped in copies that ask for one
GRANTED = Decimal("120000.00")


def submitted(dossier_id: UUID, at: datetime, siren: str | None = None) -> ApplicationSubmitted:
    """An eligible ApplicationSubmitted of realistic size (the demo dossier)."""
    dossier = Dossier.model_validate(demo_dossier(siren or random_siren()))
    return ApplicationSubmitted(
        dossier_id=dossier_id,
        reference=REFERENCE,
        campaign_id="demo",
        submitted_at=at,
        dossier=dossier,
    )


def life(dossier_id: UUID, at: datetime) -> dict[str, list[DomainEvent]]:
    """Every event of one dossier's life, by the service that records it."""
    filed = submitted(dossier_id, at)
    applicant, d = filed.dossier.applicant, filed.dossier
    same = {
        "dossier_id": dossier_id,
        "reference": filed.reference,
        "campaign_id": filed.campaign_id,
    }
    day = timedelta(days=1)
    signatures: list[DomainEvent] = [
        ConventionSignatureAdded(
            **same,
            party=party,
            signatory=f"{party.value}@bench.example.fr",
            signed_at=at + 40 * day,
        )
        for party in Party
    ]
    motivation = "Plan global partenarial, porté par le maire, avec la police et le parquet."
    return {
        "applications": [filed],
        "selection": [
            EligibilityChecked(
                **same,
                eligible=True,
                failed_rules=[],
                checked_at=at,
                siren=applicant.siren,
                applicant_name=applicant.name,
                departement=applicant.departement,
                requested_eur=d.requested_eur,
                objectives=d.project.objectives,
            ),
            PrefectureOpinionRequested(**same, departement=applicant.departement, requested_at=at),
            PrefectureOpinionGiven(
                **same,
                departement=applicant.departement,
                opinion=Opinion.favorable,
                motivation=motivation,
                given_at=at + 10 * day,
            ),
            CommitteeAssessmentRecorded(
                **same,
                scores=Scores(
                    adequacy=4,
                    innovation=3,
                    team_competence=4,
                    methodology=4,
                    partnership=5,
                    prefecture_opinion=5,
                ),
                weighted_score=Decimal("4.29"),
                proposed_eur=GRANTED,
                comment=motivation,
                assessed_at=at + 20 * day,
            ),
            SelectionDecided(
                **same,
                siren=applicant.siren,
                departement=applicant.departement,
                outcome=Outcome.selected,
                requested_eur=d.requested_eur,
                granted_eur=GRANTED,
                motivation=motivation,
                decided_at=at + 30 * day,
            ),
            *signatures,
            ConventionSigned(
                **same,
                siren=applicant.siren,
                departement=applicant.departement,
                granted_eur=GRANTED,
                signed_at=at + 40 * day,
            ),
        ],
        "payments": [
            FundsCommitted(
                **same,
                siren=applicant.siren,
                departement=applicant.departement,
                committed_eur=GRANTED,
                committed_at=at + 40 * day,
                plan=[
                    PlannedInstalment(
                        number=1,
                        label="advance",
                        due_on="signature",
                        amount_eur=Decimal("60000.00"),
                    ),
                    PlannedInstalment(
                        number=2, label="balance", due_on="balance", amount_eur=Decimal("60000.00")
                    ),
                ],
            ),
            InstalmentPaid(
                dossier_id=dossier_id,
                reference=filed.reference,
                number=1,
                label="advance",
                amount_eur=Decimal("60000.00"),
                paid_total_eur=Decimal("60000.00"),
                paid_at=at + 41 * day,
            ),
        ],
        "notifications": [
            NotificationSent(
                dossier_id=dossier_id,
                notification_id=f"{uuid4()}:{template}",
                template=template,
                to=["maire@beaucaire.example.fr"],
                cc=["instruction-aap@mildeca.example.gouv.fr"],
                message_id=f"<{uuid4().hex}@aap.mildeca.gouv.fr>",
                sent_at=at,
            )
            for template in ("acknowledgement", "eligibility", "decision", "convention")
        ],
    }


@dataclass(frozen=True)
class Model:
    """One event of the model life, as JSON text holding the model dossier id."""

    service: str
    version: int
    event_type: str
    data: str
    headers: tuple[tuple[str, bytes], ...]  # the envelope's, ce_id and ce_subject left out


@dataclass(frozen=True)
class Record:
    """A Kafka record of one copied event."""

    service: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


class Lives:
    """Copies of the model life, for any number of dossiers."""

    def __init__(self, at: datetime | None = None, services: tuple[str, ...] | None = None) -> None:
        self.at = (at or datetime.now(UTC)).astimezone(UTC)
        models: list[Model] = []
        for service, events in life(MODEL, self.at).items():
            if services is not None and service not in services:
                continue
            for version, event in enumerate(events, start=1):
                envelope = wrap(event, event_id=MODEL, source=f"/aap/{service}", time=self.at)
                headers = tuple(
                    (k, v.encode())
                    for k, v in envelope.headers().items()
                    if k not in ("ce_id", "ce_subject")
                )
                models.append(
                    Model(
                        service,
                        version,
                        event.cloud_type(),
                        json.dumps(event.model_dump(mode="json"), ensure_ascii=False),
                        headers,
                    )
                )
        self.models = models
        self.model_id = str(MODEL)

    @property
    def per_dossier(self) -> int:
        return len(self.models)

    def records(self, dossier_id: UUID, reference: str = REFERENCE) -> Iterator[Record]:
        """The dossier's events as Kafka records (binary CloudEvents), in their log order."""
        text = str(dossier_id)
        subject = ("ce_subject", text.encode())
        for m in self.models:
            data = m.data.replace(self.model_id, text)
            value = (
                data if reference == REFERENCE else data.replace(REFERENCE, reference)
            ).encode()
            yield Record(
                m.service,
                text.encode(),
                value,
                [("ce_id", str(uuid4()).encode()), subject, *m.headers],
            )

    def rows(self, dossier_id: UUID) -> Iterator[tuple[str, tuple[Any, ...]]]:
        """The dossier's events as rows of each service's `events` table (the chain is not
        valid)."""
        text = str(dossier_id)
        for m in self.models:
            yield (
                m.service,
                (
                    text,
                    m.version,
                    uuid4(),
                    m.event_type,
                    self.at,
                    m.data.replace(self.model_id, text),
                    '{"actor": "bench"}',
                    "0" * 64,
                    "f" * 64,
                ),
            )


EVENT_COLUMNS = [
    "stream_id",
    "version",
    "event_id",
    "event_type",
    "occurred_at",
    "data",
    "metadata",
    "prev_hash",
    "hash",
]


async def publish(bootstrap: str, topic_of: Mapping[str, str], records: Iterable[Record]) -> float:
    """Write the records to their service's topic, fast (acks=1, large batches); returns the rate
    they were written at (records/s)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks=1, linger_ms=50, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        start, sent, pending = time.perf_counter(), 0, []
        for record in records:
            pending.append(
                await producer.send(
                    topic_of[record.service],
                    value=record.value,
                    key=record.key,
                    headers=record.headers,
                )
            )
            sent += 1
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
        return sent / (time.perf_counter() - start)
    finally:
        await producer.stop()
