"""Tutor plugin: install program-enrollments into the Open edX images, in place of the built-in app.

Enable it with ``tutor plugins enable program_enrollments``, then ``tutor config save`` and
``tutor images build openedx``. It registers (ADR 0005, decision 3):

- a config default ``PROGRAM_ENROLLMENTS_PIP_REQUIREMENT`` (``program-enrollments==<this version>``;
  set it to a git URL or a local path to install something else, or to an empty string if the
  package is installed another way, e.g. through ``OPENEDX_EXTRA_PIP_REQUIREMENTS``), installed
  in the ``python-requirements`` stage next to the operator's extra requirements. It is a line of
  its own rather than an item of ``OPENEDX_EXTRA_PIP_REQUIREMENTS``: Tutor's ``CONFIG_OVERRIDES``
  would replace the operator's list, and drop it when the plugin is disabled;
- the takeover step in the ``code`` stage (patch ``openedx-dockerfile-post-git-checkout``), which
  edits ``/openedx/edx-platform`` before the platform is installed. The package is not installed
  in that stage, so the stdlib-only ``takeover.py`` and the shim files are embedded in the step as
  a base64 tarball, rendered from this package's own files when the environment is saved. The
  stage is ``FROM minimal`` (Ubuntu, no Python), so the step borrows the interpreter of the
  ``python`` stage through a read-only bind mount, falling back to a ``python3`` on the PATH.
  A failed takeover fails the build;
- settings patches: in the LMS, a start-up error if the built-in app is still installed (its entry
  point survived, e.g. an edx-platform checkout mounted without the takeover); in the CMS, which
  lists the built-in app in ``INSTALLED_APPS``, its removal (our app reaches the CMS through its
  ``cms.djangoapp`` entry point). Both then merge the operator's ``PROGRAM_ENROLLMENTS_*`` values
  into the ``PROGRAM_ENROLLMENTS`` settings dict.

The takeover only runs when Tutor builds the platform from git. An edx-platform checkout mounted
with ``tutor mounts add`` replaces the ``code`` stage and the image's source tree: run
``python -m program_enrollments.openedx.takeover /path/to/edx-platform`` on that checkout.
"""

from __future__ import annotations

import base64
import gzip
import io
import tarfile
import textwrap
from pathlib import Path

from tutor import hooks

from program_enrollments import __version__
from program_enrollments.openedx import takeover

NAME = "program_enrollments"
BUILTIN_APP = takeover.BUILTIN_PACKAGE
PAYLOAD_LINE_LENGTH = 76

CONFIG_DEFAULTS = {
    "PIP_REQUIREMENT": f"program-enrollments=={__version__}",
    # The most learners one REST write request may carry; null: the package default.
    "MAX_BATCH_SIZE": None,
    # Any other keys of the PROGRAM_ENROLLMENTS settings dict, e.g. {"PAGE_SIZE": 50}.
    "SETTINGS": {},
}


