"""Exports: a campaign's dossiers exported through selection's route, rows per second in each
format, beside the same rows written by the format's library alone, in the same run.

A campaign of N dossiers at every stage of their lives is replayed into selection's read model
by its own projection (as the console case fills it, `bench.cases.console.fill`). Selection then
runs as a process (on topics of its own), and an auditor downloads
`GET /campaigns/{id}/dossiers/export.{csv,xlsx,ods}`, streamed and read as it comes; rows/s =
N ÷ the download's time, best of the rounds. The ceiling: the same rows, already in memory as
the export's cells, written by the csv module to a buffer, by openpyxl's write-only workbook
saved to a buffer, by odfpy's document written to a buffer.

Memory: the service's peak resident set (VmHWM) before the exports and after each format, in
the order CSV, XLSX, ODS: CSV and XLSX read the rows by a server-side cursor and hold none of
them (the XLSX is spooled to a temporary file beyond a few MB); ODS holds its document whole
(odfpy writes one XML tree), so its growth is the document's. The CSV's first byte comes before
the last row is read: its time to first byte is beside the whole download's.
"""

import asyncio
import csv
import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bench.cases.console import CAMPAIGN, fill
from bench.context import Bench
from bench.measure import now
from bench.processes import Processes, peak_rss_mib
from bench.results import Comparison, Outcome
from bench.stack import environment
from services.selection import exports
from shared.kernel import db
from shared.kernel import exports as tables
from shared.kernel.auth import mint
from shared.language.actors import Role

TITLE = "Exports: a campaign's dossiers as CSV, XLSX and ODS through the route, beside the library"
FORMATS = ("csv", "xlsx", "ods")
CONSOLE = "http://127.0.0.1:8000"


async def exported_rows(settings: Any) -> list[list[Any]]:
    """The export's cells of every dossier, read once by the export's own query."""
    columns = exports.dossier_columns(CONSOLE)
    pool = await db.open_pool(settings, "selection", size=1)
    try:
        return [
            [c.value(row) for c in columns]
            async for row in exports.dossiers(pool, CAMPAIGN, exports.Filters())
        ]
    finally:
        await pool.close()


# Each library is given the cells as it takes them, prepared before its clock starts.


def as_text(rows: list[list[Any]]) -> list[list[Any]]:
    return [[tables.text(v) for v in row] for row in rows]


def as_cells(rows: list[list[Any]]) -> list[list[Any]]:
    """Numbers as they are, instants naive in UTC (the spreadsheet formats hold no offset)."""
    return [[_naive(v) for v in row] for row in rows]


def with_csv(headers: Sequence[str], rows: list[list[Any]]) -> int:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers)
    writer.writerows(rows)
    return len(out.getvalue().encode())


def with_openpyxl(headers: Sequence[str], rows: list[list[Any]]) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("export")
    sheet.append(list(headers))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return len(out.getvalue())


def with_odfpy(headers: Sequence[str], rows: list[list[Any]]) -> int:
    """Every cell a string cell of its text (the route types its number and date cells)."""
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    table = Table(name="export")
    for values in [list(headers), *rows]:
        line = TableRow()
        for value in values:
            cell = TableCell(valuetype="string")
            if value != "":
                cell.addElement(P(text=value))
            line.addElement(cell)
        table.addElement(line)
    document.spreadsheet.addElement(table)
    out = io.BytesIO()
    document.write(out)
    return len(out.getvalue())


def _naive(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None)
    return value if value is None or isinstance(value, bool | int | Decimal) else str(value)


Writer = Callable[[Sequence[str], list[list[Any]]], int]
LIBRARIES: dict[str, tuple[str, Callable[[list[list[Any]]], list[list[Any]]], Writer]] = {
    "csv": ("the csv module to a buffer", as_text, with_csv),
    "xlsx": ("openpyxl write-only to a buffer", as_cells, with_openpyxl),
    "ods": ("odfpy to a buffer", as_text, with_odfpy),
}


async def download(client: httpx.AsyncClient, url: str) -> tuple[float, float, int]:
    """The whole export, read as it streams: (seconds, seconds to the first byte, bytes)."""
    start, first, size = now(), 0.0, 0
    async with client.stream("GET", url) as answer:
        if answer.status_code != 200:
            raise RuntimeError(f"{url}: {answer.status_code} {(await answer.aread())[:300]!r}")
        async for chunk in answer.aiter_bytes():
            first = first or now() - start
            size += len(chunk)
    return now() - start, first, size


async def measure(bench: Bench) -> Outcome:
    settings, sizes = bench.scoped("exports"), bench.sizes
    dossiers = await fill(settings, sizes.export_dossiers)
    rows = await exported_rows(settings)
    if len(rows) != dossiers:
        raise RuntimeError(f"the read model holds {dossiers} dossiers, the export {len(rows)}")
    headers = [c.header for c in exports.dossier_columns(CONSOLE)]
    served = settings.model_copy(update={"topic_prefix": f"{settings.topic_prefix}.served"})
    processes = Processes(bench.folder("exports") / "logs", environment(served))
    route: dict[str, float] = {}
    bare: dict[str, float] = {}
    figures: dict[str, Any] = {}
    try:
        url = processes.start("selection", ["cli", "serve", "selection"])
        await processes.ready()
        pid = processes.running["selection"].pid
        key = await asyncio.to_thread(Path(settings.jwt_private_key_file).read_text)
        token = mint(
            key,
            role=Role.auditor,
            subject="bench@mildeca.gouv.example.fr",
            issuer=settings.jwt_issuer,
            audience=settings.jwt_audience,
        )
        async with httpx.AsyncClient(
            timeout=600, headers={"Authorization": f"Bearer {token}"}
        ) as client:
            path = f"{url}/campaigns/{CAMPAIGN}/dossiers/export"
            await download(client, f"{path}.csv?state=withdrawn")  # warm: routes, query plan
            figures["peak_rss_mib_selection_before"] = round(peak_rss_mib(pid), 1)
            for format in FORMATS:
                _, prepare, write = LIBRARIES[format]
                cells = prepare(rows)
                for _ in range(sizes.rounds):
                    seconds, first, size = await download(client, f"{path}.{format}")
                    route[format] = max(route.get(format, 0.0), dossiers / seconds)
                    start = now()
                    await asyncio.to_thread(write, headers, cells)
                    bare[format] = max(bare.get(format, 0.0), dossiers / (now() - start))
                figures[f"{format}_bytes"] = size
                figures[f"peak_rss_mib_selection_after_{format}"] = round(peak_rss_mib(pid), 1)
                if format == "csv":
                    figures["csv_first_byte_ms"] = round(first * 1000, 1)
                    figures["csv_seconds"] = round(seconds, 3)
    finally:
        processes.stop()
    return Outcome(
        parameters={"dossiers": dossiers, "columns": len(headers), "rounds": sizes.rounds},
        comparisons=[
            Comparison(
                f"dossiers exported as {format.upper()} through the route, streamed",
                "rows/s",
                route[format],
                bare[format],
                f"the same rows, {LIBRARIES[format][0]}",
            )
            for format in FORMATS
        ],
        figures=figures,
    )
