"""The payments of one dossier: decide(state, command) -> events; evolve(state, event)."""

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID

from services.payments.plan import BALANCE, ZERO, balance_due, plan_of
from services.payments.refusals import (
    BalanceIsNext,
    OpinionAlreadyGiven,
    OpinionMissing,
    ReportAlreadySubmitted,
    ReportMissing,
    committed_of,
    require_binding,
    still_open,
)
from shared.contracts import DomainEvent
from shared.contracts.payments import (
    BalanceReleased,
    BalanceWithheld,
    DepartmentalOpinion,
    DepartmentalOpinionGiven,
    FinalReportSubmitted,
    FundsCommitted,
    InstalmentPaid,
)
from shared.contracts.selection import ConventionSigned
from shared.language.actors import Actor, Role, require_role
from shared.language.campaigns import Campaign


@dataclass(frozen=True)
class PaymentsState:
    commitment: FundsCommitted | None = None
    paid: frozenset[int] = frozenset()  # the numbers of the plan's entries paid
    paid_total: Decimal = ZERO
    report: FinalReportSubmitted | None = None
    opinion: DepartmentalOpinionGiven | None = None
    settlement: BalanceReleased | BalanceWithheld | None = None


def evolve(state: PaymentsState, event: DomainEvent) -> PaymentsState:
    if isinstance(event, FundsCommitted):
        return replace(state, commitment=event)
    if isinstance(event, InstalmentPaid):
        return replace(state, paid=state.paid | {event.number}, paid_total=event.paid_total_eur)
    if isinstance(event, FinalReportSubmitted):
        return replace(state, report=event)
    if isinstance(event, DepartmentalOpinionGiven):
        return replace(state, opinion=event)
    if isinstance(event, BalanceReleased):
        return replace(state, settlement=event, paid_total=event.paid_total_eur)
    if isinstance(event, BalanceWithheld):
        return replace(state, settlement=event)
    return state


def commit(
    state: PaymentsState, signed: ConventionSigned, campaign: Campaign, now: datetime
) -> list[DomainEvent]:
    """The engagement, when the convention binds: the grant, paid by the campaign's plan."""
    if state.commitment is not None:  # a redelivered signature commits nothing more
        return []
    return [
        FundsCommitted(
            dossier_id=signed.dossier_id,
            reference=signed.reference,
            campaign_id=signed.campaign_id,
            siren=signed.siren,
            departement=signed.departement,
            committed_eur=signed.granted_eur,
            plan=plan_of(campaign.payment_plan, signed.granted_eur),
            committed_at=now,
        )
    ]


def pay_instalment(
    state: PaymentsState, actor: Actor, dossier_id: UUID, now: datetime
) -> list[DomainEvent]:
    committed = _acting(state, actor, Role.instructor, dossier_id, "record payments")
    still_open(state.settlement)
    entry = next(e for e in committed.plan if e.number not in state.paid)
    if entry.due_on == BALANCE:
        raise BalanceIsNext(
            f"every instalment of {committed.reference} is paid and the next payment is the "
            f"balance: the balance is released on the final report and the departmental "
            f"opinion, POST /dossiers/{dossier_id}/balance"
        )
    return [
        InstalmentPaid(
            dossier_id=dossier_id,
            reference=committed.reference,
            number=entry.number,
            label=entry.label,
            amount_eur=entry.amount_eur,
            paid_total_eur=state.paid_total + entry.amount_eur,
            paid_at=now,
        )
    ]


def submit_final_report(
    state: PaymentsState,
    actor: Actor,
    dossier_id: UUID,
    *,
    justified_spending_eur: Decimal,
    summary: str,
    now: datetime,
) -> list[DomainEvent]:
    committed = _acting(state, actor, Role.applicant, dossier_id, "submit the final report")
    if state.report is not None:
        raise ReportAlreadySubmitted(
            f"the final report of {committed.reference} was submitted on "
            f"{state.report.submitted_at.isoformat()}: it is submitted once"
        )
    return [
        FinalReportSubmitted(
            dossier_id=dossier_id,
            reference=committed.reference,
            justified_spending_eur=justified_spending_eur,
            summary=summary,
            submitted_at=now,
        )
    ]


def give_opinion(
    state: PaymentsState,
    actor: Actor,
    dossier_id: UUID,
    *,
    opinion: DepartmentalOpinion,
    motivation: str,
    now: datetime,
) -> list[DomainEvent]:
    """The departmental project lead's motivated opinion; an unfavourable one withholds the
    balance in the same append."""
    committed = _acting(
        state,
        actor,
        Role.prefecture,
        dossier_id,
        "give the departmental opinion before the balance",
    )
    if state.opinion is not None:
        raise OpinionAlreadyGiven(
            f"the departmental opinion on {committed.reference} was given on "
            f"{state.opinion.given_at.isoformat()}: it is given once"
        )
    if state.report is None:
        raise ReportMissing(
            f"the departmental opinion on {committed.reference} is based on the evaluation of "
            "the action's effectiveness: it awaits the final report"
        )
    given = DepartmentalOpinionGiven(
        dossier_id=dossier_id,
        reference=committed.reference,
        departement=committed.departement,
        opinion=opinion,
        motivation=motivation,
        given_at=now,
    )
    if opinion is DepartmentalOpinion.favorable:
        return [given]
    withheld = balance_due(
        committed.committed_eur, state.report.justified_spending_eur, state.paid_total
    )
    return [
        given,
        BalanceWithheld(
            dossier_id=dossier_id,
            reference=committed.reference,
            withheld_eur=withheld,
            motivation=motivation,
            withheld_at=now,
        ),
    ]


def release_balance(
    state: PaymentsState, actor: Actor, dossier_id: UUID, now: datetime
) -> list[DomainEvent]:
    committed = _acting(state, actor, Role.instructor, dossier_id, "release the balance")
    still_open(state.settlement)
    rule = (
        "the balance is released only after the final report and a favourable departmental opinion"
    )
    if state.report is None:
        raise ReportMissing(f"{rule}: the final report of {committed.reference} is missing")
    if state.opinion is None:
        raise OpinionMissing(
            f"{rule}: the departmental opinion on {committed.reference} is missing"
        )
    amount = balance_due(
        committed.committed_eur, state.report.justified_spending_eur, state.paid_total
    )
    # Released even at 0.00 (spending justified below what was already paid): it closes the file.
    return [
        BalanceReleased(
            dossier_id=dossier_id,
            reference=committed.reference,
            amount_eur=amount,
            paid_total_eur=state.paid_total + amount,
            released_at=now,
        )
    ]


def _acting(
    state: PaymentsState, actor: Actor, role: Role, dossier_id: UUID, to: str
) -> FundsCommitted:
    """Who may act (403 naming the role), on what payments knows (404), within the actor's
    binding (403 naming the SIREN or the département): the dossier's commitment."""
    require_role(actor, role, to=to)
    committed = committed_of(state.commitment, dossier_id)
    require_binding(actor, committed, to)
    return committed
