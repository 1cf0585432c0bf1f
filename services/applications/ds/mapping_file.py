"""A campaign's mapping file for Démarches Simplifiées (docs/ds-bridge.md §2): where each field
of aap's `Dossier` is read in a DS dossier, which files become its attachments, which private
annotations aap writes back. Checked at load against aap's `Dossier`; the only I/O is reading
the file."""

import hashlib
import json
import re
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, EmailStr, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from services.applications.ds.converters import CONVERTERS, Choice, Converter, quoted
from shared.contracts.applications import Dossier
from shared.language.attachments import AttachmentKind

DsState = Literal["en_construction", "en_instruction", "accepte", "refuse", "sans_suite"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Source(_Strict):
    """Where one field of aap's dossier is read: a champ (by its champDescriptorId) or a path in
    the dossier's demandeur, converted by `as`; with `rows`, a repetition read row by row."""

    champ: str | None = None
    demandeur: str | None = None
    label: str | None = None
    as_: Converter | None = Field(default=None, alias="as")
    values: dict[str, Choice] | None = None
    optional: bool = False
    default: Any = None  # in aap's vocabulary, used as is; none: the field is left out
    else_: "Source | None" = Field(default=None, alias="else")
    rows: "dict[str, Source] | None" = None

    @model_validator(mode="after")
    def _coherent(self) -> "Source":
        problem = _source_problem(self)
        if problem:
            raise ValueError(problem)
        return self

    def chain(self) -> list["Source"]:
        """This source, then its fallbacks (`else`), in the order they are tried."""
        return [self, *(self.else_.chain() if self.else_ else [])]

    @property
    def converter(self) -> Converter:
        if self.as_ is None:  # refused at load: only a repetition has no `as`
            raise ValueError("a repetition has no converter")
        return self.as_

    @property
    def name(self) -> str:
        """How a report names it: the champ's label, else its id, or the demandeur's path."""
        if self.demandeur is not None:
            return f"demandeur.{self.demandeur}"
        return quoted(self.label, 80) if self.label else str(self.champ)


def _source_problem(source: Source) -> str | None:
    if (source.champ is None) == (source.demandeur is None):
        return "a source reads exactly one of `champ` (a champDescriptorId) or `demandeur`"
    if source.rows is not None:
        return _rows_problem(source, source.rows)
    if source.as_ is None:
        return f"a source needs `as`, one of {', '.join(CONVERTERS)} (or `rows`, a repetition)"
    if source.as_ in ("choice", "choices") and not source.values:
        return f"`{source.as_}` needs `values`: each label of the form and its value in aap"
    if source.values is not None and source.as_ not in ("choice", "choices"):
        return "`values` belong to `choice` and `choices` only"
    return _fallback_problem(source)


def _rows_problem(source: Source, rows: dict[str, Source]) -> str | None:
    if source.champ is None:
        return "`rows` reads a repetition: it needs the repetition's `champ`"
    if source.as_ is not None or source.values is not None or source.else_ is not None:
        return "a repetition (`rows`) has no `as`, `values` nor `else`: its rows' fields have them"
    if not rows:
        return "`rows` names at least one field of a row"
    for name, sub in rows.items():
        if sub.rows is not None or any(link.demandeur for link in sub.chain()):
            return f"rows.{name}: a row's field reads a champ of its row (no `demandeur`, `rows`)"
    return _fallback_problem(source)


def _fallback_problem(source: Source) -> str | None:
    if source.default is not None and not source.optional:
        return "`default` is for an `optional` source"
    if any(link.optional or link.default is not None for link in source.chain()[1:]):
        return "`optional` and `default` belong to the first source, not to its `else`"
    return None


class AttachmentSource(_Strict):
    """A PieceJustificativeChamp whose files become attachments of one kind."""

    champ: str
    label: str
    kind: AttachmentKind
    required: bool


class Demarche(_Strict):
    number: int | None = None  # the key of DS's API; unknown until `aap ds describe`
    path: str | None = None  # the démarche's address on DS, for people


def _default_states() -> list[DsState]:
    return ["en_construction", "en_instruction"]


class DsMapping(_Strict):
    """A campaign's mapping file, format "aap.ds-mapping/1": which DS answers make aap's
    dossier, which files its attachments, which private annotations aap writes back."""

    format: Literal["aap.ds-mapping/1"]
    campaign_id: str = Field(min_length=1)
    demarche: Demarche = Demarche()
    import_states: list[DsState] = Field(default_factory=_default_states, min_length=1)
    instructeur_email: EmailStr
    fields: dict[str, Source]
    attachments: list[AttachmentSource] = []
    annotations: dict[str, str] = {}  # aap's name → the annotation's champDescriptorId

    @model_validator(mode="after")
    def _fits_the_dossier(self) -> "DsMapping":
        problems = _dossier_problems(self.fields)
        if problems:
            raise ValueError("; ".join(problems))
        return self


# --- the mapping's paths against aap's Dossier -----------------------------------------------


def _dossier_problems(fields: dict[str, Source]) -> list[str]:
    problems = []
    for path, source in fields.items():
        info = _field_at(Dossier, path.split("."))
        if info is None:
            problems.append(f"{path!r} is not a field of aap's Dossier")
        elif source.rows is not None:
            problems += _rows_fit(path, info, source.rows)
    problems += [
        f"{a!r} and {b!r} overlap: map a field or its parts, not both"
        for a in fields
        for b in fields
        if b.startswith(a + ".")
    ]
    missing = _unmapped(Dossier, "", set(fields))
    if missing:
        problems.append(f"no source for the Dossier's required fields {', '.join(missing)}")
    return problems


def _field_at(model: type[BaseModel], parts: list[str]) -> FieldInfo | None:
    info = model.model_fields.get(parts[0])
    if info is None or len(parts) == 1:
        return info
    inner = _model(info.annotation)
    return _field_at(inner, parts[1:]) if inner else None


def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _item_model(info: FieldInfo) -> type[BaseModel] | None:
    args = get_args(info.annotation)
    return _model(args[0]) if get_origin(info.annotation) is list and args else None


def _rows_fit(path: str, info: FieldInfo, rows: dict[str, Source]) -> list[str]:
    item = _item_model(info)
    if item is None:
        return [f"{path!r} is not a list of records: it cannot be read from `rows`"]
    problems = [
        f"{path}.rows: {name!r} is not a field" for name in rows if name not in item.model_fields
    ]
    missing = _unmapped(item, "", set(rows))
    if missing:
        problems.append(f"{path}.rows: no source for the required fields {', '.join(missing)}")
    return problems


def _unmapped(model: type[BaseModel], prefix: str, mapped: set[str]) -> list[str]:
    missing = []
    for name, info in model.model_fields.items():
        path = prefix + name
        inner = _model(info.annotation)
        if path in mapped:
            continue
        if inner and any(m.startswith(path + ".") for m in mapped):
            missing += _unmapped(inner, path + ".", mapped)
        elif info.is_required():
            missing.append(path)
    return missing


# --- the file --------------------------------------------------------------------------------


class MappingFileError(ValueError):
    """A mapping file that is not there or does not read as a mapping: the message names it."""


def load_mapping(campaign_id: str, directory: Path | None = None) -> DsMapping:
    """The mapping of a campaign: `<directory>/<campaign_id>.json`, by default the one shipped
    with aap (shared/language/ds); the file must map that very campaign."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", campaign_id):
        raise MappingFileError(f"{campaign_id!r} is not a campaign id")
    name = f"{campaign_id}.json"
    file: Traversable = (
        Path(directory) / name
        if directory is not None
        else resources.files("shared.language").joinpath("ds").joinpath(name)
    )
    if not file.is_file():
        raise MappingFileError(f"no mapping file {file} for the campaign {campaign_id!r}")
    try:
        mapping = DsMapping.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except json.JSONDecodeError as error:
        raise MappingFileError(f"{file} is not JSON: {error}") from None
    except ValidationError as error:
        raise MappingFileError(f"{file} is not a mapping:\n{_said(error)}") from None
    if mapping.campaign_id != campaign_id:
        raise MappingFileError(f"{file} maps {mapping.campaign_id!r}, not {campaign_id!r}")
    return mapping


def _said(error: ValidationError) -> str:
    return "\n".join(
        f"  {'.'.join(str(p) for p in e['loc']) or '(the file)'}: "
        + e["msg"].removeprefix("Value error, ")
        for e in error.errors()
    )


def canonical_sha256(value: Any) -> str:
    """The SHA-256 of a JSON value's canonical form (keys sorted, no spaces, UTF-8)."""
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def mapping_digest(mapping: DsMapping) -> str:
    """The SHA-256 of the mapping's canonical JSON (every setting, defaults included, keys
    sorted): it moves when what the mapping says moves, not with the file's layout."""
    return canonical_sha256(mapping.model_dump(mode="json", by_alias=True))
