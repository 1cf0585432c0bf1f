"""Each step of a dossier's life reaches the right parties, once."""

from datetime import datetime
from decimal import Decimal
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest

from services.notifications.domain import (
    MAILED_EVENTS,
    Mailboxes,
    Party,
    Recipient,
    UnknownDepartement,
    addresses,
    mails_for,
)
from shared.contracts import DomainEvent, deadlines, payments, selection
from shared.contracts.applications import (
    AmendmentsSetAside,
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    CorrectionOverdue,
    CorrectionRequested,
    Dossier,
    DossierClosedIncomplete,
    DraftCommented,
    DraftShared,
    FieldChange,
    MessagePosted,
    NoteAdded,
    Side,
)
from shared.contracts.committee import Conflict, ReviewerAssigned, ReviewerRecused
from shared.contracts.payments import (
    ActivityReportSubmitted,
    BalanceReleased,
    BalanceWithheld,
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
    GrantReleased,
    PrefectureOpinionGiven,
    PrefectureOpinionRequested,
    Scores,
    SelectionDecided,
)
from tests.factories import eligible_dossier

A, P, M = Party.applicant, Party.prefecture, Party.mildeca
WHEN = datetime(2024, 6, 20, 14, 0, tzinfo=ZoneInfo("Europe/Paris"))
REF = "AAP-2024-00042"
SIREN = "215905126"
DOSSIER = uuid4()
COMMON = {"dossier_id": DOSSIER, "reference": REF}
MAILBOXES = Mailboxes(
    mildeca="instruction@mildeca.example.gouv.fr",
    prefecture="cdp-{departement}@prefectures.example.gouv.fr",
)
RECIPIENT = Recipient(
    reference=REF,
    email="maire@roubaix.example.fr",
    name="Guillaume Delbar",
    holder="Commune de Roubaix",
    siren=SIREN,
    departement="59",
)
PLAN = [
    PlannedInstalment(
        number=1, label="advance at signature", due_on="signature", amount_eur=Decimal("60000.00")
    ),
    PlannedInstalment(
        number=2,
        label="second instalment",
        due_on="activity_report",
        amount_eur=Decimal("36000.00"),
    ),
    PlannedInstalment(number=3, label="balance", due_on="balance", amount_eur=Decimal("24000.00")),
]


def decided(outcome: str) -> SelectionDecided:
    return SelectionDecided(
        **COMMON,
        campaign_id="mildeca-2024",
        siren=SIREN,
        departement="59",
        outcome=outcome,
        requested_eur="160000.00",
        granted_eur="120000.00" if outcome == "selected" else "0.00",
        motivation="Plan global, fortement partenarial.",
        decided_at=WHEN,
    )


def checked(eligible: bool) -> EligibilityChecked:
    return EligibilityChecked(
        **COMMON,
        campaign_id="mildeca-2024",
        eligible=eligible,
        failed_rules=[] if eligible else [{"rule": "E3", "reason": "too much"}],
        checked_at=WHEN,
        siren=SIREN,
        applicant_name="Commune de Roubaix",
        departement="59",
        requested_eur="160000.00",
        objectives=["prevent_entry"],
    )


def reminder(deadline: str, party: str) -> DomainEvent:
    return deadlines.DeadlineApproaching(
        **COMMON,
        campaign_id="mildeca-2024",
        deadline=deadline,
        due_at=WHEN,
        days_left=7,
        party=party,
        reminded_at=WHEN,
    )


