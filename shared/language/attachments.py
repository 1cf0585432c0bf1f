"""Attachments a dossier carries: their kinds, the types a call accepts, and the rules on a
file's name and content. Pure: the type is read from the content's first bytes, never from the
name (a `.pdf` that is a PNG is a PNG)."""

import unicodedata
from enum import Enum

import filetype

# The first bytes that tell every accepted type (the office formats name a part of their zip).
HEAD_BYTES = 8192


class AttachmentKind(str, Enum):
    deliberation = "deliberation"  # the council's deliberation carrying the project
    budget = "budget"  # the detailed budget
    bank_details = "bank_details"  # the collectivité's bank details (RIB)
    proof_of_spending = "proof_of_spending"  # with the final report
    other = "other"  # anything else the parties exchange (to a message, a note)


class Audience(str, Enum):
    """Who may read an attachment: every party of the dossier, or the agents only (MILDECA and
    the préfecture: an attachment of a private note)."""

    parties = "parties"
    agents = "agents"


# What a call accepts, by the type its content shows: PDF, ODT/DOCX, ODS/XLSX, PNG/JPEG.
ACCEPTED: dict[str, str] = {
    "application/pdf": "PDF",
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "DOCX",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "XLSX",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
}

# A declared type that says nothing (a client that does not know) is not a lie.
UNSAID = {"", "application/octet-stream", "binary/octet-stream"}

NAME_MAX = 255


def detected_type(head: bytes) -> str | None:
    """The media type the content shows, or None when it shows none that is known."""
    kind = filetype.guess(head[:HEAD_BYTES])
    return None if kind is None else str(kind.mime)


def name_problem(name: str) -> str | None:
    """Why a file's name cannot be kept as it is, or None: a name, not a path."""
    if not name.strip():
        return "the file has no name"
    if "/" in name or "\\" in name:
        return "a file's name cannot contain a path separator (/ or \\)"
    if name.strip() in {".", ".."}:
        return "a file's name cannot be . or .."
    if any(unicodedata.category(c) == "Cc" for c in name):
        return "a file's name cannot contain control characters"
    if len(name) > NAME_MAX:
        return f"a file's name is at most {NAME_MAX} characters"
    return None


def declared_type(content_type: str | None) -> str:
    """The media type a client declared, without its parameters."""
    return (content_type or "").split(";")[0].strip().lower()
