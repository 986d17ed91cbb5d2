"""Print what adopting Open edX's built-in program enrollment tables changed, and why."""

import json

from django.core.management.base import BaseCommand

from program_enrollments import api
from program_enrollments.management.spreadsheet_csv import SpreadsheetSafeWriter

FIELDS = ("id", "created", "table", "row_id", "action", "kept_row_id", "reason", "data")


class Command(BaseCommand):
    help = (
        "List the changes migration 0013_create_or_adopt made when it adopted the tables of Open edX's "
        "built-in program_enrollments app: rows archived (kept whole in the record), moved, made inactive, "
        "course enrollment pointers corrected, programs missing from the catalog."
    )

    def add_arguments(self, parser):
        parser.add_argument("--action", action="append", dest="actions", help="only this action (repeatable)")
        parser.add_argument(
            "--csv", action="store_true", dest="as_csv", help="write CSV (with each row as it was, as JSON)"
        )

    def handle(self, *args, actions=None, as_csv=False, **options):
        records = api.fetch_adoption_records(actions=actions)
        if as_csv:
            self._csv(records)
            return
        count = 0
        for record in records.iterator():
            count += 1
            kept = f" (kept: {record.kept_row_id})" if record.kept_row_id is not None else ""
            row = f" {record.row_id}" if record.row_id is not None else ""
            self.stdout.write(f"{record.action}: {record.table}{row}{kept}: {record.reason}")
        if not count:
            self.stdout.write("No adoption records: this database was not adopted from Open edX's built-in app.")

    def _csv(self, records):
        writer = SpreadsheetSafeWriter(self.stdout, lineterminator="\n")
        writer.writerow(FIELDS)
        for record in records.iterator():
            writer.writerow(
                [
                    record.id,
                    record.created.isoformat(),
                    record.table,
                    record.row_id,
                    record.action,
                    record.kept_row_id,
                    record.reason,
                    json.dumps(record.data, sort_keys=True),
                ]
            )
