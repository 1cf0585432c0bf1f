"""HTTP routes of the regional dotations (docs/dotations.md): computed once per id from JSON or
from a CSV of figures, read back as JSON or as a table (CSV, XLSX, ODS). Thin: parse, call the
handler, answer."""

import csv
import io
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Depends, File, Form, Path, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.selection import handlers
from services.selection.dotation_decider import ComputeDotation
from services.selection.errors import UnknownDotation
from shared.contracts.dotations import (
    DOTATION_ID_PATTERN,
    CriteriaWeights,
    Criterion,
    DotationComputed,
    DotationId,
    ExactNumber,
    Figure,
)
from shared.contracts.values import AMOUNT_PATTERN, Euros, ShortText
from shared.kernel import exports as tables
from shared.kernel.deps import ActorDep, ClockDep, PoolDep, StoreDep
from shared.kernel.http import recorded
from shared.kernel.openapi import api_router, command, errors, link_to
from shared.language.actors import Actor, Role, require_role
from shared.language.errors import Invalid, invalid, refused_fields

router = api_router()
READERS = (Role.instructor, Role.president, Role.auditor)
MAX_FIGURES = 400
MAX_CSV_BYTES = 1024 * 1024
CSV_COLUMNS = ("criterion", "code", "value", "source")
# The export's columns, in this order (a contract: a new one is added at the end).
COLUMNS = [
    tables.field("code", "the région's INSEE code"),
    tables.field("name", "its name"),
    tables.field("amount_eur", "its part of the envelope, in euros"),
    tables.field("share", "its share of the envelope, 0 to 1"),
    *(
        tables.field(f"share_{c.value}", f"its share of the {c.value} criterion (empty: unweighed)")
        for c in Criterion
    ),
]
EXPORT_COLUMNS = tuple(c.header for c in COLUMNS)
_CREATED = "$response.body#/recorded/0/data/dotation_id"
_ON_DOTATION = command(links={"ReadDotation": link_to("read_dotation", dotation_id=_CREATED)})
PathId = Annotated[str, Path(pattern=DOTATION_ID_PATTERN, description="the dotation's id")]
Year = Annotated[int, Field(ge=2013, le=2100, description="the year of the envelope")]


class DotationBody(BaseModel):
    """A national envelope to share among the régions, the criteria's weights and the figures
    (per région, or per département: summed to the région)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: DotationId
    title: ShortText
    year: Year
    envelope_eur: Euros
    weights: CriteriaWeights
    figures: list[Figure] = Field(default_factory=list, max_length=MAX_FIGURES)


@router.post("/dotations", **_ON_DOTATION)
async def compute_dotation(
    body: DotationBody, actor: ActorDep, pool: PoolDep, store: StoreDep, clock: ClockDep
) -> dict[str, Any]:
    """Compute a regional dotation, once per id (the instructors or the President): each
    région's part of the envelope, the parts adding up to it to the cent."""
    return recorded(await handlers.compute_dotation(pool, store, _command(body, actor, clock())))


def _weight(criterion: str) -> Any:
    return Form(alias=f"weights.{criterion}", pattern=ExactNumber(4, 4).pattern)


@router.post("/dotations/upload", **_ON_DOTATION)
async def compute_dotation_from_csv(
    id: Annotated[str, Form(pattern=DOTATION_ID_PATTERN)],
    title: Annotated[str, Form(min_length=1, max_length=200)],
    year: Annotated[int, Form(ge=2013, le=2100)],
    envelope_eur: Annotated[
        str, Form(pattern=AMOUNT_PATTERN, description="euros, e.g. 3500000.00")
    ],
    figures: Annotated[UploadFile, File(description="CSV: criterion,code,value,source")],
    actor: ActorDep,
    pool: PoolDep,
    store: StoreDep,
    clock: ClockDep,
    departements: Annotated[str, _weight("departements")] = "0",
    youth_population: Annotated[str, _weight("youth_population")] = "0",
    youth_consumption: Annotated[str, _weight("youth_consumption")] = "0",
    drug_offences: Annotated[str, _weight("drug_offences")] = "0",
) -> dict[str, Any]:
    """The same, from a form with the figures as a CSV file (UTF-8, `,` or `;` between cells):
    a header `criterion,code,value,source`, then one figure a line; `code` is a département's
    code, or a région's INSEE code after an R (`R84`). Each refusal names its line and column."""
    weights = {
        "departements": departements,
        "youth_population": youth_population,
        "youth_consumption": youth_consumption,
        "drug_offences": drug_offences,
    }
    given = {"id": id, "title": title, "year": year, "envelope_eur": envelope_eur}
    try:
        body = DotationBody.model_validate({**given, "weights": weights, "figures": []})
    except ValidationError as error:
        raise refused_fields(error) from None
    rows = read_figures_csv(await figures.read(MAX_CSV_BYTES + 1))
    try:
        done = await handlers.compute_dotation(
            pool, store, _command(body, actor, clock(), [f for _, f in rows])
        )
    except Invalid as error:
        raise on_lines(error, [line for line, _ in rows]) from None
    return recorded(done)


async def readable(
    dotation_id: PathId, actor: ActorDep, pool: PoolDep, store: StoreDep
) -> DotationComputed:
    """The dotation, for MILDECA's agents and the auditors."""
    require_role(actor, *READERS, to="read a regional dotation")
    dotation = await handlers.computed_dotation(pool, store, dotation_id)
    if dotation is None:
        raise UnknownDotation(f"no dotation {dotation_id!r} was computed")
    return dotation


