"""Every CSV file the commands write opens in a spreadsheet without running a cell as a formula."""

import csv
import io

import pytest
from django.core.management import call_command

from program_enrollments.management.spreadsheet_csv import spreadsheet_safe
from program_enrollments.models import AdoptionRecord

# OWASP "CSV Injection": the characters that make a spreadsheet read a cell as a formula.
FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", '=HYPERLINK("https://x.example","y")']


@pytest.mark.parametrize("value", FORMULAS)
def test_a_cell_starting_a_formula_gets_a_leading_quote(value):
    assert spreadsheet_safe(value) == "'" + value


@pytest.mark.parametrize("value", ["GT-1001", "a=b", "", " =1", "'=1", 12, -3, None])
def test_other_cells_are_unchanged(value):
    assert spreadsheet_safe(value) == value


@pytest.mark.django_db
def test_adoption_report_csv_neutralizes_formulas_in_every_column():
    AdoptionRecord.objects.create(
        table="program_enrollments_programenrollment",
        row_id=7,
        action=AdoptionRecord.Action.DEACTIVATED,
        reason='=HYPERLINK("https://x.example","y")',
        data={"external_user_key": "=1+1"},
    )
    out = io.StringIO()
    call_command("program_enrollments_adoption_report", "--csv", stdout=out)
    header, row = list(csv.reader(io.StringIO(out.getvalue())))
    record = dict(zip(header, row, strict=True))
    assert record["reason"] == '\'=HYPERLINK("https://x.example","y")'
    assert record["row_id"] == "7" and record["action"] == "deactivated"
    # JSON starts with "{": the key inside is text of that cell, not a cell of its own.
    assert record["data"] == '{"external_user_key": "=1+1"}'
