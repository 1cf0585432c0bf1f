"""Named domain errors; each maps to one HTTP status, in one place (shared/http.py)."""

from typing import ClassVar

from pydantic import ValidationError


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


class Invalid(DomainError):
    """Input the rules refuse field by field (an amendment, a file): a 422 in the same shape as
    a body that does not read, each error naming its field, its kind and the reason."""

    status = 422
    code = "invalid"

    def __init__(self, errors: list[dict[str, object]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))
        self.errors = errors


def invalid(field: str, kind: str, reason: str, **context: str | int) -> Invalid:
    """One field refused: `raise invalid("file", "file_empty", "the file is empty")`."""
    return Invalid([{"field": field, "type": kind, "reason": reason, "context": context}])


def refused_fields(error: ValidationError, *prefix: str) -> Invalid:
    """A model's validation errors as field refusals, each field named from `prefix` on."""
    return Invalid(
        [
            {
                "field": ".".join([*prefix, *(str(p) for p in e["loc"])]),
                "type": e["type"],
                "reason": e["msg"].removeprefix("Value error, "),
                "context": {k: str(v) for k, v in (e.get("ctx") or {}).items()},
            }
            for e in error.errors()
        ]
    )
