"""The payments of one dossier: committed at signature, paid by instalments, closed by the
balance."""

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.payments.commands import (
    CommitFunds,
    GiveOpinion,
    PayInstalment,
    ReleaseBalance,
    SubmitActivityReport,
    SubmitFinalReport,
)
from services.payments.domain import PaymentsState, decide, evolve
from services.payments.errors import (
    ActivityReportAwaited,
    BalanceIsNext,
    BalanceSettled,
    BalanceWithheldError,
    NothingCommitted,
    OpinionAlreadyGiven,
    OpinionMissing,
    ReportAlreadySubmitted,
    ReportMissing,
    UnknownProof,
)
from shared.contracts import DomainEvent
from shared.contracts.payments import (
    ActivityReportSubmitted,
    BalanceReleased,
    BalanceWithheld,
    DepartmentalOpinion,
    DepartmentalOpinionGiven,
    FundsCommitted,
    InstalmentPaid,
)
from shared.contracts.selection import ConventionSigned
from shared.language.actors import Actor, Role
from shared.language.campaigns import Campaign, load_campaigns
from shared.language.errors import Forbidden
from tests.factories import random_siren

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2025, 3, 1, 10, 0, tzinfo=PARIS)
SIREN = random_siren()
INSTRUCTOR = Actor(Role.instructor, "instruction@mildeca.example.fr")
APPLICANT = Actor(Role.applicant, "maire@roubaix.example.fr", siren=SIREN)
PREFECTURE = Actor(Role.prefecture, "chef-de-projet@nord.example.fr", departement="59")
FAVORABLE, UNFAVORABLE = DepartmentalOpinion.favorable, DepartmentalOpinion.unfavorable


@pytest.fixture(scope="module")
def campaign() -> Campaign:
    return load_campaigns()["mildeca-2024"]  # 50 % at signature, 30 % on a report, 20 % balance


def signed(granted: str = "100000.00") -> ConventionSigned:
    return ConventionSigned(
        dossier_id=uuid4(),
        reference="AAP-2024-00042",
        campaign_id="mildeca-2024",
        siren=SIREN,
        departement="59",
        granted_eur=Decimal(granted),
        signed_at=NOW,
    )


def fold(events: list[DomainEvent], state: PaymentsState = PaymentsState()) -> PaymentsState:  # noqa: B008
    for event in events:
        state = evolve(state, event)
    return state


def committed(campaign: Campaign, granted: str = "100000.00") -> PaymentsState:
    return fold(decide(PaymentsState(), CommitFunds(signed(granted), campaign, NOW)))


def dossier(state: PaymentsState) -> UUID:
    assert state.commitment is not None
    return state.commitment.dossier_id


def pay(state: PaymentsState, times: int = 1) -> PaymentsState:
    for _ in range(times):
        state = fold(decide(state, PayInstalment(INSTRUCTOR, dossier(state), NOW)), state)
    return state


def activity(
    actor: Actor, dossier_id: UUID, *attachments: UUID, asked: bool = True
) -> SubmitActivityReport:
    return SubmitActivityReport(
        actor=actor,
        dossier_id=dossier_id,
        summary="Deux quartiers couverts, trente jeunes accompagnés.",
        spent_to_date_eur=Decimal("54200.00"),
        attachments=attachments,
        instalment_asked=asked,
        now=NOW,
    )


def activity_report(state: PaymentsState) -> PaymentsState:
    return fold(decide(state, activity(APPLICANT, dossier(state))), state)


def instalments_paid(campaign: Campaign) -> PaymentsState:
    """The advance, the first activity report and the instalment it unlocks: the balance next."""
    return pay(activity_report(pay(committed(campaign))))


def final_report(
    actor: Actor, dossier_id: UUID, justified: str = "100000.00", summary: str = "x"
) -> SubmitFinalReport:
    return SubmitFinalReport(
        actor=actor,
        dossier_id=dossier_id,
        justified_spending_eur=Decimal(justified),
        summary=summary,
        now=NOW,
    )


def report(state: PaymentsState, justified: str = "100000.00") -> PaymentsState:
    return fold(
        decide(
            state,
            final_report(
                APPLICANT, dossier(state), justified, summary="Actions menées, effets mesurés."
            ),
        ),
        state,
    )


def departmental_opinion(
    actor: Actor, dossier_id: UUID, verdict: DepartmentalOpinion, motivation: str
) -> GiveOpinion:
    return GiveOpinion(
        actor=actor, dossier_id=dossier_id, opinion=verdict, motivation=motivation, now=NOW
    )