# Each event of a dossier's life, with the template it calls for, its To and its Cc.
EVENTS: dict[str, tuple[DomainEvent, tuple[Party, ...], tuple[Party, ...]]] = {
    "acknowledgement": (
        ApplicationSubmitted(
            **COMMON,
            campaign_id="mildeca-2024",
            submitted_at=WHEN,
            dossier=Dossier.model_validate(eligible_dossier()),
        ),
        (A,),
        (),
    ),
    "eligible": (checked(True), (A,), ()),
    "ineligible": (checked(False), (A,), ()),
    "opinion_requested": (
        PrefectureOpinionRequested(
            **COMMON, campaign_id="mildeca-2024", departement="59", requested_at=WHEN
        ),
        (P,),
        (M,),
    ),
    "opinion_given": (
        PrefectureOpinionGiven(
            **COMMON,
            campaign_id="mildeca-2024",
            departement="59",
            opinion="reserved",
            motivation="Territoire trop large.",
            given_at=WHEN,
        ),
        (M,),
        (),
    ),
    "withdrawn": (
        ApplicationWithdrawn(
            **COMMON,
            campaign_id="mildeca-2024",
            withdrawn_at=WHEN,
            reason="Le conseil municipal a renoncé au projet.",
        ),
        (A,),
        (M,),
    ),
    "grant_released": (
        GrantReleased(
            **COMMON, campaign_id="mildeca-2024", released_eur="120000.00", released_at=WHEN
        ),
        (M,),
        (P,),
    ),
    "decision_selected": (decided("selected"), (A,), (P,)),
    "decision_rejected": (decided("rejected"), (A,), (P,)),
    "signature_added": (
        ConventionSignatureAdded(
            **COMMON,
            campaign_id="mildeca-2024",
            party="prefecture",
            signatory="cdp-59@prefectures.example.gouv.fr",
            signed_at=WHEN,
        ),
        (A, P, M),
        (),
    ),
    "convention_signed": (
        ConventionSigned(
            **COMMON,
            campaign_id="mildeca-2024",
            siren=SIREN,
            departement="59",
            granted_eur="120000.00",
            signed_at=WHEN,
        ),
        (A,),
        (P, M),
    ),
    "funds_committed": (
        FundsCommitted(
            **COMMON,
            campaign_id="mildeca-2024",
            siren=SIREN,
            departement="59",
            committed_eur="120000.00",
            plan=PLAN,
            committed_at=WHEN,
        ),
        (A,),
        (P,),
    ),
    "instalment_paid": (
        InstalmentPaid(
            **COMMON,
            number=1,
            label="advance at signature",
            amount_eur="60000.00",
            paid_total_eur="60000.00",
            paid_at=WHEN,
        ),
        (A,),
        (P,),
    ),
    "activity_report_submitted": (
        ActivityReportSubmitted(
            **COMMON,
            number=1,
            summary="Deux quartiers couverts, trente jeunes accompagnés.",
            spent_to_date_eur="54200.00",
            attachments=[uuid4()],
            instalment_asked=True,
            submitted_at=WHEN,
        ),
        (M,),
        (P,),
    ),
    "opinion_on_balance_requested": (
        FinalReportSubmitted(
            **COMMON,
            justified_spending_eur="118500.00",
            summary="Trois quartiers couverts.",
            submitted_at=WHEN,
        ),
        (P,),
        (M,),
    ),
    "departmental_opinion_given": (
        DepartmentalOpinionGiven(
            **COMMON,
            departement="59",
            opinion="favorable",
            motivation="Action efficace.",
            given_at=WHEN,
        ),
        (M,),
        (),
    ),
    "balance_released": (
        BalanceReleased(
            **COMMON, amount_eur="24000.00", paid_total_eur="120000.00", released_at=WHEN
        ),
        (A,),
        (P,),
    ),
    "balance_withheld": (
        BalanceWithheld(
            **COMMON,
            withheld_eur="24000.00",
            motivation="Aucune action menée en 3e année.",
            withheld_at=WHEN,
        ),
        (A,),
        (P,),
    ),
    # the deadlines: a reminder to whoever must act, MILDECA in copy; a notice once it passed
    "reminder_prefecture_opinion_prefecture": (
        reminder("prefecture_opinion", "prefecture"),
        (P,),
        (M,),
    ),
    "reminder_convention_applicant": (reminder("convention", "applicant"), (A,), (M,)),
    "reminder_convention_prefecture": (reminder("convention", "prefecture"), (P,), (M,)),
    "reminder_convention_mildeca": (reminder("convention", "mildeca"), (M,), ()),
    "reminder_final_report_applicant": (reminder("final_report", "applicant"), (A,), (M,)),
    "reminder_correction_applicant": (reminder("correction", "applicant"), (A,), (M,)),
    "opinion_overdue": (
        selection.OpinionOverdue(
            **COMMON,
            campaign_id="mildeca-2024",
            departement="59",
            due_at=WHEN,
            recorded_at=WHEN,
        ),
        (P,),
        (M,),
    ),
    "convention_overdue": (
        selection.ConventionOverdue(
            **COMMON,
            campaign_id="mildeca-2024",
            unsigned=["collectivite", "mildeca"],
            due_at=WHEN,
            recorded_at=WHEN,
        ),
        (A, P),
        (M,),
    ),
    "final_report_overdue": (
        payments.FinalReportOverdue(
            **COMMON, campaign_id="mildeca-2024", due_at=WHEN, recorded_at=WHEN
        ),
        (A,),
        (M,),
    ),
    "message_posted": (
        MessagePosted(
            **COMMON, campaign_id="mildeca-2024", message_id=uuid4(), side=Side.applicant,
            author="maire@roubaix.example.fr", text="Voici la délibération.", posted_at=WHEN,
        ),
        (P, M),
        (),
    ),
    "note_added": (
        NoteAdded(
            **COMMON, campaign_id="mildeca-2024", note_id=uuid4(), side=Side.mildeca,
            author="instructeur@mildeca.example.gouv.fr", text="À voir en comité.", added_at=WHEN,
        ),
        (P,),
        (),
    ),
    "correction_requested": (
        CorrectionRequested(
            **COMMON, campaign_id="mildeca-2024", request_id=uuid4(), fields=["budget"],
            reason="Le budget ne distingue pas les années.", due_at=WHEN, requested_at=WHEN,
        ),
        (A,),
        (P, M),
    ),
    "application_amended": (
        ApplicationAmended(
            **COMMON, campaign_id="mildeca-2024", request_id=uuid4(),
            changes=[FieldChange(field="requested_eur", before="120000.00", after="110000.00")],
            dossier=Dossier.model_validate(eligible_dossier()), amended_at=WHEN,
        ),
        (M,),
        (P,),
    ),
    "amendments_set_aside": (
        AmendmentsSetAside(
            **COMMON, campaign_id="mildeca-2024", request_ids=[uuid4()],
            dossier=Dossier.model_validate(eligible_dossier()), decided_at=WHEN, set_aside_at=WHEN,
        ),
        (A,),
        (P, M),
    ),
    "correction_overdue": (
        CorrectionOverdue(
            **COMMON, campaign_id="mildeca-2024", request_id=uuid4(), due_at=WHEN,
            recorded_at=WHEN,
        ),
        (A,),
        (M,),
    ),
    "closed_incomplete": (
        DossierClosedIncomplete(
            **COMMON, campaign_id="mildeca-2024", request_id=uuid4(),
            motivation="Correction non parvenue.", closed_at=WHEN,
        ),
        (A,),
        (P, M),
    ),
    "draft_shared": (
        DraftShared(
            dossier_id=DOSSIER, campaign_id="mildeca-2024", siren=SIREN, departement="59",
            applicant_name="Commune de Roubaix", contact_email="maire@roubaix.example.fr",
            shared_at=WHEN,
        ),
        (P,),
        (),
    ),
    "draft_commented": (
        DraftCommented(
            dossier_id=DOSSIER, campaign_id="mildeca-2024", comment_id=uuid4(), departement="59",
            author="cdp@nord.gouv.fr", text="Associez le bailleur social.", commented_at=WHEN,
        ),
        (A,),
        (),
    ),
    "reviewer_assigned": (
        ReviewerAssigned(
            **COMMON, campaign_id="mildeca-2024", reviewer="alice@mildeca.example.gouv.fr",
            assigned_by="instructor:instruction@mildeca.example.gouv.fr", assigned_at=WHEN,
        ),
        (Party.reviewer,),
        (M,),
    ),
    "reviewer_recused": (
        ReviewerRecused(
            **COMMON, campaign_id="mildeca-2024", reviewer="alice@mildeca.example.gouv.fr",
            conflict=Conflict.family, details="Sœur d'une adjointe au maire.", recused_at=WHEN,
        ),
        (M,),
        (),
    ),
}  # fmt: skip