def takeover_payload() -> str:
    """The takeover script and the shim files as a base64 gzipped tarball (deterministic bytes).

    Layout: ``takeover.py`` and ``shim/...``, as in this package, so that the script finds its
    shim next to itself.
    """
    members = [("takeover.py", Path(takeover.__file__).read_bytes())]
    shim_dir = takeover.default_shim_dir()
    for path in sorted(shim_dir.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            members.append(("shim/" + path.relative_to(shim_dir).as_posix(), path.read_bytes()))
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as compressed:
        with tarfile.open(fileobj=compressed, mode="w", format=tarfile.USTAR_FORMAT) as archive:
            for name, content in members:
                info = tarfile.TarInfo(name)
                info.size, info.mode, info.mtime = len(content), 0o644, 0
                archive.addfile(info, io.BytesIO(content))
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def dockerfile_takeover_step() -> str:
    """The ``RUN`` instruction that takes over ``/openedx/edx-platform`` in the ``code`` stage.

    The payload is split over continuation lines: Docker joins them (inside the quotes too)
    before the shell sees the command.
    """
    payload = "\\\n".join(textwrap.wrap(takeover_payload(), PAYLOAD_LINE_LENGTH))
    return (
        f"# {takeover.DISTRIBUTION} {__version__}: replace the built-in lms/djangoapps/program_enrollments by the\n"
        f"# compatibility package and remove its lms.djangoapp entry point, before the platform is installed.\n"
        f"RUN --mount=type=bind,from=python,source=/opt/pyenv,target=/opt/pyenv \\\n"
        f'    pe_takeover="$(mktemp -d)" \\\n'
        f"    && printf '%s' '\\\n"
        f"{payload}\\\n"
        f'\' | base64 -d | tar -xzf - -C "$pe_takeover" \\\n'
        f'    && pe_python="$(ls /opt/pyenv/versions/*/bin/python3 2>/dev/null | head -n 1)" \\\n'
        f'    && "${{pe_python:-python3}}" "$pe_takeover/takeover.py" --package-version {__version__}'
        f" /openedx/edx-platform \\\n"
        f'    && rm -rf "$pe_takeover"'
    )


DOCKERFILE_INSTALL = """\
{%- if PROGRAM_ENROLLMENTS_PIP_REQUIREMENT %}
# program-enrollments (PROGRAM_ENROLLMENTS_PIP_REQUIREMENT)
RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared \\
    $PIP_COMMAND install '{{ PROGRAM_ENROLLMENTS_PIP_REQUIREMENT }}'
{%- endif %}"""

# Names in the settings patches start with an underscore or are lower case, so that Django does
# not take them for settings.
_SETTINGS_FROM_CONFIG = """\
{%- if PROGRAM_ENROLLMENTS_SETTINGS or PROGRAM_ENROLLMENTS_MAX_BATCH_SIZE is not none %}
PROGRAM_ENROLLMENTS = dict(globals().get("PROGRAM_ENROLLMENTS") or {})
PROGRAM_ENROLLMENTS.update({{ PROGRAM_ENROLLMENTS_SETTINGS|program_enrollments_python }})
{%- if PROGRAM_ENROLLMENTS_MAX_BATCH_SIZE is not none %}
PROGRAM_ENROLLMENTS["MAX_BATCH_SIZE"] = {{ PROGRAM_ENROLLMENTS_MAX_BATCH_SIZE|program_enrollments_python }}
{%- endif %}
{%- endif %}"""

_IS_BUILTIN = f'_app == "{BUILTIN_APP}" or _app.startswith("{BUILTIN_APP}.")'

LMS_SETTINGS = f"""\
# program-enrollments: the LMS must not install the built-in app (ADR 0005).
if any({_IS_BUILTIN} for _app in INSTALLED_APPS):
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured(
        "The built-in {BUILTIN_APP} app is still installed next to program-enrollments: this platform tree was "
        "not taken over. Rebuild the openedx image with the program_enrollments Tutor plugin enabled; for a mounted "
        "edx-platform checkout, run 'python -m program_enrollments.openedx.takeover <checkout>' on it first."
    )
{_SETTINGS_FROM_CONFIG}
# end of program-enrollments settings"""

CMS_SETTINGS = f"""\
# program-enrollments: the CMS lists the built-in app in INSTALLED_APPS; program-enrollments' app
# replaces it and comes in through its cms.djangoapp entry point (ADR 0005).
for _app in [_app for _app in INSTALLED_APPS if {_IS_BUILTIN}]:
    INSTALLED_APPS.remove(_app)
{_SETTINGS_FROM_CONFIG}
# end of program-enrollments settings"""


def python_literal(value):
    """Jinja filter: a Tutor config value (YAML scalars, lists, mappings) as a Python literal."""
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise ValueError(f"{NAME}: settings keys must be strings, not {key!r}")
            python_literal(value[key])
    elif isinstance(value, (list, tuple)):
        for item in value:
            python_literal(item)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise ValueError(f"{NAME}: cannot write {value!r} into the settings")
    return repr(value)


hooks.Filters.CONFIG_DEFAULTS.add_items(
    [(f"PROGRAM_ENROLLMENTS_{key}", value) for key, value in CONFIG_DEFAULTS.items()]
)
hooks.Filters.ENV_TEMPLATE_FILTERS.add_item(("program_enrollments_python", python_literal))
hooks.Filters.ENV_PATCHES.add_items(
    [
        ("openedx-dockerfile-post-git-checkout", dockerfile_takeover_step()),
        ("openedx-dockerfile-post-python-requirements", DOCKERFILE_INSTALL),
        ("openedx-lms-common-settings", LMS_SETTINGS),
        ("openedx-cms-common-settings", CMS_SETTINGS),
    ]
)