def opinion(state: PaymentsState, verdict: DepartmentalOpinion = FAVORABLE) -> PaymentsState:
    return fold(
        decide(
            state,
            departmental_opinion(
                PREFECTURE, dossier(state), verdict, "Évaluation du CLSPD : actions efficaces."
            ),
        ),
        state,
    )


def release(state: PaymentsState) -> BalanceReleased:
    [released] = decide(state, ReleaseBalance(INSTRUCTOR, dossier(state), NOW))
    assert isinstance(released, BalanceReleased)
    return released


# Commitment


def test_a_signed_convention_commits_the_grant_with_the_campaigns_plan(campaign):
    # given a convention signed for 100,000 EUR
    signature = signed("100000.00")
    # when payments reacts to it
    [event] = decide(PaymentsState(), CommitFunds(signature, campaign, NOW))
    # then the grant is committed, to be paid 50 / 30 / 20 %
    assert isinstance(event, FundsCommitted)
    assert (event.dossier_id, event.siren, event.departement, event.committed_eur) == (
        signature.dossier_id,
        SIREN,
        "59",
        Decimal("100000.00"),
    )
    assert [(p.number, p.due_on, p.amount_eur) for p in event.plan] == [
        (1, "signature", Decimal("50000.00")),
        (2, "activity_report", Decimal("30000.00")),
        (3, "balance", Decimal("20000.00")),
    ]


def test_the_plan_adds_up_exactly_to_the_grant_with_odd_cents(campaign):
    [event] = decide(PaymentsState(), CommitFunds(signed("100000.01"), campaign, NOW))
    assert isinstance(event, FundsCommitted)
    assert sum(p.amount_eur for p in event.plan) == Decimal("100000.01")
    # the instalments are rounded down to the cent, the balance takes the rest
    assert [p.amount_eur for p in event.plan] == [
        Decimal("50000.00"),
        Decimal("30000.00"),
        Decimal("20000.01"),
    ]


def test_a_redelivered_convention_signature_commits_once(campaign):
    signature = signed()
    state = fold(decide(PaymentsState(), CommitFunds(signature, campaign, NOW)))
    assert decide(state, CommitFunds(signature, campaign, NOW)) == []


# Instalments


def test_instalments_are_paid_in_the_order_of_the_plan(campaign):
    state = committed(campaign, "100000.01")
    [first] = decide(state, PayInstalment(INSTRUCTOR, dossier(state), NOW))
    [second] = decide(activity_report(pay(state)), PayInstalment(INSTRUCTOR, dossier(state), NOW))
    assert isinstance(first, InstalmentPaid) and isinstance(second, InstalmentPaid)
    assert (first.number, first.amount_eur, first.paid_total_eur) == (
        1,
        Decimal("50000.00"),
        Decimal("50000.00"),
    )
    assert (second.number, second.amount_eur, second.paid_total_eur) == (
        2,
        Decimal("30000.00"),
        Decimal("80000.00"),
    )


def test_the_balance_is_not_an_instalment(campaign):
    state = instalments_paid(campaign)
    with pytest.raises(BalanceIsNext, match="/balance"):
        decide(state, PayInstalment(INSTRUCTOR, dossier(state), NOW))


# Activity reports


def test_the_instalment_due_on_the_activity_report_awaits_it_and_says_which(campaign):
    # given the advance paid and no activity report filed
    state = pay(committed(campaign))
    # when the instructor pays the next instalment, due on the first activity report
    with pytest.raises(ActivityReportAwaited) as caught:
        decide(state, PayInstalment(INSTRUCTOR, dossier(state), NOW))
    # then it is refused, naming the report awaited and where to file it
    assert caught.value.status == 409
    assert "activity report no. 1" in caught.value.detail
    assert "/activity-reports" in caught.value.detail
    # and once the applicant filed it, the instalment is paid
    [paid] = decide(activity_report(state), PayInstalment(INSTRUCTOR, dossier(state), NOW))
    assert isinstance(paid, InstalmentPaid) and paid.number == 2


def test_the_advance_at_signature_awaits_no_activity_report(campaign):
    state = committed(campaign)
    [paid] = decide(state, PayInstalment(INSTRUCTOR, dossier(state), NOW))
    assert isinstance(paid, InstalmentPaid) and paid.number == 1


def test_an_activity_report_may_come_before_the_advance_is_paid(campaign):
    state = activity_report(committed(campaign))
    state = pay(state, times=2)
    assert state.paid == frozenset({1, 2})


