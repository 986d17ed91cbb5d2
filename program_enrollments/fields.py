"""Model fields that keep the identity columns of the one-active rule.

``pre_save`` runs for ``save()`` and ``bulk_create()`` alike, so every ORM
insert fills these columns, not only the Python API's.
"""

from __future__ import annotations

import functools

from django.db import models
from opaque_keys.edx.django.models import CourseKeyField

from program_enrollments import identity


class _ExactMatchCollationMixin:
    """Compare values byte for byte on MySQL/MariaDB.

    Their default collations treat ``jose``/``josé`` and ``x``/``x `` as equal,
    which would merge distinct learners or course runs in unique indexes. A
    binary collation without pad space keeps them apart. Other backends already
    compare exactly, and ``db_collation`` values are backend-specific, so the
    collation is chosen here per connection instead.
    """

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "mysql":
            params["collation"] = "utf8mb4_nopad_bin" if connection.mysql_is_mariadb else "utf8mb4_0900_bin"
        return params


class ExactCourseKeyField(_ExactMatchCollationMixin, CourseKeyField):
    """A course key column compared exactly on every backend.

    Read from the database, a key is parsed once per distinct value (``_parsed_course_key``):
    a page of a course run's enrollments holds the same key on every row, and parsing it took
    a third of the page's time. Course keys are immutable, so the rows share one.
    """

    def from_db_value(self, value, expression, connection):
        if isinstance(value, str) and value and not value.endswith("\n"):
            return _parsed_course_key(value)
        return super().from_db_value(value, expression, connection)


@functools.lru_cache(maxsize=4096)
def _parsed_course_key(value: str):
    """``CourseKey.from_string``, remembered (an invalid key raises every time: errors are not cached)."""
    return CourseKeyField.KEY_CLASS.from_string(value)


class NormalizedStudentKeyField(_ExactMatchCollationMixin, models.CharField):
    """The case-folded copy of another field, filled on every save and bulk_create."""

    def __init__(self, *args, source: str = "external_user_key", **kwargs):
        self.source = source
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = identity.normalize_student_key(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value


class ProgramLearnerRefField(_ExactMatchCollationMixin, models.CharField):
    """A program enrollment's learner identity (see ``identity.learner_ref``).

    The authoring organization comes from the catalog. Bulk writers put it on
    the instance as ``_organization_key`` to spare one catalog lookup per row.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", identity.LEARNER_REF_MAX_LENGTH)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        if model_instance.user_id is None and model_instance.external_user_key is None:
            # No identity: the database refuses the row (pe_user_or_student_key).
            value = None
        elif model_instance.user_id is None:
            organization_key = getattr(model_instance, "_organization_key", None)
            if organization_key is None:
                from program_enrollments.backends import catalog_backend

                program = catalog_backend().get_program(model_instance.program_uuid)
                organization_key = program.organization_key if program else identity.UNKNOWN_ORGANIZATION
            value = identity.learner_ref(
                user_id=None,
                organization_key=organization_key,
                student_key=model_instance.external_user_key,
            )
        else:
            value = identity.learner_ref(user_id=model_instance.user_id, organization_key=None, student_key=None)
        setattr(model_instance, self.attname, value)
        return value


class CourseLearnerRefField(_ExactMatchCollationMixin, models.CharField):
    """A program course enrollment's copy of its program enrollment's learner identity.

    The identity lives on another table, so a database cannot compute it; the
    copy is taken on every save and bulk_create, and a database trigger
    (migration 0002) rewrites the copies whenever the program enrollment's
    identity changes, so the unique index judges the new identity at once.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", identity.LEARNER_REF_MAX_LENGTH)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = model_instance.program_enrollment.learner_ref
        if not value:
            raise ValueError("The program enrollment of a program course enrollment must be saved first.")
        setattr(model_instance, self.attname, value)
        return value
