"""Tables exported as CSV, XLSX or ODS, from rows that arrive one at a time.

A `Column` names its header (stable: integrators key on it) and how its cell is read from a
row. CSV is streamed as the rows come; XLSX is written row by row by openpyxl's write-only
workbook into a spooled temporary file (in memory up to a few MB, on disk beyond), then streamed;
ODS is written row by row into its zip as it streams (odfpy, which holds the whole document as a
tree, reads it back in the tests). Amounts stay exact: a `Decimal` is written as its digits
(CSV), a number cell from its digits (XLSX, ODS), never through a float of our own.

Also what every export route says alike: its OpenAPI answers, the dossier's link, an `as_of`
instant that is not in the future, rows read by a server-side cursor.
"""

import asyncio
import csv
import io
import tempfile
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any, Literal
from xml.sax.saxutils import escape

import asyncpg
from fastapi import Depends, Query, Request
from fastapi.responses import Response, StreamingResponse

from shared.kernel.deps import ClockDep, Instant
from shared.kernel.openapi import errors
from shared.language.errors import invalid

Format = Literal["csv", "xlsx", "ods"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
}
CHUNK = 64 * 1024
SPOOLED = 8 * 1024 * 1024  # an XLSX bigger than this is spooled to disk while it is written
CURSOR_ROWS = 500


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Mapping[str, Any]], Any]
    description: str = ""


def field(name: str, description: str = "") -> Column:
    """A column that is the row's field of the same name."""
    return Column(name, lambda row: row.get(name), description)


def link(console_url: str) -> Column:
    """The dossier in the web console, from the row's `dossier_id`."""
    base = console_url.rstrip("/")
    return Column(
        "link", lambda row: f"{base}/dossiers/{row['dossier_id']}", "the dossier in the web console"
    )


Rows = AsyncIterator[Mapping[str, Any]]


async def listed(rows: Iterable[Mapping[str, Any]]) -> Rows:
    """Rows already in memory (a small table), as an export takes them."""
    for row in rows:
        yield row


async def streamed(pool: asyncpg.Pool, query: str, *args: Any) -> Rows:
    """The query's rows read by a server-side cursor, a few hundred at a time, never all."""
    async with pool.acquire() as conn, conn.transaction(readonly=True):
        async for row in conn.cursor(query, *args, prefetch=CURSOR_ROWS):
            yield dict(row)


AsOf = Annotated[
    Instant | None,
    Query(
        description="the table as it stood at this instant (ISO 8601 with its UTC offset, not in "
        "the future), folded from the service's own events recorded by then; default: now"
    ),
]


def past(as_of: datetime | None, now: datetime) -> datetime | None:
    """An export as of an instant tells what was recorded by then: a future instant is refused
    (its rows would still change)."""
    if as_of is not None and as_of > now:
        reason = f"an instant not after now ({now.isoformat()}): the export tells what was"
        raise invalid("as_of", "instant_in_the_future", reason)
    return as_of


async def _as_of(clock: ClockDep, as_of: AsOf = None) -> datetime | None:
    return past(as_of, clock())


def _console_url(request: Request) -> str:
    return str(request.app.state.runtime.settings.console_url)


AsOfDep = Annotated[datetime | None, Depends(_as_of)]  # the query's `as_of`, checked
ConsoleUrlDep = Annotated[str, Depends(_console_url)]


def dated(name: str, at: datetime | None) -> str:
    """A download's name, and the instant it is as of (UTC), if any."""
    return name if at is None else f"{name}-as-of-{at.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def route(description: str) -> dict[str, Any]:
    """An export route's OpenAPI: the table in each format, and its refusals."""
    return {
        "response_class": Response,
        "responses": {
            200: {
                "description": description,
                "content": {
                    t: {"schema": {"type": "string", "format": "binary"}}
                    for t in MEDIA_TYPES.values()
                },
            },
            **errors(401, 403, 404, 422, 503),
        },
    }


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
    if isinstance(value, Decimal):
        return format(value, "f")  # its digits, never an exponent (1E-7)
    return str(value)


