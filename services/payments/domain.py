"""The payments of one dossier: decide(state, command) -> events; evolve(state, event)."""

from dataclasses import dataclass, replace
from decimal import Decimal
from uuid import UUID

from services.payments import activity, deadlines, proofs
from services.payments.commands import (
    AddSpendingProof,
    Command,
    CommitFunds,
    GiveOpinion,
    PayInstalment,
    RecordReportOverdue,
    ReleaseBalance,
    RemindOfFinalReport,
    SubmitActivityReport,
    SubmitFinalReport,
)
from services.payments.errors import (
    BalanceIsNext,
    BalanceSettled,
    BalanceWithheldError,
    NothingCommitted,
    OpinionAlreadyGiven,
    OpinionMissing,
    ReportAlreadySubmitted,
    ReportMissing,
)
from services.payments.plan import BALANCE, ZERO, balance_due, plan_of
from shared.contracts import DomainEvent
from shared.contracts.deadlines import DeadlineApproaching
from shared.contracts.payments import (
    ActivityReportSubmitted,
    BalanceReleased,
    BalanceWithheld,
    DepartmentalOpinion,
    DepartmentalOpinionGiven,
    FinalReportOverdue,
    FinalReportSubmitted,
    FundsCommitted,
    InstalmentPaid,
    SpendingProofAdded,
)
from shared.kernel.decider import Decider
from shared.language.actors import Actor, Role, require_role, within_binding


@dataclass(frozen=True)
class PaymentsState:
    commitment: FundsCommitted | None = None
    paid: frozenset[int] = frozenset()  # the numbers of the plan's entries paid
    paid_total: Decimal = ZERO
    report: FinalReportSubmitted | None = None
    opinion: DepartmentalOpinionGiven | None = None
    settlement: BalanceReleased | BalanceWithheld | None = None
    reminders: tuple[DeadlineApproaching, ...] = ()  # of the final report
    report_overdue: FinalReportOverdue | None = None
    proofs: frozenset[UUID] = frozenset()  # the attachment ids of the proofs of spending
    activity_reports: int = 0  # how many activity reports were filed


def decide(state: PaymentsState, command: Command) -> list[DomainEvent]:
    match command:
        case CommitFunds():
            return _commit(state, command)
        case PayInstalment():
            return _pay_instalment(state, command)
        case SubmitActivityReport():
            return activity.submit(state, command)
        case SubmitFinalReport():
            return _submit_final_report(state, command)
        case GiveOpinion():
            return _give_opinion(state, command)
        case ReleaseBalance():
            return _release_balance(state, command)
        case RemindOfFinalReport():
            return deadlines.remind(state, command)
        case RecordReportOverdue():
            return deadlines.record_overdue(state, command)
        case AddSpendingProof():
            return proofs.add(state, command)


def evolve(state: PaymentsState, event: DomainEvent) -> PaymentsState:
    match event:
        case SpendingProofAdded(attachment=a):
            return replace(state, proofs=state.proofs | {a.attachment_id})
        case FundsCommitted():
            return replace(state, commitment=event)
        case ActivityReportSubmitted():
            return replace(state, activity_reports=event.number)
        case InstalmentPaid():
            return replace(state, paid=state.paid | {event.number}, paid_total=event.paid_total_eur)
        case FinalReportSubmitted():
            return replace(state, report=event)
        case DepartmentalOpinionGiven():
            return replace(state, opinion=event)
        case BalanceReleased():
            return replace(state, settlement=event, paid_total=event.paid_total_eur)
        case BalanceWithheld():
            return replace(state, settlement=event)
        case DeadlineApproaching():
            return replace(state, reminders=(*state.reminders, event))
        case FinalReportOverdue():
            return replace(state, report_overdue=event)
        case _:
            return state


PAYMENTS: Decider[PaymentsState, Command] = Decider(PaymentsState(), decide, evolve)


def _commit(state: PaymentsState, c: CommitFunds) -> list[DomainEvent]:
    """The engagement, when the convention binds: the grant, paid by the campaign's plan."""
    if state.commitment is not None:  # a redelivered signature commits nothing more
        return []
    signed = c.signed
    return [
        FundsCommitted(
            dossier_id=signed.dossier_id,
            reference=signed.reference,
            campaign_id=signed.campaign_id,
            siren=signed.siren,
            departement=signed.departement,
            committed_eur=signed.granted_eur,
            plan=plan_of(c.campaign.payment_plan, signed.granted_eur),
            committed_at=c.now,
            final_report_due_at=deadlines.final_report_due_at(
                c.now, signed.duration_months, c.campaign
            ),
        )
    ]


