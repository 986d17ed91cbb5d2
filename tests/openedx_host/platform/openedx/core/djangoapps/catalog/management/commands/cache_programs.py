"""Stand-in of the platform's ``cache_programs`` command (``openedx/core/djangoapps/catalog/management/commands``).

The platform's command reads every program from course-discovery; the harness's reads them from a
course-discovery-shaped JSON file and writes the same cache keys. Note that the harness's default
cache is per process (locmem): run it inside the process that serves requests (``manage.py shell``,
a test), or point ``CACHES`` at a shared backend.
"""

from django.core.management import BaseCommand

from openedx_harness.catalog import DEFAULT_SITE_DOMAIN, cache_programs


class Command(BaseCommand):
    help = "Rebuild the LMS' cache of program data (harness: from a course-discovery-shaped JSON file)."

    def add_arguments(self, parser):
        parser.add_argument("--domain", default=DEFAULT_SITE_DOMAIN, help="The site whose program list is cached.")
        parser.add_argument("--file", required=True, help="A JSON document of course-discovery's programs API.")

    def handle(self, *args, **options):
        uuids = cache_programs(options["file"], site_domain=options["domain"])
        self.stdout.write(f"Cached {len(uuids)} programs.")