def test_activity_reports_are_numbered_in_order(campaign):
    state = committed(campaign)
    [first] = decide(state, activity(APPLICANT, dossier(state)))
    [second] = decide(fold([first], state), activity(APPLICANT, dossier(state), asked=False))
    assert isinstance(first, ActivityReportSubmitted)
    assert isinstance(second, ActivityReportSubmitted)
    assert (first.number, first.instalment_asked) == (1, True)
    assert (second.number, second.instalment_asked) == (2, False)
    assert first.spent_to_date_eur == Decimal("54200.00")


def test_an_activity_report_points_only_to_proofs_already_added(campaign):
    state = committed(campaign)
    added = uuid4()
    [filed] = decide(
        replace(state, proofs=frozenset({added})), activity(APPLICANT, dossier(state), added)
    )
    assert isinstance(filed, ActivityReportSubmitted) and filed.attachments == [added]
    with pytest.raises(UnknownProof, match="proofs of spending already added"):
        decide(state, activity(APPLICANT, dossier(state), uuid4()))


@pytest.mark.parametrize("role", [Role.instructor, Role.prefecture, Role.auditor])
def test_only_the_applicant_files_an_activity_report(campaign, role):
    state = committed(campaign)
    actor = Actor(role, "someone@mildeca.example.fr", departement="59")
    with pytest.raises(Forbidden, match="file an activity report"):
        decide(state, activity(actor, dossier(state)))


def test_an_applicant_of_another_siren_filing_an_activity_report_is_answered_as_for_no_dossier(
    campaign,
):
    state = committed(campaign)
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(NothingCommitted) as caught:
        decide(state, activity(stranger, dossier(state)))
    assert SIREN not in without(caught.value.detail, dossier(state))


def test_no_activity_report_before_the_funds_are_committed():
    with pytest.raises(NothingCommitted, match="no convention signed yet"):
        decide(PaymentsState(), activity(APPLICANT, uuid4()))


def test_no_activity_report_once_the_balance_is_settled(campaign):
    state = opinion(report(instalments_paid(campaign)))
    state = fold([release(state)], state)
    with pytest.raises(BalanceSettled, match="no activity report"):
        decide(state, activity(APPLICANT, dossier(state)))


def test_nothing_is_paid_before_the_funds_are_committed():
    with pytest.raises(NothingCommitted, match="no convention signed yet"):
        decide(PaymentsState(), PayInstalment(INSTRUCTOR, uuid4(), NOW))


@pytest.mark.parametrize("role", [Role.auditor, Role.president])
def test_auditor_and_president_cannot_record_payments(campaign, role):
    state = committed(campaign)
    with pytest.raises(Forbidden, match="record payments"):
        decide(state, PayInstalment(Actor(role, "someone@mildeca.example.fr"), dossier(state), NOW))


@pytest.mark.parametrize("verdict", [FAVORABLE, UNFAVORABLE])
def test_no_instalment_is_paid_once_the_balance_is_settled(campaign, verdict):
    state = opinion(report(pay(committed(campaign))), verdict)
    if verdict is FAVORABLE:
        state = fold([release(state)], state)
    with pytest.raises(BalanceSettled):
        decide(state, PayInstalment(INSTRUCTOR, dossier(state), NOW))


# Final report


def without(detail: str, dossier_id: UUID) -> str:
    """The detail with the dossier's id taken out: a SIREN or a département code may be
    written in the digits of a UUID."""
    return detail.replace(str(dossier_id), "<dossier>")


def test_an_applicant_of_another_siren_reporting_is_answered_as_for_a_dossier_that_does_not_exist(
    campaign,
):
    # given a dossier committed for one SIREN, and the same report on a dossier payments never knew
    state = committed(campaign)
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    command = final_report(stranger, dossier(state), "1.00")
    with pytest.raises(NothingCommitted) as unknown:
        decide(PaymentsState(), command)
    # when an applicant of another SIREN submits its final report
    with pytest.raises(NothingCommitted) as caught:
        decide(state, command)
    # then it is answered exactly as the unknown dossier: 404, naming neither SIREN
    assert caught.value.status == 404
    assert type(caught.value) is type(unknown.value)
    assert caught.value.detail == unknown.value.detail
    detail = without(caught.value.detail, dossier(state))
    assert SIREN not in detail and stranger.siren not in detail


def test_only_the_applicant_submits_the_final_report(campaign):
    state = committed(campaign)
    with pytest.raises(Forbidden, match="only the applicant"):
        decide(state, final_report(INSTRUCTOR, dossier(state), "1.00"))


def test_a_second_final_report_is_refused(campaign):
    state = report(committed(campaign))
    with pytest.raises(ReportAlreadySubmitted):
        report(state)


# Departmental opinion


