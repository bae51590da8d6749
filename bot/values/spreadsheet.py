"""Tables for spreadsheets: CSV and XLSX files whose cells are never run as formulas."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO, Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
Rows = Sequence[Sequence[str]]


def guard(text: str) -> str:
    """Quotes a cell that a spreadsheet would run as a formula ("=HYPERLINK(...)" typed by a
    user); an import removes the quote again."""
    return "'" + text if text[:1] in FORMULA_START else text


def unguard(text: str) -> str:
    return text[1:] if text[:1] == "'" and text[1:2] in FORMULA_START else text


def write_csv(rows: Rows, target: Path | IO[str], delimiter: str = ",") -> None:
    """Guarded cells as CSV; a path gets a UTF-8 BOM so that Excel reads the accents."""
    guarded = [[guard(text) for text in row] for row in rows]
    if isinstance(target, Path):
        with target.open("w", encoding="utf-8-sig", newline="") as stream:
            csv.writer(stream, delimiter=delimiter).writerows(guarded)
    else:
        csv.writer(target, delimiter=delimiter).writerows(guarded)


def csv_bytes(rows: Rows, delimiter: str = ",") -> bytes:
    """A CSV document to send (UTF-8 with BOM); ";" is what Italian Excel splits on."""
    stream = io.StringIO(newline="")
    write_csv(rows, stream, delimiter)
    return stream.getvalue().encode("utf-8-sig")


def write_xlsx(title: str, rows: Rows, target: Path | IO[bytes]) -> None:
    """One sheet, the first row a bold frozen header, every cell text (never a formula)."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.worksheets[0]
    sheet.title = title[:31]
    fill_sheet(sheet, rows)
    workbook.save(target)


def fill_sheet(sheet: Any, rows: Sequence[Sequence[object]]) -> None:
    """Writes rows into an openpyxl sheet: dates as dates, everything else as text (never a
    formula); the first row a bold frozen header."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if isinstance(value, datetime):
                written = sheet.cell(row_number, column, value)
                written.number_format = "yyyy-mm-dd hh:mm"
                continue
            written = sheet.cell(row_number, column, ILLEGAL_CHARACTERS_RE.sub("", str(value)))
            written.data_type = "s"  # text, never a formula
    for column, name in enumerate(rows[0] if rows else [], start=1):
        sheet.cell(1, column).font = Font(bold=True)
        sheet.column_dimensions[get_column_letter(column)].width = max(12, len(str(name)) + 2)
    sheet.freeze_panes = "B2"


def xlsx_bytes(title: str, rows: Rows) -> bytes:
    buffer = io.BytesIO()
    write_xlsx(title, rows, buffer)
    return buffer.getvalue()
