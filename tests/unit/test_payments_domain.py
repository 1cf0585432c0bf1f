"""The payments of one dossier: committed at signature, paid by instalments, closed by the balance."""

from datetime import datetime
from decimal import Decimal
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from services.payments import domain
from services.payments.domain import PaymentsState, evolve
from services.payments.refusals import (
    BalanceIsNext,
    BalanceSettled,
    BalanceWithheldError,
    NothingCommitted,
    NotYourDepartement,
    NotYourDossier,
    OpinionAlreadyGiven,
    OpinionMissing,
    ReportAlreadySubmitted,
    ReportMissing,
)
from shared.contracts import DomainEvent
from shared.contracts.payments import (
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


def fold(events: list[DomainEvent], state: PaymentsState = PaymentsState()) -> PaymentsState:
    for event in events:
        state = evolve(state, event)
    return state


def committed(campaign: Campaign, granted: str = "100000.00") -> PaymentsState:
    return fold(domain.commit(PaymentsState(), signed(granted), campaign, NOW))


def dossier(state: PaymentsState) -> UUID:
    assert state.commitment is not None
    return state.commitment.dossier_id


def pay(state: PaymentsState, times: int = 1) -> PaymentsState:
    for _ in range(times):
        state = fold(domain.pay_instalment(state, INSTRUCTOR, dossier(state), NOW), state)
    return state


def report(state: PaymentsState, justified: str = "100000.00") -> PaymentsState:
    return fold(
        domain.submit_final_report(
            state,
            APPLICANT,
            dossier(state),
            justified_spending_eur=Decimal(justified),
            summary="Actions menées, effets mesurés.",
            now=NOW,
        ),
        state,
    )


def opinion(state: PaymentsState, verdict: DepartmentalOpinion = FAVORABLE) -> PaymentsState:
    return fold(
        domain.give_opinion(
            state,
            PREFECTURE,
            dossier(state),
            opinion=verdict,
            motivation="Évaluation du CLSPD : actions efficaces.",
            now=NOW,
        ),
        state,
    )


def release(state: PaymentsState) -> BalanceReleased:
    [released] = domain.release_balance(state, INSTRUCTOR, dossier(state), NOW)
    assert isinstance(released, BalanceReleased)
    return released


# Commitment


def test_a_signed_convention_commits_the_grant_with_the_campaigns_plan(campaign):
    # given a convention signed for 100,000 EUR
    signature = signed("100000.00")
    # when payments reacts to it
    [event] = domain.commit(PaymentsState(), signature, campaign, NOW)
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
    [event] = domain.commit(PaymentsState(), signed("100000.01"), campaign, NOW)
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
    state = fold(domain.commit(PaymentsState(), signature, campaign, NOW))
    assert domain.commit(state, signature, campaign, NOW) == []


# Instalments


def test_instalments_are_paid_in_the_order_of_the_plan(campaign):
    state = committed(campaign, "100000.01")
    [first] = domain.pay_instalment(state, INSTRUCTOR, dossier(state), NOW)
    [second] = domain.pay_instalment(pay(state), INSTRUCTOR, dossier(state), NOW)
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
    state = pay(committed(campaign), times=2)
    with pytest.raises(BalanceIsNext, match="/balance"):
        domain.pay_instalment(state, INSTRUCTOR, dossier(state), NOW)


def test_nothing_is_paid_before_the_funds_are_committed():
    with pytest.raises(NothingCommitted, match="no convention signed yet"):
        domain.pay_instalment(PaymentsState(), INSTRUCTOR, uuid4(), NOW)


@pytest.mark.parametrize("role", [Role.auditor, Role.president])
def test_auditor_and_president_cannot_record_payments(campaign, role):
    state = committed(campaign)
    with pytest.raises(Forbidden, match="record payments"):
        domain.pay_instalment(state, Actor(role, "someone@mildeca.example.fr"), dossier(state), NOW)


@pytest.mark.parametrize("verdict", [FAVORABLE, UNFAVORABLE])
def test_no_instalment_is_paid_once_the_balance_is_settled(campaign, verdict):
    state = opinion(report(pay(committed(campaign))), verdict)
    if verdict is FAVORABLE:
        state = fold([release(state)], state)
    with pytest.raises(BalanceSettled):
        domain.pay_instalment(state, INSTRUCTOR, dossier(state), NOW)


# Final report


def test_an_applicant_cannot_report_for_another_siren(campaign):
    state = committed(campaign)
    stranger = Actor(Role.applicant, "maire@ailleurs.example.fr", siren=random_siren())
    with pytest.raises(NotYourDossier, match=SIREN):
        domain.submit_final_report(
            state,
            stranger,
            dossier(state),
            justified_spending_eur=Decimal("1.00"),
            summary="x",
            now=NOW,
        )


def test_only_the_applicant_submits_the_final_report(campaign):
    state = committed(campaign)
    with pytest.raises(Forbidden, match="only the applicant"):
        domain.submit_final_report(
            state,
            INSTRUCTOR,
            dossier(state),
            justified_spending_eur=Decimal("1.00"),
            summary="x",
            now=NOW,
        )


def test_a_second_final_report_is_refused(campaign):
    state = report(committed(campaign))
    with pytest.raises(ReportAlreadySubmitted):
        report(state)


# Departmental opinion


def test_a_prefecture_of_another_departement_cannot_give_the_opinion(campaign):
    state = report(committed(campaign))
    other = Actor(Role.prefecture, "chef-de-projet@bdr.example.fr", departement="13")
    with pytest.raises(NotYourDepartement, match="a préfecture acts on its own département only"):
        domain.give_opinion(
            state, other, dossier(state), opinion=FAVORABLE, motivation="x", now=NOW
        )


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
        domain.give_opinion(
            state, PREFECTURE, dossier(state), opinion=FAVORABLE, motivation="  ", now=NOW
        )


def test_the_balance_is_withheld_after_an_unfavourable_opinion(campaign):
    # given a dossier paid 80,000 of 100,000 EUR, whose final report justifies 95,000 EUR
    state = report(pay(committed(campaign), times=2), justified="95000.00")
    # when the préfecture gives an unfavourable opinion
    given, withheld = domain.give_opinion(
        state,
        PREFECTURE,
        dossier(state),
        opinion=UNFAVORABLE,
        motivation="Aucune action menée dans les halls.",
        now=NOW,
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
    state = pay(committed(campaign), times=2)
    with pytest.raises(ReportMissing, match="final report"):
        release(state)


def test_before_the_balance_is_paid_the_departmental_project_lead_gives_a_motivated_opinion(
    campaign,
):
    # DOMAIN.md: no balance before the departmental opinion
    state = report(pay(committed(campaign), times=2))
    with pytest.raises(OpinionMissing, match="departmental opinion"):
        release(state)
    assert release(opinion(state)).amount_eur == Decimal("20000.00")


def test_the_balance_is_never_above_the_grant_minus_what_was_paid(campaign):
    # spending justified above the grant: the balance is what remains of the grant
    state = opinion(report(pay(committed(campaign), times=2), justified="150000.00"))
    released = release(state)
    assert released.amount_eur == Decimal("20000.00")
    assert released.paid_total_eur == Decimal("100000.00")


def test_the_balance_is_never_above_the_justified_spending_minus_what_was_paid(campaign):
    state = opinion(report(pay(committed(campaign), times=2), justified="90000.00"))
    released = release(state)
    assert released.amount_eur == Decimal("10000.00")
    assert released.paid_total_eur == Decimal("90000.00")


def test_a_balance_of_nothing_is_still_released_and_closes_the_file(campaign):
    state = opinion(report(pay(committed(campaign), times=2), justified="60000.00"))
    released = release(state)
    assert (released.amount_eur, released.paid_total_eur) == (Decimal("0.00"), Decimal("80000.00"))


def test_a_second_balance_is_refused(campaign):
    state = opinion(report(pay(committed(campaign), times=2)))
    state = fold([release(state)], state)
    with pytest.raises(BalanceSettled, match="released"):
        release(state)


@pytest.mark.parametrize("role", [Role.auditor, Role.president])
def test_auditor_and_president_cannot_release_the_balance(campaign, role):
    state = opinion(report(pay(committed(campaign), times=2)))
    with pytest.raises(Forbidden, match="release the balance"):
        domain.release_balance(
            state, Actor(role, "someone@mildeca.example.fr"), dossier(state), NOW
        )