def test_a_prefecture_of_another_departement_is_answered_as_for_a_dossier_that_does_not_exist(
    campaign,
):
    # given a reported dossier of département 59, and the same opinion on a dossier payments
    # never knew
    state = report(committed(campaign))
    other = Actor(Role.prefecture, "chef-de-projet@bdr.example.fr", departement="13")
    command = departmental_opinion(other, dossier(state), FAVORABLE, "x")
    with pytest.raises(NothingCommitted) as unknown:
        decide(PaymentsState(), command)
    # when the préfecture of département 13 gives its opinion
    with pytest.raises(NothingCommitted) as caught:
        decide(state, command)
    # then it is answered exactly as the unknown dossier: 404, naming neither département
    assert caught.value.status == 404
    assert type(caught.value) is type(unknown.value)
    assert caught.value.detail == unknown.value.detail
    assert "a préfecture acts on its own département only" not in caught.value.detail
    detail = without(caught.value.detail, dossier(state))
    assert "59" not in detail and "13" not in detail


def test_the_departmental_opinion_awaits_the_final_report(campaign):
    state = committed(campaign)
    with pytest.raises(ReportMissing, match="effectiveness"):
        opinion(state)


def test_a_second_departmental_opinion_is_refused(campaign):
    state = opinion(report(committed(campaign)))
    with pytest.raises(OpinionAlreadyGiven):
        opinion(state, UNFAVORABLE)


def test_the_departmental_opinion_is_motivated(campaign):
    state = report(committed(campaign))
    with pytest.raises(ValidationError, match="motivation"):
        decide(state, departmental_opinion(PREFECTURE, dossier(state), FAVORABLE, "  "))


def test_the_balance_is_withheld_after_an_unfavourable_opinion(campaign):
    # given a dossier paid 80,000 of 100,000 EUR, whose final report justifies 95,000 EUR
    state = report(instalments_paid(campaign), justified="95000.00")
    # when the préfecture gives an unfavourable opinion
    given, withheld = decide(
        state,
        departmental_opinion(
            PREFECTURE, dossier(state), UNFAVORABLE, "Aucune action menée dans les halls."
        ),
    )
    # then the balance that would have been due is withheld, with the opinion's motivation
    assert isinstance(given, DepartmentalOpinionGiven) and given.opinion is UNFAVORABLE
    assert isinstance(withheld, BalanceWithheld)
    assert withheld.withheld_eur == Decimal("15000.00")
    assert withheld.motivation == "Aucune action menée dans les halls."
    # and it cannot be released afterwards
    state = fold([given, withheld], state)
    with pytest.raises(BalanceWithheldError, match="withheld"):
        release(state)


# Balance (solde)


def test_no_balance_before_the_final_report(campaign):
    state = instalments_paid(campaign)
    with pytest.raises(ReportMissing, match="final report"):
        release(state)


def test_before_the_balance_is_paid_the_departmental_project_lead_gives_a_motivated_opinion(
    campaign,
):
    # DOMAIN.md: no balance before the departmental opinion
    state = report(instalments_paid(campaign))
    with pytest.raises(OpinionMissing, match="departmental opinion"):
        release(state)
    assert release(opinion(state)).amount_eur == Decimal("20000.00")


def test_the_balance_is_never_above_the_grant_minus_what_was_paid(campaign):
    # spending justified above the grant: the balance is what remains of the grant
    state = opinion(report(instalments_paid(campaign), justified="150000.00"))
    released = release(state)
    assert released.amount_eur == Decimal("20000.00")
    assert released.paid_total_eur == Decimal("100000.00")


def test_the_balance_is_never_above_the_justified_spending_minus_what_was_paid(campaign):
    state = opinion(report(instalments_paid(campaign), justified="90000.00"))
    released = release(state)
    assert released.amount_eur == Decimal("10000.00")
    assert released.paid_total_eur == Decimal("90000.00")


def test_a_balance_of_nothing_is_still_released_and_closes_the_file(campaign):
    state = opinion(report(instalments_paid(campaign), justified="60000.00"))
    released = release(state)
    assert (released.amount_eur, released.paid_total_eur) == (Decimal("0.00"), Decimal("80000.00"))


def test_a_second_balance_is_refused(campaign):
    state = opinion(report(instalments_paid(campaign)))
    state = fold([release(state)], state)
    with pytest.raises(BalanceSettled, match="released"):
        release(state)


@pytest.mark.parametrize("role", [Role.auditor, Role.president])
def test_auditor_and_president_cannot_release_the_balance(campaign, role):
    state = opinion(report(instalments_paid(campaign)))
    with pytest.raises(Forbidden, match="release the balance"):
        decide(
            state, ReleaseBalance(Actor(role, "someone@mildeca.example.fr"), dossier(state), NOW)
        )
