"""The notifications service's named refusals and failures."""

from shared.language.errors import NotFound


class UnknownDossier(NotFound):
    """No mail known for the dossier, or a dossier outside the actor's binding: alike."""


class NothingInTheTrail(NotFound):
    """The audit trail holds no event of the dossier (yet: it follows the log)."""


class UnknownDepartement(ValueError):
    """A mail for the préfecture, for a dossier whose département notifications never learnt."""
