"""A dossier's rules, from its draft to its filing, its exchange and its corrections:
`decide(state, command) -> events`, `evolve(state, event)` (services/applications/state.py).

Each part of the rules lives in its module: filing.py (drafts, filing, withdrawal),
exchange.py (attachments, messages, notes), corrections.py (correction requests),
imported.py (dossiers filed on Démarches Simplifiées).
"""

from services.applications import corrections, exchange, filing, imported
from services.applications.commands import (
    AddAttachment,
    AddNote,
    Amend,
    AmendOnPlatform,
    CloseIncomplete,
    Command,
    CommentDraft,
    FileDraft,
    HearDecision,
    ImportDossier,
    MarkCorrectionOverdue,
    PostMessage,
    RemindOfCorrection,
    RequestCorrection,
    SaveDraft,
    ShareDraft,
    Submit,
    Withdraw,
    WithdrawOnPlatform,
)
from services.applications.state import DossierState, evolve
from shared.contracts import DomainEvent
from shared.kernel.decider import Decider
from shared.language.campaigns import Campaign

__all__ = ["DOSSIER", "DossierState", "decide", "evolve", "reference_for"]


def decide(state: DossierState, command: Command) -> list[DomainEvent]:
    stream = command.dossier_id
    match command:
        case Submit():
            return filing.submit(state, command)
        case Withdraw():
            return filing.withdraw(state, command)
        case AddAttachment():
            return exchange.add_attachment(state, command, stream)
        case PostMessage():
            return exchange.post_message(state, command, stream)
        case AddNote():
            return exchange.add_note(state, command, stream)
        case RequestCorrection():
            return corrections.request(state, command, stream)
        case Amend():
            return corrections.amend(state, command, stream)
        case RemindOfCorrection():
            return corrections.remind(state, command)
        case MarkCorrectionOverdue():
            return corrections.mark_overdue(state, command)
        case CloseIncomplete():
            return corrections.close(state, command, stream)
        case SaveDraft():
            return filing.save_draft(state, command, stream)
        case ShareDraft():
            return filing.share_draft(state, command, stream)
        case CommentDraft():
            return filing.comment_draft(state, command, stream)
        case FileDraft():
            return filing.file_draft(state, command, stream)
        case ImportDossier():
            return imported.import_dossier(state, command)
        case AmendOnPlatform():
            return imported.amend_on_platform(state, command)
        case WithdrawOnPlatform():
            return imported.withdraw_on_platform(state, command)
        case HearDecision():
            return corrections.set_aside_crossed(state, command)


DOSSIER: Decider[DossierState, Command] = Decider(DossierState(), decide, evolve)


def reference_for(campaign: Campaign, number: int) -> str:
    """A dossier number a person can read and say on the phone: AAP-2024-00042."""
    return f"{campaign.reference_prefix}-{number:05d}"
