"""Selection's named refusals: each one a rule of the call, mapped to 403, 404 or 409 in one
place."""

from shared.language.errors import NotFound, Refused


class UnknownDossier(NotFound):
    """Selection has no record of the dossier (never submitted, or not checked yet), or the
    dossier is outside the actor's binding: both answer alike."""


class DossierWithdrawn(Refused):
    """The applicant withdrew the dossier: every later step stops."""


class NotEligible(Refused):
    """The dossier failed the eligibility check: it goes no further."""


class OpinionAlreadyGiven(Refused):
    pass


class OpinionMissing(Refused):
    """The préfecture's opinion comes first: the committee and the President wait for it."""


class AssessmentMissing(Refused):
    pass


class AlreadyDecided(Refused):
    pass


class NotAReviewer(Refused):
    """The campaign's committee assesses in one voice: no reviewers to name."""


class ReviewerTaken(Refused):
    """The reviewer is already seated on the dossier, declared already, or is recused."""


class ReviewersComplete(Refused):
    """The dossier has as many reviewers as its campaign asks."""


class ReviewerNotCleared(Refused):
    """A reviewer scores only after declaring no conflict of interest."""


class ReviewsMissing(Refused):
    """The consensus waits for every reviewer's scores."""


class ConsensusRecorded(Refused):
    """The moderator recorded the consensus: the reviews are closed."""


class UnknownSession(NotFound):
    pass


class SessionRefused(Refused):
    """A session that cannot be recorded or decided as asked: nothing of it is stored."""


class OverRequest(Refused):
    """An amount above what the applicant requested."""


class OverCap(Refused):
    """An amount above the campaign's cap per project."""


class OverEnvelope(Refused):
    """A grant above what remains of the campaign's envelope."""


class SingleLever(Refused):
    """One-off, uncoordinated actions are not retained: a selected project uses several levers."""


class NotSelected(Refused):
    """Only a selected dossier has a convention to sign."""


class AlreadySigned(Refused):
    pass


class ConventionDeadlinePassed(Refused):
    pass


class DotationAlreadyComputed(Refused):
    """A dotation is computed once per id: another computation takes another id."""


class UnknownDotation(NotFound):
    pass
