"""Time travel: a dossier as of an instant, and its campaign's envelope remaining then."""

from datetime import datetime, timedelta
from decimal import Decimal

from shared.audit import CampaignEnvelope, Grant, as_of, to_json
from shared.contracts.applications import ApplicationWithdrawn
from tests.unit.test_audit_history import DECIDED, SECOND, SIGNED, SUBMITTED, a_whole_life

ENVELOPE = Decimal("1000000.00")


def grants(*pairs: tuple[datetime, str]) -> CampaignEnvelope:
    return CampaignEnvelope(
        "mildeca-2024", ENVELOPE, tuple(Grant(at, Decimal(amount)) for at, amount in pairs)
    )


def test_before_the_submission_nothing_is_known():
    state = as_of(a_whole_life().events, SUBMITTED - SECOND)
    assert state.submission is None and state.eligibility is None and state.dossier_id is None


def test_what_the_president_saw_when_deciding():
    life = a_whole_life()
    state = as_of(life.events, DECIDED - SECOND)
    assert state.dossier_id == life.dossier_id
    assert state.submission is not None and state.submission["requested_eur"] == Decimal(
        "160000.00"
    )
    assert state.eligibility == {
        "eligible": True,
        "failed_rules": [],
        "checked_at": SUBMITTED + SECOND,
    }
    assert (
        state.prefecture_opinion is not None and state.prefecture_opinion["opinion"] == "favorable"
    )
    assert state.assessment is not None and state.assessment["weighted_score"] == Decimal("4.29")
    assert (
        state.decision is None and state.signatures == () and state.payments.committed_eur is None
    )


def test_the_instant_of_an_event_includes_it():
    state = as_of(a_whole_life().events, DECIDED)
    assert state.decision is not None and state.decision["granted_eur"] == Decimal("120000.00")


def test_the_convention_and_the_payments_as_they_stood_after_the_advance():
    state = as_of(a_whole_life().events, SIGNED + timedelta(days=30))
    assert [s["party"] for s in state.signatures] == ["collectivite", "prefecture", "mildeca"]
    assert state.convention_signed_at == SIGNED
    assert state.payments.committed_eur == Decimal("120000.00")
    assert state.payments.paid_total_eur == Decimal("60000.00")
    assert state.payments.final_report is None and state.payments.balance is None


def test_the_whole_life_ends_with_the_balance_released():
    state = as_of(a_whole_life().events, SIGNED + timedelta(days=3650))
    assert state.payments.departmental_opinion is not None
    assert state.payments.balance == {
        "outcome": "released",
        "amount_eur": Decimal("60000.00"),
        "at": state.payments.balance["at"],
    }
    assert state.payments.paid_total_eur == Decimal("120000.00") and state.withdrawn is None


def test_a_later_assessment_replaces_the_earlier_one():
    life = a_whole_life()
    first = life.of("CommitteeAssessmentRecorded")
    life.record(
        "selection",
        first.event().model_copy(update={"proposed_eur": Decimal("90000.00")}),
        first.occurred_at + SECOND,
        "instructor:agent",
    )
    state = as_of(life.events, first.occurred_at + 2 * SECOND)
    assert state.assessment is not None and state.assessment["proposed_eur"] == Decimal("90000.00")


def test_the_envelope_remaining_counts_the_grants_decided_up_to_the_instant():
    envelope = grants(
        (DECIDED - timedelta(days=1), "200000.00"),
        (DECIDED, "120000.00"),
        (DECIDED + SECOND, "300000.00"),
    )
    assert envelope.remaining(DECIDED - SECOND) == Decimal("800000.00")
    assert envelope.remaining(DECIDED) == Decimal("680000.00")
    assert envelope.remaining(DECIDED + SECOND) == Decimal("380000.00")


def test_the_state_says_what_remained_of_the_envelope_when_the_president_decided():
    envelope = grants((DECIDED - timedelta(days=1), "200000.00"), (DECIDED, "120000.00"))
    state = as_of(a_whole_life().events, DECIDED - SECOND, envelope)
    assert state.envelope_remaining_eur == Decimal("800000.00")


def test_the_envelope_of_another_campaign_is_not_the_dossiers():
    other = CampaignEnvelope("demo", ENVELOPE, ())
    assert as_of(a_whole_life().events, DECIDED, other).envelope_remaining_eur is None


def test_the_state_as_json_keeps_money_exact():
    state = to_json(as_of(a_whole_life().events, DECIDED, grants((DECIDED, "120000.00"))))
    assert state["decision"]["granted_eur"] == "120000.00"
    assert state["envelope_remaining_eur"] == "880000.00"
    assert state["payments"]["paid_total_eur"] == "0.00"
    assert state["at"] == DECIDED.isoformat()


def test_a_withdrawn_dossier_says_so_from_its_withdrawal():
    life = a_whole_life()
    at = SUBMITTED + timedelta(days=3)
    life.record(
        "applications",
        ApplicationWithdrawn(
            dossier_id=life.dossier_id,
            reference="AAP-2024-00042",
            campaign_id="mildeca-2024",
            withdrawn_at=at,
            reason="Le conseil municipal renonce.",
        ),
        at,
        "applicant:x",
    )
    assert as_of(life.events, at - SECOND).withdrawn is None
    assert as_of(life.events, at).withdrawn == {
        "withdrawn_at": at,
        "reason": "Le conseil municipal renonce.",
    }