@pytest.mark.parametrize("template", EVENTS)
def test_each_step_calls_for_its_template_to_its_parties(template: str):
    # given an event of the dossier's life
    event, to, cc = EVENTS[template]
    # when its mails are decided
    [mail] = mails_for(event, uuid4())
    # then one mail of the right template goes to the right parties
    assert (mail.template, mail.to, mail.cc) == (template, to, cc)
    assert mail.dossier_id == DOSSIER


@pytest.mark.parametrize("template", EVENTS)
def test_a_redelivered_event_asks_for_the_same_notification(template: str):
    event, event_id = EVENTS[template][0], uuid4()
    assert (
        [m.notification_id for m in mails_for(event, event_id)]
        == [m.notification_id for m in mails_for(event, event_id)]
        == [f"{event_id}:{template}"]
    )


def test_the_decision_goes_to_the_holder_with_the_prefecture_in_copy():
    [mail] = mails_for(decided("selected"), uuid4())
    assert mail.to == (Party.applicant,)
    assert mail.cc == (Party.prefecture,)


def test_the_committee_assessment_calls_for_no_mail():
    # given the committee's internal deliberation
    assessment = CommitteeAssessmentRecorded(
        **COMMON,
        campaign_id="mildeca-2024",
        scores=Scores(
            adequacy=4,
            innovation=3,
            team_competence=4,
            methodology=3,
            partnership=5,
            prefecture_opinion=4,
        ),
        weighted_score="3.85",
        proposed_eur="120000.00",
        comment="Solide.",
        assessed_at=WHEN,
    )
    # then nobody is told of it, and the consumer does not even read it
    assert mails_for(assessment, uuid4()) == []
    assert CommitteeAssessmentRecorded not in MAILED_EVENTS