def _pay_instalment(state: PaymentsState, c: PayInstalment) -> list[DomainEvent]:
    committed = _acting(state, c.actor, Role.instructor, c.dossier_id, "record payments")
    _still_open(state.settlement)
    entry = next(e for e in committed.plan if e.number not in state.paid)
    if entry.due_on == BALANCE:
        raise BalanceIsNext(
            f"every instalment of {committed.reference} is paid and the next payment is the "
            f"balance: the balance is released on the final report and the departmental "
            f"opinion, POST /dossiers/{c.dossier_id}/balance"
        )
    activity.require_reports(state, committed, entry)
    return [
        InstalmentPaid(
            dossier_id=c.dossier_id,
            reference=committed.reference,
            number=entry.number,
            label=entry.label,
            amount_eur=entry.amount_eur,
            paid_total_eur=state.paid_total + entry.amount_eur,
            paid_at=c.now,
        )
    ]


def _submit_final_report(state: PaymentsState, c: SubmitFinalReport) -> list[DomainEvent]:
    committed = _acting(state, c.actor, Role.applicant, c.dossier_id, "submit the final report")
    if state.report is not None:
        raise ReportAlreadySubmitted(
            f"the final report of {committed.reference} was submitted on "
            f"{state.report.submitted_at.isoformat()}: it is submitted once"
        )
    return [
        FinalReportSubmitted(
            dossier_id=c.dossier_id,
            reference=committed.reference,
            justified_spending_eur=c.justified_spending_eur,
            summary=c.summary,
            submitted_at=c.now,
        )
    ]


def _give_opinion(state: PaymentsState, c: GiveOpinion) -> list[DomainEvent]:
    """The departmental project lead's motivated opinion; an unfavourable one withholds the
    balance in the same append."""
    committed = _acting(
        state,
        c.actor,
        Role.prefecture,
        c.dossier_id,
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
        dossier_id=c.dossier_id,
        reference=committed.reference,
        departement=committed.departement,
        opinion=c.opinion,
        motivation=c.motivation,
        given_at=c.now,
    )
    if c.opinion is DepartmentalOpinion.favorable:
        return [given]
    withheld = balance_due(
        committed.committed_eur, state.report.justified_spending_eur, state.paid_total
    )
    return [
        given,
        BalanceWithheld(
            dossier_id=c.dossier_id,
            reference=committed.reference,
            withheld_eur=withheld,
            motivation=c.motivation,
            withheld_at=c.now,
        ),
    ]


def _release_balance(state: PaymentsState, c: ReleaseBalance) -> list[DomainEvent]:
    committed = _acting(state, c.actor, Role.instructor, c.dossier_id, "release the balance")
    _still_open(state.settlement)
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
            dossier_id=c.dossier_id,
            reference=committed.reference,
            amount_eur=amount,
            paid_total_eur=state.paid_total + amount,
            released_at=c.now,
        )
    ]


def _acting(
    state: PaymentsState, actor: Actor, role: Role, dossier_id: UUID, to: str
) -> FundsCommitted:
    """Who may act (403 naming the role), on what payments knows within the actor's binding
    (404 otherwise, alike for a dossier unknown and one outside the binding): the commitment."""
    require_role(actor, role, to=to)
    committed = state.commitment
    if committed is None or not within_binding(
        actor, siren=committed.siren, departement=committed.departement
    ):
        raise NothingCommitted(f"payments knows no dossier {dossier_id}: no convention signed yet")
    return committed


def _still_open(settlement: BalanceReleased | BalanceWithheld | None) -> None:
    """The balance, released or withheld, closes the dossier's payments."""
    if isinstance(settlement, BalanceWithheld):
        raise BalanceWithheldError(
            f"the balance of {settlement.reference} was withheld on an unfavourable departmental "
            f"opinion ({settlement.withheld_at.isoformat()}): no payment follows"
        )
    if isinstance(settlement, BalanceReleased):
        raise BalanceSettled(
            f"the balance of {settlement.reference} was released on "
            f"{settlement.released_at.isoformat()}: the dossier's payments are closed"
        )
