"""Selection's deadlines: the préfecture's opinion, due the campaign's `opinion_days` after it
was asked, and the convention, signed by its three parties before the campaign's
`convention_deadline`. When a reminder's or a deadline's instant comes (the schedule), whether
it is still due is decided here from the dossier's stream alone: an act that came first (the
opinion given, the last signature, the withdrawal) leaves nothing to record."""

from datetime import datetime, timedelta

from services.selection.commands import RecordOverdue, RemindOfDeadline
from services.selection.state import SelectionState
from shared.contracts import DomainEvent
from shared.contracts.deadlines import DeadlineApproaching, DeadlineKind, PartyToAct
from shared.contracts.selection import (
    ConventionOverdue,
    OpinionOverdue,
    Outcome,
    Party,
    PrefectureOpinionRequested,
)
from shared.language.campaigns import Campaign, find
from shared.language.deadlines import days_left, reminder_is_due

# Who acts for each party of the convention.
TO_ACT = {
    Party.collectivite: PartyToAct.applicant,
    Party.prefecture: PartyToAct.prefecture,
    Party.mildeca: PartyToAct.mildeca,
}


def opinion_due_at(request: PrefectureOpinionRequested, campaign: Campaign) -> datetime:
    """The request says its deadline; one recorded before it did, the campaign's days after."""
    if request.due_at is not None:
        return request.due_at
    return request.requested_at + timedelta(days=campaign.deadlines.opinion_days)


def awaiting_opinion(state: SelectionState, due_at: datetime, campaign: Campaign) -> bool:
    """The opinion of this deadline is still awaited (not a former request's deadline)."""
    request = state.opinion_request
    return (
        state.opinion is None
        and state.decision is None
        and request is not None
        and opinion_due_at(request, campaign) == due_at
    )


def unsigned(state: SelectionState, due_at: datetime, campaign: Campaign) -> list[Party]:
    """The parties yet to sign a convention due by `due_at` (none when there is no convention
    to sign: not selected, its grant released, or a deadline the campaign no longer says)."""
    decision = state.decision
    if (
        decision is None
        or decision.outcome is not Outcome.selected
        or state.released
        or state.convention_signed
        or campaign.convention_deadline != due_at
    ):
        return []
    return [party for party in Party if party not in state.signed_by]


def remind(state: SelectionState, c: RemindOfDeadline) -> list[DomainEvent]:
    """Remind each party that must act before the deadline and has not, once per reminder."""
    dossier = state.checked
    if dossier is None or c.withdrawn:
        return []
    campaign = find(c.campaigns, dossier.campaign_id)
    if c.deadline is DeadlineKind.prefecture_opinion:
        parties = [PartyToAct.prefecture] if awaiting_opinion(state, c.due_at, campaign) else []
    elif c.deadline is DeadlineKind.convention:
        parties = [TO_ACT[party] for party in unsigned(state, c.due_at, campaign)]
    else:
        parties = []
    return [
        DeadlineApproaching(
            dossier_id=dossier.dossier_id,
            reference=dossier.reference,
            campaign_id=dossier.campaign_id,
            deadline=c.deadline,
            due_at=c.due_at,
            days_left=days_left(c.due_at, c.now),
            party=party,
            reminded_at=c.now,
        )
        for party in parties
        if reminder_is_due(
            due_at=c.due_at,
            window_days=c.window_days,
            reminder_days=campaign.deadlines.reminder_days,
            now=c.now,
            reminded_at=[
                r.reminded_at
                for r in state.reminders
                if (r.deadline, r.due_at, r.party) == (c.deadline, c.due_at, party)
            ],
        )
    ]


def record_overdue(state: SelectionState, c: RecordOverdue) -> list[DomainEvent]:
    """The deadline passed unmet: recorded once."""
    dossier = state.checked
    if dossier is None or c.withdrawn or c.now < c.due_at:
        return []
    campaign = find(c.campaigns, dossier.campaign_id)
    if c.deadline is DeadlineKind.prefecture_opinion:
        recorded = state.opinion_overdue
        if (recorded and recorded.due_at == c.due_at) or not awaiting_opinion(
            state, c.due_at, campaign
        ):
            return []
        return [
            OpinionOverdue(
                dossier_id=dossier.dossier_id,
                reference=dossier.reference,
                campaign_id=dossier.campaign_id,
                departement=dossier.departement,
                due_at=c.due_at,
                recorded_at=c.now,
            )
        ]
    if c.deadline is DeadlineKind.convention:
        parties = unsigned(state, c.due_at, campaign)
        if state.convention_overdue is not None or not parties:
            return []
        return [
            ConventionOverdue(
                dossier_id=dossier.dossier_id,
                reference=dossier.reference,
                campaign_id=dossier.campaign_id,
                unsigned=parties,
                due_at=c.due_at,
                recorded_at=c.now,
            )
        ]
    return []
