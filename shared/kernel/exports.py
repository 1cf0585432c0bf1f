"""Tables exported as CSV, XLSX or ODS, from rows that arrive one at a time.

A `Column` names its header (stable: integrators key on it) and how its cell is read from a
row. CSV is streamed as the rows come; XLSX is written row by row by openpyxl's write-only
workbook into a spooled temporary file (in memory up to a few MB, on disk beyond), then streamed;
ODS is built by odfpy and streamed. Amounts stay exact: a `Decimal` is written as its digits
(CSV), a number cell from its digits (XLSX, ODS), never through a float of our own.
"""

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Literal

from fastapi.responses import StreamingResponse

Format = Literal["csv", "xlsx", "ods"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
CHUNK = 64 * 1024
SPOOLED = 8 * 1024 * 1024  # an XLSX bigger than this is spooled to disk while it is written


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Mapping[str, Any]], Any]
    description: str = ""


def field(name: str, description: str = "") -> Column:
    """A column that is the row's field of the same name."""
    return Column(name, lambda row: row.get(name), description)


Rows = AsyncIterator[Mapping[str, Any]]


def response(format: Format, name: str, columns: Sequence[Column], rows: Rows) -> StreamingResponse:
    """The export as a download named `<name>.<format>`."""
    writers = {"csv": _csv, "xlsx": _xlsx, "ods": _ods}
    return StreamingResponse(
        writers[format](columns, rows),
        media_type=MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{name}.{format}"'},
    )


def text(value: Any) -> str:
    """A cell as CSV writes it: amounts by their digits, instants in ISO 8601, nothing as ''."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


async def _csv(columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([c.header for c in columns])
    async for row in rows:
        out.writerow([text(c.value(row)) for c in columns])
        if buffer.tell() >= CHUNK:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def _cell(value: Any) -> Any:
    """A cell as a spreadsheet holds it: numbers as numbers, instants naive in UTC (the
    formats have no offsets), the rest as text."""
    if value is None or isinstance(value, bool | int | Decimal):
        return value
    if isinstance(value, datetime):
        return _utc(value)
    return text(value)


def _utc(value: datetime) -> datetime:
    offset = value.utcoffset()
    return (value - offset).replace(tzinfo=None) if offset is not None else value


async def _xlsx(columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.append([c.header for c in columns])
    async for row in rows:
        sheet.append([_cell(c.value(row)) for c in columns])
    with tempfile.SpooledTemporaryFile(max_size=SPOOLED) as spooled:
        book.save(spooled)
        spooled.seek(0)
        for chunk in iter(lambda: spooled.read(CHUNK), b""):
            yield chunk


async def _ods(columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="export")

    def add(values: Iterator[Any]) -> None:
        line = TableRow()
        for value in values:
            cell = _ods_cell(TableCell, value)
            if value is not None:
                cell.addElement(P(text=text(value)))
            line.addElement(cell)
        table.addElement(line)

    add(iter([c.header for c in columns]))
    async for row in rows:
        add(c.value(row) for c in columns)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    out.seek(0)
    for chunk in iter(lambda: out.read(CHUNK), b""):
        yield chunk


def _ods_cell(cell: Any, value: Any) -> Any:
    if isinstance(value, bool):
        return cell(valuetype="boolean", booleanvalue=text(value))
    if isinstance(value, int | Decimal):
        return cell(valuetype="float", value=str(value))
    if isinstance(value, datetime):
        return cell(valuetype="date", datevalue=_utc(value).isoformat())
    return cell(valuetype="string")
