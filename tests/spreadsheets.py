"""Exports as the tests read them back: each format by its own library, every cell as text."""

import csv
import io
from decimal import Decimal
from typing import Any

import openpyxl
from odf.opendocument import load
from odf.table import Table, TableCell, TableRow


def from_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def from_xlsx(content: bytes) -> list[list[str]]:
    sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True).active
    rows = [
        ["" if v is None else _plain(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    width = len(rows[0])
    return [row + [""] * (width - len(row)) for row in rows]  # trailing empty cells left out


def from_ods(content: bytes) -> list[list[str]]:
    document = load(io.BytesIO(content))
    [table] = document.spreadsheet.getElementsByType(Table)
    return [
        [str(cell) for cell in row.getElementsByType(TableCell)]
        for row in table.getElementsByType(TableRow)
    ]


def _plain(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float | int | Decimal):
        return str(Decimal(str(value)))  # a number cell read back as a float: its digits
    return str(value)


READERS = {"csv": from_csv, "xlsx": from_xlsx, "ods": from_ods}


def read(format: str, content: bytes) -> tuple[list[str], list[dict[str, str]]]:
    """The header and each row by its column's name."""
    header, *rows = READERS[format](content)
    return header, [dict(zip(header, row, strict=True)) for row in rows]