# A text a spreadsheet would take for a formula when it opens a CSV (OWASP's "CSV injection"): a
# commune's name or a comment written "=HYPERLINK(…)" is shown as written, never run.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: Any) -> str:
    shown = text(value)
    if isinstance(value, str) and shown.startswith(_FORMULA_STARTS):
        return "'" + shown
    return shown


async def _csv(columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    out = csv.writer(buffer, lineterminator="\r\n")
    out.writerow([c.header for c in columns])
    async for row in rows:
        out.writerow([_csv_text(c.value(row)) for c in columns])
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


async def _batches(rows: Rows, size: int = CURSOR_ROWS) -> AsyncIterator[list[Mapping[str, Any]]]:
    batch: list[Mapping[str, Any]] = []
    async for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def _xlsx(columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.append([c.header for c in columns])

    def as_text(value: Any) -> Any:
        """A text openpyxl would write as a formula (it starts with "="), written as text."""
        if isinstance(value, str) and value.startswith("="):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value

    def append(batch: list[Mapping[str, Any]]) -> None:
        for row in batch:
            sheet.append([as_text(_cell(c.value(row))) for c in columns])

    # openpyxl's work is CPU: in a thread, a batch at a time, so the service answers meanwhile
    async for batch in _batches(rows):
        await asyncio.to_thread(append, batch)
    with tempfile.SpooledTemporaryFile(max_size=SPOOLED) as spooled:
        await asyncio.to_thread(book.save, spooled)
        spooled.seek(0)
        for chunk in iter(lambda: spooled.read(CHUNK), b""):
            yield chunk


# OpenDocument's package, written as it streams: odfpy builds the whole document as a tree
# before it writes it (≈ 30 kB a row of 16 cells held until the end), so the few elements a
# table needs are written here, row by row, into a zip that is streamed as it is compressed.
ODS_TYPE = MEDIA_TYPES["ods"]
_MANIFEST = f"""<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" \
manifest:version="1.2">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.2" \
manifest:media-type="{ODS_TYPE}"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
"""
_CONTENT_OPENS = """<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" \
xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" \
xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">\
<office:body><office:spreadsheet><table:table table:name="export">"""
_CONTENT_CLOSES = "</table:table></office:spreadsheet></office:body></office:document-content>"


class _Pipe(io.RawIOBase):
    """What the zip writes, kept until the stream takes it (unseekable: zipfile then writes each
    entry's sizes after its data)."""

    def __init__(self) -> None:
        self.written = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.written += data
        return len(data)

    def take(self) -> bytes:
        taken = bytes(self.written)
        self.written.clear()
        return taken


async def _ods(columns: Sequence[Column], rows: Rows) -> AsyncIterator[bytes]:
    pipe = _Pipe()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_DEFLATED) as package:
        # the first entry, stored: a reader knows the format from the file's first bytes
        package.writestr(zipfile.ZipInfo("mimetype"), ODS_TYPE, zipfile.ZIP_STORED)
        package.writestr("META-INF/manifest.xml", _MANIFEST)
        with package.open("content.xml", "w") as content:
            content.write((_CONTENT_OPENS + _ods_row([c.header for c in columns])).encode())
            async for row in rows:
                content.write(_ods_row([c.value(row) for c in columns]).encode())
                if len(pipe.written) >= CHUNK:
                    yield pipe.take()
            content.write(_CONTENT_CLOSES.encode())
    yield pipe.take()


def _ods_row(values: Sequence[Any]) -> str:
    return "<table:table-row>" + "".join(map(_ods_cell, values)) + "</table:table-row>"


def _ods_cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, bool):
        typed = f'"boolean" office:boolean-value="{text(value)}"'
    elif isinstance(value, int | Decimal):
        typed = f'"float" office:value="{text(value)}"'
    elif isinstance(value, datetime):
        typed = f'"date" office:date-value="{_utc(value).isoformat()}"'
    else:
        typed = '"string"'
    shown = f"<text:p>{escape(text(value))}</text:p>"
    return f"<table:table-cell office:value-type={typed}>{shown}</table:table-cell>"
