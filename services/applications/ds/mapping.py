"""The mapping of a Démarches Simplifiées dossier to aap's dossier (docs/ds-bridge.md §2).

`map_dossier` applies a campaign's mapping file (mapping_file.py) to a DS dossier node and
refuses a dossier with every one of its problems, each naming the DS champ and row it came
from. Pure."""

import copy
import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any

from pydantic import ValidationError

from services.applications.ds.converters import Refusal, convert, is_empty, quoted, read
from services.applications.ds.mapping_file import (
    AttachmentSource,
    DsMapping,
    Source,
    canonical_sha256,
)
from shared.contracts.applications import Dossier
from shared.language.attachments import AttachmentKind

# --- a mapped dossier, or its problems -------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class MappingProblem:
    """Why one answer of a DS dossier does not make aap's dossier: the champ and row it came
    from, the field of aap it was for (list items from 0, rows from 1), a stable kind."""

    ds_number: int
    champ_id: str | None
    champ: str | None  # the champ's label
    row: int | None  # in a repetition, from 1
    field: str  # aap's path, e.g. budget.lines.2.amount_eur for row 3
    kind: str
    reason: str

    def __str__(self) -> str:
        where = f'"{self.champ}"' if self.champ else self.field
        row = f" row {self.row}" if self.row is not None else ""
        return f"{self.ds_number} · {where}{row} · {self.kind} · {self.reason}"


class Unmappable(Exception):
    """A DS dossier that does not make aap's dossier: every problem it has, not the first."""

    def __init__(self, problems: list[MappingProblem]) -> None:
        super().__init__("\n".join(str(problem) for problem in problems))
        self.problems = problems


@dataclasses.dataclass(frozen=True)
class DsFile:
    """A file of a PieceJustificativeChamp, as DS describes it (its bytes are fetched later)."""

    champ_id: str
    label: str
    kind: AttachmentKind
    filename: str
    content_type: str
    byte_size: int
    checksum: str  # base64 of the MD5, as ActiveStorage keeps it
    url: str  # signed, valid one hour
    virus_scan: str | None  # pending, safe, infected, integrity_error


@dataclasses.dataclass(frozen=True)
class Mapped:
    """A DS dossier as aap's dossier, with DS's dates and files; `digest` tells a changed
    dossier from an unchanged one (answers and files only, never dates)."""

    ds_number: int
    ds_id: str
    state: str
    deposited_at: datetime
    modified_at: datetime
    champs_modified_at: datetime
    dossier: Dossier
    files: tuple[DsFile, ...]
    digest: str


# --- mapping a dossier -----------------------------------------------------------------------

FieldPath = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class _Origin:
    champ_id: str | None = None
    label: str | None = None
    row: int | None = None


_NOWHERE = _Origin()


class _Nothing:
    """No value for a field: it is left out of the body (a problem is said, or none is due)."""


_NOTHING = _Nothing()


@dataclasses.dataclass(frozen=True)
class _Absent:
    kind: str
    reason: str


@dataclasses.dataclass(frozen=True)
class _Scope:
    champs: dict[str, dict[str, Any]]  # by champDescriptorId: the dossier's, or one row's
    demandeur: dict[str, Any] | None  # None: a person, whose answers are not read
    row: int | None


@dataclasses.dataclass
class _Run:
    ds_number: int
    problems: list[MappingProblem] = dataclasses.field(default_factory=list)
    origins: dict[FieldPath, _Origin] = dataclasses.field(default_factory=dict)
    failed: set[FieldPath] = dataclasses.field(default_factory=set)

    def refuse(self, path: FieldPath, origin: _Origin, kind: str, reason: str) -> None:
        self.failed.add(path)
        field = ".".join(str(part) for part in path)
        self.problems.append(
            MappingProblem(
                self.ds_number, origin.champ_id, origin.label, origin.row, field, kind, reason
            )
        )


_DATES = ("dateDepot", "dateDerniereModification", "dateDerniereModificationChamps")


def map_dossier(node: dict[str, Any], mapping: DsMapping) -> Mapped:
    """A DS dossier node (DossierFields) as aap's validated `Dossier`, with its files and its
    digest; else `Unmappable` with every problem found. Eligibility is not checked here."""
    number = node.get("number")
    run = _Run(number if isinstance(number, int) and not isinstance(number, bool) else 0)
    header = _header(run, node)
    champs = _index(node.get("champs"))
    scope = _Scope(champs, _demandeur(run, node.get("demandeur"), mapping), None)
    body: dict[str, Any] = {}
    for path, source in mapping.fields.items():
        value = _value(run, tuple(path.split(".")), source, scope)
        if not isinstance(value, _Nothing):
            _put(body, path.split("."), value)
    files = tuple(_files(run, mapping.attachments, champs))
    dossier = _validated(run, body)
    if run.problems or dossier is None or header is None:
        raise Unmappable(run.problems)
    digest = canonical_sha256(
        {
            "dossier": dossier.model_dump(mode="json"),
            "files": sorted([file.champ_id, file.checksum] for file in files),
        }
    )
    return Mapped(run.ds_number, *header, dossier, files, digest)


