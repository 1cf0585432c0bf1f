"""Named domain errors; each maps to one HTTP status, in one place (shared/http.py)."""

from typing import ClassVar


class DomainError(Exception):
    status = 409
    code = "conflict"
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Refused(DomainError):
    """A lawful request the rules refuse (a closed call, a second submission...)."""

    status = 409
    code = "refused"