Readable = Annotated[DotationComputed, Depends(readable)]


@router.get("/dotations/{dotation_id}", responses=errors(401, 403, 404, 422, 503))
async def read_dotation(dotation: Readable) -> dict[str, Any]:
    """The dotation as computed: the envelope, the weights, the figures with their sources, and
    each région's part with its share and its criteria's shares."""
    return dotation.model_dump(mode="json", exclude={"dossier_id"})


@router.get(
    "/dotations/{dotation_id}/export.{format}",
    **tables.route(f"one row per région: {', '.join(EXPORT_COLUMNS)}"),
)
async def export_dotation(dotation: Readable, format: tables.Format) -> Response:
    """The parts as a table, one row per région by code; a criterion that weighs nothing has
    its column empty."""
    rows = tables.listed(export_rows(dotation))
    return tables.response(format, f"dotation-{dotation.dotation_id}", COLUMNS, rows)


def _command(
    body: DotationBody, actor: Actor, now: datetime, figures: Sequence[Figure] | None = None
) -> ComputeDotation:
    return ComputeDotation(
        actor,
        body.id,
        body.title,
        body.year,
        body.envelope_eur,
        body.weights,
        tuple(body.figures if figures is None else figures),
        now,
    )


# --- the CSV of the figures, and of the parts --------------------------------------------------

_COLUMN_OF = {"criterion": "criterion", "region": "code", "departement": "code", "value": "value"}
_SPACES = re.compile(r"(?<=[0-9])[ \u00a0\u202f](?=[0-9])")


def read_figures_csv(content: bytes) -> list[tuple[int, Figure]]:
    """Each figure with its line; every line refused names its line and its column."""
    text = _text_of(content)
    first = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";" if ";" in first else ",")
    problems: list[dict[str, object]] = []
    figures: list[tuple[int, Figure]] = []
    try:
        header = _header(next(reader, []))
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                reason = f"{len(row)} cells, and the header names {len(header)} columns"
                problems.append(_at(line, "line", "csv_cells", reason))
            else:
                problems.extend(_figure(line, dict(zip(header, row, strict=True)), figures))
            if len(figures) > MAX_FIGURES:
                raise Invalid([_at(line, "line", "csv_too_long", f"at most {MAX_FIGURES} figures")])
    except csv.Error as error:
        problems.append(_at(reader.line_num, "line", "csv_invalid", str(error)))
    if problems:
        raise Invalid(problems[:50])
    return figures


def _text_of(content: bytes) -> str:
    if len(content) > MAX_CSV_BYTES:
        reason = f"a CSV of figures is at most {MAX_CSV_BYTES} bytes"
        raise invalid("figures", "file_too_large", reason, max_bytes=MAX_CSV_BYTES)
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        reason = f"the file is not UTF-8 (byte {error.start}): save it as CSV UTF-8"
        raise invalid("figures", "csv_not_utf8", reason) from None


def _header(cells: list[str]) -> list[str]:
    header = [name.strip().lower() for name in cells]
    if sorted(header) != sorted(CSV_COLUMNS):
        reads = ", ".join(header) or "nothing"
        reason = f"the first line names the columns {', '.join(CSV_COLUMNS)} (it reads {reads})"
        raise Invalid([_at(1, "header", "csv_header", reason)])
    return header


def _figure(line: int, cells: dict[str, str], into: list[tuple[int, Figure]]) -> list[Any]:
    code = cells["code"].strip().upper()
    place = {"region": code[1:]} if code.startswith("R") else {"departement": code}
    value = _SPACES.sub("", cells["value"].strip())
    if "," in value and "." not in value:
        value = value.replace(",", ".")  # a decimal comma, as French spreadsheets write it
    given = {"criterion": cells["criterion"].strip(), **place, "value": value}
    try:
        into.append((line, Figure.model_validate({**given, "source": cells["source"]})))
    except ValidationError as error:
        return [_at(line, _column(e["loc"]), e["type"], e["msg"]) for e in error.errors()]
    return []


def _column(loc: tuple[int | str, ...]) -> str:
    """The CSV's column of a figure's field (a figure with no place: its code)."""
    return _COLUMN_OF.get(str(loc[0]), "source") if loc else "code"


def on_lines(error: Invalid, lines: Sequence[int]) -> Invalid:
    """The refusals of `figures.<i>` said of the CSV's lines."""
    said = []
    for e in error.errors:
        found = re.fullmatch(r"figures\.([0-9]+)", str(e["field"]))
        if found:
            e = _at(lines[int(found[1])], "line", str(e["type"]), str(e["reason"]))
        said.append(e)
    return Invalid(said)


def _at(line: int, column: str, kind: str, reason: str) -> dict[str, object]:
    where = f"line {line}" + ("" if column == "line" else f", column {column}")
    return {
        "field": "figures",
        "type": kind,
        "reason": f"{where}: {reason}",
        "context": {"line": line, **({} if column == "line" else {"column": column})},
    }


def export_rows(dotation: DotationComputed) -> Iterator[Mapping[str, object]]:
    """Each région's part, its share and its criteria's shares, by the columns' names."""
    for part in dotation.parts:
        shares: dict[Criterion, Decimal] = {c.criterion: c.share for c in part.criteria}
        yield {
            "code": part.region,
            "name": part.name,
            "amount_eur": part.amount_eur,
            "share": part.share,
            **{f"share_{c.value}": shares.get(c) for c in Criterion},
        }