def _header(
    run: _Run, node: dict[str, Any]
) -> tuple[str, str, datetime, datetime, datetime] | None:
    """DS's id, state and dates of the dossier (aware instants), or the problems they have."""
    sound = run.ds_number > 0
    if not sound:
        run.refuse(
            ("number",),
            _NOWHERE,
            "node_malformed",
            f"no dossier number: {quoted(node.get('number'))}",
        )
    texts = [node.get("id"), node.get("state")]
    for key, text in zip(("id", "state"), texts, strict=True):
        if not isinstance(text, str) or not text:
            run.refuse((key,), _NOWHERE, "node_malformed", f"the dossier has no {key}")
            sound = False
    instants = [_instant(node.get(key)) for key in _DATES]
    for key, instant in zip(_DATES, instants, strict=True):
        if instant is None:
            reason = f"{key} is not an ISO 8601 instant with its offset: {quoted(node.get(key))}"
            run.refuse((key,), _NOWHERE, "node_malformed", reason)
    deposited, modified, champs_modified = instants
    if not sound or deposited is None or modified is None or champs_modified is None:
        return None
    return str(texts[0]), str(texts[1]), deposited, modified, champs_modified


def _instant(value: Any) -> datetime | None:
    try:
        instant = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
    return instant if instant is not None and instant.tzinfo is not None else None


def _index(champs: Any) -> dict[str, dict[str, Any]]:
    listed = champs if isinstance(champs, list) else []
    return {
        champ["champDescriptorId"]: champ
        for champ in listed
        if isinstance(champ, dict) and isinstance(champ.get("champDescriptorId"), str)
    }


def _demandeur(run: _Run, demandeur: Any, mapping: DsMapping) -> dict[str, Any] | None:
    """The demandeur a source may read; a person (PersonnePhysique) is refused once, whatever
    number of fields read it."""
    if not isinstance(demandeur, dict):
        return {}
    if demandeur.get("__typename") != "PersonnePhysique":
        return demandeur
    if any(link.demandeur for source in mapping.fields.values() for link in source.chain()):
        reason = (
            "the dossier was filed by a person (PersonnePhysique); a collectivité files as a "
            "personne morale, with its SIRET"
        )
        run.refuse(("applicant",), _NOWHERE, "demandeur_not_morale", reason)
    return None


