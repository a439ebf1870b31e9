"""Every report table as CSV (UTF-8 with BOM, so spreadsheet programs read Persian) and
XLSX (right-to-left sheet in Persian), with the filters written above the table."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence

import xlsxwriter

from callcenter.reports.filters import ReportFilters
from callcenter.reports.tables import Table, plain

BOM = "\ufeff"
FILTER_NAMES = {"period": ("بازه گزارش", "Report period"), "granularity": ("تفکیک", "Buckets"),
                "department": ("واحد", "Department"), "category": ("موضوع", "Category"),
                "neighbourhood": ("محله", "Neighbourhood"), "district": ("منطقه", "District"),
                "channel": ("کانال", "Channel")}


def _preamble(table: Table, filters: ReportFilters, language: str) -> list[list[str]]:
    index = 1 if language == "en" else 0
    lines = [[table.title(language)]]
    lines += [[FILTER_NAMES[name][index], value] for name, value in filters.described()]
    return [*lines, []]


def _body(table: Table, language: str) -> list[list[object]]:
    header: list[object] = [column.label(language) for column in table.columns]
    rows = [[plain(row.get(column.key), column.kind) for column in table.columns]
            for row in table.rows]
    return [header, *rows]


def to_csv(table: Table, filters: ReportFilters, language: str) -> bytes:
    """The table as CSV: BOM, title, one line per filter, a blank line, header, rows.

    Ratios are written as percentages (0-100) and undefined figures as "-".
    """
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows(_preamble(table, filters, language))
    writer.writerows(_body(table, language))
    return (BOM + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, filters: ReportFilters, language: str) -> bytes:
    """The same lines as the CSV in one worksheet (right to left in Persian)."""
    return to_xlsx_book([table], filters, language)


def to_xlsx_book(tables: Sequence[Table], filters: ReportFilters, language: str,
                 progress: Callable[[int], None] = lambda _done: None) -> bytes:
    """One worksheet per table (a whole report), ``progress(i)`` after each sheet."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    for done, table in enumerate(tables, start=1):
        _sheet(book, table, filters, language)
        progress(done)
    book.close()
    return out.getvalue()


def _sheet(book: xlsxwriter.Workbook, table: Table, filters: ReportFilters,
           language: str) -> None:
    sheet = book.add_worksheet(table.key[:31])
    if language != "en":
        sheet.right_to_left()
    bold = book.add_format({"bold": True})
    lines = _preamble(table, filters, language)
    for r, line in enumerate(lines):
        sheet.write_row(r, 0, line, bold if r == 0 else None)
    body = _body(table, language)
    for r, cells in enumerate(body, start=len(lines)):
        sheet.write_row(r, 0, cells, bold if r == len(lines) else None)
    sheet.set_column(0, max(len(table.columns) - 1, 1), 18)