def test_the_consumer_reads_every_event_that_calls_for_mail():
    assert {type(event) for event, _, _ in EVENTS.values()} == set(MAILED_EVENTS)


def test_the_prefecture_is_the_project_lead_of_the_dossiers_departement():
    assert (
        addresses([Party.prefecture], RECIPIENT, MAILBOXES)[0][1]
        == "cdp-59@prefectures.example.gouv.fr"
    )


def test_the_parties_resolve_to_the_representative_the_prefecture_and_mildeca_in_order():
    found = [email for _, email in addresses([A, P, M], RECIPIENT, MAILBOXES)]
    assert found == [
        "maire@roubaix.example.fr",
        "cdp-59@prefectures.example.gouv.fr",
        "instruction@mildeca.example.gouv.fr",
    ]


def test_a_dossier_without_a_known_departement_cannot_reach_its_prefecture():
    unknown = Recipient(
        reference=REF,
        email="maire@roubaix.example.fr",
        name="G. Delbar",
        holder="Commune de Roubaix",
        siren=SIREN,
        departement="",
    )
    with pytest.raises(UnknownDepartement):
        addresses([Party.prefecture], unknown, MAILBOXES)


@pytest.mark.parametrize("side", [Side.prefecture, Side.mildeca])
def test_a_note_among_agents_is_never_mailed_to_the_applicant(side: Side):
    note, _, _ = EVENTS["note_added"]
    assert isinstance(note, NoteAdded)
    [mail] = mails_for(note.model_copy(update={"side": side}), uuid4())
    assert Party.applicant not in mail.to + mail.cc
    assert mail.to == ((P,) if side is Side.mildeca else (M,))


@pytest.mark.parametrize("side", list(Side))
def test_a_message_is_mailed_to_the_two_sides_that_did_not_write_it(side: Side):
    message, _, _ = EVENTS["message_posted"]
    [mail] = mails_for(message.model_copy(update={"side": side}), uuid4())
    assert (
        len(mail.to) == 2
        and {A: Side.applicant, P: Side.prefecture, M: Side.mildeca}[
            next(iter({A, P, M} - set(mail.to)))
        ]
        is side
    )
    assert "text" not in mail.facts  # the text is read on the platform, not in a mail