def _put(body: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        body = body.setdefault(part, {})
    body[parts[-1]] = value


def _value(run: _Run, path: FieldPath, source: Source, scope: _Scope) -> Any:
    """The value of one field: its source, else its fallbacks, else its default, else the
    problem; a refused answer is not replaced by a fallback (only a missing one is)."""
    if source.rows is not None:
        return _rows(run, path, source, source.rows, scope)
    absences: list[_Absent] = []
    origin = _NOWHERE
    for link in source.chain():
        origin = _origin(link, scope.row)
        if link.demandeur is not None and scope.demandeur is None:
            run.failed.add(path)  # a person: said once, for the whole dossier
            return _NOTHING
        try:
            raw = _raw(link, scope, named=source.else_ is not None)
            if isinstance(raw, _Absent):
                absences.append(raw)
                continue
            value = convert(link.converter, raw, link.values or {})
        except Refusal as refusal:
            run.refuse(path, origin, refusal.kind, refusal.reason)
            return _NOTHING
        run.origins[path] = origin
        return value
    return _unanswered(run, path, source, origin, absences)


def _origin(link: Source, row: int | None) -> _Origin:
    return _Origin(link.champ, link.label, row) if link.champ else _NOWHERE


def _raw(link: Source, scope: _Scope, named: bool) -> Any:
    """What the link's champ (or demandeur path) holds, or why there is nothing."""
    if link.demandeur is not None:
        value = _dig(scope.demandeur or {}, link.demandeur)
        if not is_empty(value):
            return value
        incomplete = (scope.demandeur or {}).get("__typename") == "PersonneMoraleIncomplete"
        note = " (PersonneMoraleIncomplete: DS could not reach the company registry)"
        return _Absent(
            "demandeur_incomplete",
            f"the demandeur has no {link.demandeur}" + (note if incomplete else ""),
        )
    name = f"{link.name} " if named else "the champ "
    champ = scope.champs.get(str(link.champ))
    if champ is None:
        reason = f"{name}is not in the dossier (an older form, or hidden by a condition)"
        return _Absent("champ_missing", reason)
    value = read(link.converter, champ)
    return _Absent("champ_missing", f"{name}is not filled in") if is_empty(value) else value


def _dig(data: dict[str, Any], dotted: str) -> Any:
    value: Any = data
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _unanswered(
    run: _Run, path: FieldPath, source: Source, origin: _Origin, absences: list[_Absent]
) -> Any:
    if source.optional:
        if source.default is None:
            return _NOTHING
        run.origins[path] = origin
        return copy.deepcopy(source.default)
    run.refuse(path, origin, absences[-1].kind, "; ".join(a.reason for a in absences))
    return _NOTHING


def _rows(
    run: _Run, path: FieldPath, source: Source, fields: dict[str, Source], scope: _Scope
) -> Any:
    """One list item per row of the repetition, each field read in its row's champs."""
    origin = _Origin(source.champ, source.label, None)
    champ = scope.champs.get(str(source.champ))
    if champ is not None and not isinstance(champ.get("rows"), list):
        kind = champ.get("__typename")
        reason = f"a repetition is read from a RepetitionChamp's rows, and this is a {kind}"
        run.refuse(path, origin, "champ_type_mismatch", reason)
        return _NOTHING
    if champ is None or not champ["rows"]:
        absent = "is not in the dossier" if champ is None else "has no row"
        return _unanswered(
            run, path, source, origin, [_Absent("champ_missing", f"the repetition {absent}")]
        )
    run.origins[path] = origin
    items = []
    for number, row in enumerate(champ["rows"], start=1):
        row_scope = _Scope(_index(row.get("champs")), scope.demandeur, number)
        run.origins[(*path, number - 1)] = _Origin(source.champ, source.label, number)
        item: dict[str, Any] = {}
        for name, sub in fields.items():
            value = _value(run, (*path, number - 1, name), sub, row_scope)
            if not isinstance(value, _Nothing):
                item[name] = value
        items.append(item)
    return items


def _files(
    run: _Run, attachments: list[AttachmentSource], champs: dict[str, dict[str, Any]]
) -> list[DsFile]:
    """The files of each attachment champ; a required one without any is refused."""
    files = []
    for attachment in attachments:
        origin = _Origin(attachment.champ, attachment.label, None)
        path: FieldPath = ("attachments", attachment.kind.value)
        champ = champs.get(attachment.champ)
        if champ is not None and not isinstance(champ.get("files"), list):
            kind = champ.get("__typename")
            reason = f"files are read from a PieceJustificativeChamp, and this is a {kind}"
            run.refuse(path, origin, "champ_type_mismatch", reason)
            continue
        given = champ["files"] if champ is not None else []
        if not given and attachment.required:
            said = (
                "no file was attached" if champ is not None else "the champ is not in the dossier"
            )
            run.refuse(path, origin, "attachment_missing", said)
        for item in given:
            try:
                files.append(_file(attachment, item))
            except Refusal as refusal:
                run.refuse(path, origin, refusal.kind, refusal.reason)
    return files


def _file(attachment: AttachmentSource, item: Any) -> DsFile:
    given = item if isinstance(item, dict) else {}
    texts = {key: given.get(key) for key in ("filename", "checksum", "url")}
    lacking = [key for key, value in texts.items() if not isinstance(value, str) or not value]
    size = _size(given.get("byteSize"))  # a BigInt: a string of digits
    if size is None:
        lacking.append("byteSize")
    if lacking:
        name = quoted(given.get("filename"))
        raise Refusal("file_malformed", f"the file {name} has no valid {', '.join(lacking)}")
    scan = given.get("virusScanResult")
    return DsFile(
        champ_id=attachment.champ,
        label=attachment.label,
        kind=attachment.kind,
        filename=str(texts["filename"]),
        content_type=str(given.get("contentType") or ""),
        byte_size=size or 0,
        checksum=str(texts["checksum"]),
        url=str(texts["url"]),
        virus_scan=scan if isinstance(scan, str) else None,
    )


def _size(value: Any) -> int | None:
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _validated(run: _Run, body: dict[str, Any]) -> Dossier | None:
    """aap's Dossier, or its refusals as problems named by the DS champ and row they came
    from; what was already refused while mapping is not said twice."""
    try:
        return Dossier.model_validate(body)
    except ValidationError as error:
        for e in error.errors():
            loc = tuple(e["loc"])
            if not _already_said(run.failed, loc, e["type"]):
                run.refuse(loc, _origin_at(run.origins, loc), e["type"], _reason(e))
        return None


def _already_said(failed: set[FieldPath], loc: FieldPath, kind: str) -> bool:
    under = any(loc[: len(path)] == path for path in failed)
    return under or (kind == "missing" and any(path[: len(loc)] == loc for path in failed))


def _origin_at(origins: dict[FieldPath, _Origin], loc: FieldPath) -> _Origin:
    for end in range(len(loc), 0, -1):
        if loc[:end] in origins:
            return origins[loc[:end]]
    return _NOWHERE


def _reason(error: Any) -> str:
    said = str(error["msg"]).removeprefix("Value error, ").rstrip(".")
    given = error.get("input")
    if isinstance(given, str | int | Decimal) and not isinstance(given, bool):
        return f"{said}: {quoted(given)}"
    return said
