"""The applications service's named refusals: each a rule of the call, mapped to its status once."""

from shared.language.campaigns import Campaign
from shared.language.errors import NotFound, Refused


class CallClosed(Refused):
    def __init__(self, campaign: Campaign) -> None:
        super().__init__(
            f"the call {campaign.id!r} closed at its deadline {campaign.deadline_paris()} "
            "(Europe/Paris): dossiers are accepted strictly before it"
        )


class CallNotOpen(Refused):
    def __init__(self, campaign: Campaign) -> None:
        super().__init__(f"the call {campaign.id!r} opens on {campaign.published_at.isoformat()}")


class AlreadySubmitted(Refused):
    pass


class UnknownDossier(NotFound):
    """No such dossier, or one the actor may not read: both answer alike, so that nobody learns
    which dossier ids exist nor whose they are."""

    def __init__(self, dossier_id: object, *, reading: bool = False) -> None:
        # A read follows the log: a dossier filed an instant ago may not be there yet.
        later = " (yet: the read model follows the log)" if reading else ""
        super().__init__(f"no dossier {dossier_id}{later}")


class AlreadyWithdrawn(Refused):
    pass


class AlreadyDecided(Refused):
    """A dossier is withdrawn before the President's decision, never after it."""


class DossierClosed(Refused):
    """A dossier withdrawn, or closed as incomplete: nothing more happens to it."""


class UnknownAttachment(NotFound):
    def __init__(self, attachment_id: object, dossier_id: object) -> None:
        super().__init__(f"no attachment {attachment_id} in dossier {dossier_id}")


class UnknownDraft(NotFound):
    """No such draft, or one the actor may not read (another SIREN's, or not shared with this
    préfecture): both answer alike."""

    def __init__(self, draft_id: object) -> None:
        super().__init__(f"no draft {draft_id}")


class NoCorrectionAsked(Refused):
    pass


class CorrectionPending(Refused):
    pass


class CorrectionNotOverdue(Refused):
    pass
