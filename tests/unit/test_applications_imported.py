"""Dossiers filed on Démarches Simplifiées: imported once under the call's deadline tested at
their filing there, amended by what changed there, withdrawn when deleted there; and what each
of aap's events asks DS to do."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from services.applications.commands import (
    AmendOnPlatform,
    Decision,
    ImportDossier,
    WithdrawOnPlatform,
)
from services.applications.domain import DossierState, decide, evolve
from services.applications.ds.steps import reached, steps_for
from services.applications.errors import AlreadyDecided, AlreadySubmitted, CallClosed
from shared.contracts.applications import (
    ApplicationAmended,
    ApplicationSubmitted,
    ApplicationWithdrawn,
    AttachmentAdded,
    CorrectionRequested,
    Dossier,
    Origin,
    Platform,
)
from shared.contracts.selection import Outcome, SelectionDecided
from shared.contracts.values import Attachment
from shared.language import french
from shared.language.attachments import AttachmentKind
from shared.language.campaigns import load_campaigns
from shared.language.errors import Invalid
from tests.factories import eligible_dossier

CAMPAIGN = load_campaigns()["mildeca-2024"]
FILED_ON_DS = datetime(2024, 3, 12, 9, 30, tzinfo=UTC)
NOW = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
DOSSIER_ID = uuid4()


def origin(deposited_at: datetime = FILED_ON_DS) -> Origin:
    return Origin(
        platform=Platform.demarches_simplifiees,
        demarche_number=104857,
        dossier_number=20240012,
        dossier_id="RG9zc2llci0yMDI0MDAxMg==",
        deposited_at=deposited_at,
        imported_at=NOW,
    )


def attachment(n: int = 1) -> Attachment:
    return Attachment(
        attachment_id=uuid4(),
        kind=AttachmentKind.deliberation,
        name=f"deliberation-{n}.pdf",
        media_type="application/pdf",
        size=512,
        sha256=f"{n:064x}",
    )


def importing(dossier: Dossier, *, deposited_at: datetime = FILED_ON_DS) -> ImportDossier:
    return ImportDossier(
        DOSSIER_ID, "AAP-2024-00012", CAMPAIGN, dossier, origin(deposited_at), (attachment(),), NOW
    )


@pytest.fixture
def dossier() -> Dossier:
    return Dossier.model_validate(eligible_dossier())


@pytest.fixture
def imported(dossier: Dossier) -> DossierState:
    state = DossierState()
    for event in decide(state, importing(dossier)):
        state = evolve(state, event)
    return state


def amending(dossier: Dossier, *, decided: Decision | None = None) -> AmendOnPlatform:
    return AmendOnPlatform(DOSSIER_ID, uuid4(), dossier, origin(), (), NOW, decided)


def test_an_imported_dossier_is_filed_at_its_filing_on_ds_and_says_where_it_came_from(dossier):
    submitted, attached = decide(DossierState(), importing(dossier))
    assert isinstance(submitted, ApplicationSubmitted) and isinstance(attached, AttachmentAdded)
    assert submitted.submitted_at == FILED_ON_DS  # not the instant of the import
    assert submitted.origin is not None and submitted.origin.dossier_number == 20240012
    assert attached.side.value == "applicant"


def test_a_dossier_filed_on_ds_after_the_deadline_is_not_imported(dossier):
    with pytest.raises(CallClosed):
        decide(DossierState(), importing(dossier, deposited_at=CAMPAIGN.deadline))


def test_a_dossier_is_imported_once(imported, dossier):
    with pytest.raises(AlreadySubmitted):
        decide(imported, importing(dossier))


def test_a_change_on_ds_is_an_amendment_naming_each_field_before_and_after(imported, dossier):
    changed = dossier.model_copy(update={"requested_eur": Decimal("90000.00")})
    [amended] = decide(imported, amending(changed))
    assert isinstance(amended, ApplicationAmended)
    assert [(c.field, c.before, c.after) for c in amended.changes] == [
        ("requested_eur", str(dossier.requested_eur), "90000.00")
    ]
    assert amended.origin is not None


def test_a_change_on_ds_answers_the_correction_aap_asked(imported, dossier):
    request_id = uuid4()
    asked = CorrectionRequested(
        dossier_id=DOSSIER_ID,
        reference="AAP-2024-00012",
        campaign_id=CAMPAIGN.id,
        request_id=request_id,
        fields=["requested_eur"],
        reason="Le montant dépasse le plafond.",
        due_at=NOW + timedelta(days=15),
        requested_at=NOW,
    )
    state = evolve(imported, asked)
    changed = dossier.model_copy(update={"requested_eur": Decimal("90000.00")})
    [amended] = decide(state, amending(changed))
    assert isinstance(amended, ApplicationAmended) and amended.request_id == request_id


def test_the_applicants_identity_is_not_amended_from_ds(imported, dossier):
    moved = dossier.model_copy(
        update={"applicant": dossier.applicant.model_copy(update={"departement": "62"})}
    )
    with pytest.raises(Invalid) as refused:
        decide(imported, amending(moved))
    assert refused.value.errors[0]["type"] == "identity_changed"


def test_a_change_on_ds_after_the_decision_is_not_applied(imported, dossier):
    changed = dossier.model_copy(update={"requested_eur": Decimal("90000.00")})
    with pytest.raises(AlreadyDecided):
        decide(imported, amending(changed, decided=Decision("selected", NOW)))


def test_a_new_file_on_ds_is_attached_and_a_file_seen_before_is_not(imported, dossier):
    seen = next(iter(imported.attachments))
    again = AmendOnPlatform(
        DOSSIER_ID,
        uuid4(),
        dossier,
        origin(),
        (attachment(1).model_copy(update={"attachment_id": seen}), attachment(2)),
        NOW,
        None,
    )
    [added] = decide(imported, again)
    assert isinstance(added, AttachmentAdded) and added.attachment.name == "deliberation-2.pdf"


def test_a_dossier_deleted_on_ds_before_the_decision_is_withdrawn(imported):
    [withdrawn] = decide(imported, WithdrawOnPlatform(DOSSIER_ID, "supprimé", NOW, None))
    assert isinstance(withdrawn, ApplicationWithdrawn)
    with pytest.raises(AlreadyDecided):
        decide(imported, WithdrawOnPlatform(DOSSIER_ID, "x", NOW, Decision("rejected", NOW)))


# --- what DS is told ----------------------------------------------------------------------------


def decided(outcome: Outcome) -> SelectionDecided:
    return SelectionDecided(
        dossier_id=DOSSIER_ID,
        reference="AAP-2024-00012",
        campaign_id=CAMPAIGN.id,
        siren="217500016",
        departement="59",
        outcome=outcome,
        requested_eur=Decimal("120000.00"),
        granted_eur=Decimal("100000.00") if outcome is Outcome.selected else Decimal("0.00"),
        motivation="Projet solide, partenariat large.",
        decided_at=NOW,
    )


def test_the_presidents_selection_is_accepted_on_ds_after_instruction_started_with_the_amount():
    steps = steps_for(decided(Outcome.selected), {"granted_eur": "QW5ub3RhdGlvbi0y"})
    assert [s.mutation for s in steps] == ["PasserEnInstruction", "Accepter", "ModifierAnnotations"]
    granted = french.euros(Decimal("100000.00"))
    assert f"Montant accordé : {granted}." in steps[1].input["motivation"]
    assert steps[1].input["disableNotification"] is True  # aap mails the applicant itself
    assert steps[2].input["annotations"][0]["value"] == {"text": "100000.00"}


def test_a_rejection_is_refused_on_ds_with_its_motivation():
    steps = steps_for(decided(Outcome.rejected), {})
    assert [s.mutation for s in steps] == ["PasserEnInstruction", "Refuser"]
    assert steps[1].input["motivation"] == "Projet solide, partenariat large."


def test_a_withdrawal_that_came_from_ds_is_not_written_back():
    event = ApplicationWithdrawn(
        dossier_id=DOSSIER_ID,
        reference="AAP-2024-00012",
        campaign_id=CAMPAIGN.id,
        withdrawn_at=NOW,
        reason="supprimé sur Démarches Simplifiées (user_request)",
    )
    assert steps_for(event, {}) == []


def test_a_decision_is_known_written_when_ds_shows_its_state():
    assert reached("Accepter", {"state": "accepte"}, {})
    assert not reached("Accepter", {"state": "en_instruction"}, {})
    assert reached("PasserEnInstruction", {"state": "refuse"}, {})


def test_a_message_is_known_sent_when_ds_shows_our_text_since_our_attempt():
    step = {"input": {"body": "Bonjour"}, "attempted_at": NOW}
    later = {
        "messages": [{"body": "Bonjour", "createdAt": (NOW + timedelta(seconds=1)).isoformat()}]
    }
    older = {"messages": [{"body": "Bonjour", "createdAt": (NOW - timedelta(hours=1)).isoformat()}]}
    assert reached("EnvoyerMessage", later, step)
    assert not reached("EnvoyerMessage", older, step)
