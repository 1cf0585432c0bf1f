"""A campaign's mapping file held against the démarche's live form (DescribeDemarche's
`activeRevision`): `check_mapping` says what would refuse dossiers, and what looks off. Pure."""

import dataclasses
from typing import Any

from services.applications.ds.converters import DESCRIPTOR_TYPES, normalised, quoted
from services.applications.ds.mapping_file import DsMapping, Source


@dataclasses.dataclass
class _Form:
    root: dict[str, dict[str, Any]]
    inside: dict[str, dict[str, dict[str, Any]]]  # a repetition's id → its champs by id
    errors: list[str] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)

    def where(self, champ_id: str) -> str:
        """Where a champ the mapping reads elsewhere is, said after "is not …, it is"."""
        if champ_id in self.root:
            return "inside this repetition: it is at the root of the form"
        for parent, children in self.inside.items():
            if champ_id in children:
                label = quoted(self.root[parent].get("label"), 80)
                return f"at this level: it is inside the repetition {label}"
        return "in the démarche's active revision"


def check_mapping(
    mapping: DsMapping,
    descriptors: list[dict[str, Any]],
    annotation_descriptors: list[dict[str, Any]],
) -> tuple[list[str], list[str]]:
    """The mapping held against DescribeDemarche's `activeRevision`: errors (a champ not in the
    form, or not where the mapping reads it, of a type its converter cannot read; a label of
    `values` not among the options) and warnings (a changed label: the id counts; an option
    without a value; a champ optional on DS that the mapping requires)."""
    form = _Form(
        root={d["id"]: d for d in descriptors},
        inside={
            d["id"]: {c["id"]: c for c in d.get("champDescriptors") or []} for d in descriptors
        },
    )
    for path, source in mapping.fields.items():
        _check_source(form, form.root, path, source)
    for attachment in mapping.attachments:
        where = f"attachments.{attachment.kind.value}"
        _descriptor(form, form.root, where, attachment.champ, attachment.label, "attachment")
    _check_annotations(form, mapping.annotations, annotation_descriptors)
    return form.errors, form.warnings


def _check_source(form: _Form, level: dict[str, dict[str, Any]], path: str, source: Source) -> None:
    if source.rows is not None:
        if _descriptor(form, level, path, str(source.champ), source.label, "rows") is not None:
            children = form.inside.get(str(source.champ), {})
            for name, sub in source.rows.items():
                _check_source(form, children, f"{path}.{name}", sub)
        return
    chain = source.chain()
    for link in chain:
        if link.champ is None:
            continue
        found = _descriptor(form, level, path, link.champ, link.label, link.converter)
        if found is None:
            continue
        _check_values(form, path, link, found)
        if len(chain) == 1 and not source.optional and found.get("required") is False:
            form.warnings.append(
                f"{path}: {link.name} is optional on DS and required by the mapping: a dossier "
                "leaving it empty is champ_missing"
            )


def _descriptor(
    form: _Form,
    level: dict[str, dict[str, Any]],
    path: str,
    champ_id: str,
    label: str | None,
    reads: str,
) -> dict[str, Any] | None:
    """The descriptor a champ of the mapping is read from, if it is where the mapping reads it
    and of a type its converter reads; else the error is said."""
    name = f"{quoted(label, 80)} ({champ_id})" if label else champ_id
    found = level.get(champ_id)
    if found is None:
        form.errors.append(f"{path}: the champ {name} is not {form.where(champ_id)}")
        return None
    typename = found.get("__typename")
    if typename not in DESCRIPTOR_TYPES[reads]:
        readable = " or ".join(sorted(DESCRIPTOR_TYPES[reads]))
        form.errors.append(f"{path}: the champ {name} is a {typename}; `{reads}` reads {readable}")
        return None
    if label and normalised(str(found.get("label") or "")) != normalised(label):
        form.warnings.append(
            f"{path}: the champ {champ_id} is labelled {quoted(found.get('label'), 80)} on DS and "
            f"{quoted(label, 80)} in the mapping (the id counts)"
        )
    return found


def _check_values(form: _Form, path: str, link: Source, found: dict[str, Any]) -> None:
    if link.as_ not in ("choice", "choices"):
        return
    options = [normalised(str(option)) for option in found.get("options") or []]
    labels = [normalised(label) for label in link.values or {}]
    unknown = [label for label in labels if label not in options]
    if unknown:
        form.errors.append(
            f"{path}: {', '.join(quoted(u, 80) for u in unknown)} not among the options of "
            f"{link.name}: {', '.join(quoted(o, 80) for o in options)}"
        )
    unmapped = [option for option in options if option not in labels]
    if unmapped:
        form.warnings.append(
            f"{path}: the options {', '.join(quoted(u, 80) for u in unmapped)} of {link.name} "
            "have no value in the mapping: a dossier choosing one is choice_unknown"
        )
    if found.get("otherOption"):
        form.warnings.append(
            f"{path}: {link.name} lets the applicant write another answer: it is choice_unknown"
        )


def _check_annotations(
    form: _Form, annotations: dict[str, str], annotation_descriptors: list[dict[str, Any]]
) -> None:
    known = {d["id"]: d for d in annotation_descriptors}
    for name, champ_id in annotations.items():
        found = known.get(champ_id)
        if found is None:
            form.errors.append(
                f"annotations.{name}: {champ_id} is not a private annotation of the démarche"
            )
        elif found.get("__typename") not in ("TextChampDescriptor", "TextareaChampDescriptor"):
            form.warnings.append(
                f"annotations.{name}: the annotation {quoted(found.get('label'), 80)} is a "
                f"{found.get('__typename')}; aap writes it as text"
            )
