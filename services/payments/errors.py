"""The payments service's named refusals: each a rule of the call, mapped to its status once."""

from shared.language.errors import NotFound, Refused


class NothingCommitted(NotFound):
    """Payments knows a dossier only once its convention is signed and its funds committed; a
    dossier outside the actor's binding answers alike."""


class BalanceIsNext(Refused):
    """Every instalment is paid: what remains is the balance, released on its own route."""


class BalanceSettled(Refused):
    """The balance was released (or withheld): the dossier's payments are closed."""


class BalanceWithheldError(BalanceSettled):
    """An unfavourable departmental opinion withheld the balance."""


class ReportAlreadySubmitted(Refused):
    pass


class ReportMissing(Refused):
    pass


class OpinionAlreadyGiven(Refused):
    pass


class OpinionMissing(Refused):
    pass


class ActivityReportAwaited(Refused):
    """An instalment due on an activity report is paid only once that report is filed."""


class UnknownProof(Refused):
    """An activity report points only to proofs of spending already added to the dossier."""
