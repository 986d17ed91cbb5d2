"""Django admin for support staff.

Every change goes through the Python API, so the admin keeps the same rules
(a second program's activation is a form error, never a 500) and writes the
same history. Enrollments are not added or deleted here: partners create them
through the API, and deleting one would erase its history.
"""

import json
from uuid import UUID

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.text import smart_split, unescape_string_literal
from django.utils.timezone import localtime
from simple_history.admin import SimpleHistoryAdmin

from program_enrollments import admin_jobs, admin_programs, api, conf
from program_enrollments.constants import (
    ProgramCourseEnrollmentStatus,
    ProgramEnrollmentStatus,
    TransferStatus,
)
from program_enrollments.exceptions import ProgramEnrollmentsError
from program_enrollments.identity import normalize_student_key
from program_enrollments.models import OrganizationGrant, ProgramCourseEnrollment, ProgramEnrollment

ADMIN_REASON = "Changed in the admin"
# The most users, or program enrollments, a one-word search collects by id (_search_by_ids).
SEARCH_IDS_LIMIT = 1000

# Per-learner outcomes of a write that are failures, worded for support staff.
_WRITE_ERRORS = {
    "conflicted": "The learner is already active in this course through another program. Make that "
    "enrollment inactive first, or transfer the learner.",
    "illegal-operation": "A course enrollment can be active only while the program enrollment is enrolled or pending.",
    "not-found": "This enrollment no longer exists.",
    "not-in-program": "This learner is no longer in the program.",
    "internal-error": "The change could not be applied; nothing was changed. Try again, or ask an engineer.",
}


class _ApiWriteForm(forms.ModelForm):
    """A change form whose validation applies the change through the Python API.

    The API decides set-wise and may refuse (conflicted, illegal-operation...);
    a refusal becomes a form error. The admin wraps the whole request in a
    transaction, so an error later in the request undoes the write too.
    """

    request_user = None

    def write(self, instance) -> str:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors or not self.has_changed():
            return cleaned
        try:
            outcome = self.write(self.instance)
        except ProgramEnrollmentsError as error:
            raise forms.ValidationError(str(error)) from error
        if outcome in _WRITE_ERRORS:
            raise forms.ValidationError(_WRITE_ERRORS[outcome], code=outcome)
        return cleaned


class ProgramEnrollmentForm(_ApiWriteForm):
    class Meta:
        model = ProgramEnrollment
        fields = ("status",)

    def write(self, instance):
        key = instance.external_user_key
        return api.write_program_enrollments(
            program_uuid=instance.program_uuid,
            requests=[{"student_key": key, "status": self.cleaned_data["status"]}],
            create=False,
            update=True,
            actor=self.request_user,
            reason=ADMIN_REASON,
        )[key]


class ProgramCourseEnrollmentForm(_ApiWriteForm):
    class Meta:
        model = ProgramCourseEnrollment
        fields = ("status", "course_staff")

    def write(self, instance):
        key = instance.program_enrollment.external_user_key
        return api.write_program_course_enrollments(
            program_uuid=instance.program_enrollment.program_uuid,
            course_key=instance.course_key,
            requests=[
                {
                    "student_key": key,
                    "status": self.cleaned_data["status"],
                    "course_staff": self.cleaned_data["course_staff"],
                }
            ],
            create=False,
            update=True,
            actor=self.request_user,
            reason=ADMIN_REASON,
        )[key]


class _ProgramsChangeList(ChangeList):
    """A list page whose rows carry their catalog programs, looked up in one catalog call for the page."""

    def get_results(self, request):
        super().get_results(request)
        # Evaluating the page's queryset here fills its cache: the template reads the same rows.
        admin_programs.attach_page_programs(self, self.model_admin.program_uuid_of)


class _ApiAdmin(SimpleHistoryAdmin):
    """Look and search freely; change through the API; never add or delete."""

    object_history_template = "admin/program_enrollments/object_history.html"
    object_history_form_template = "admin/program_enrollments/object_history_form.html"
    object_history_list_template = "admin/program_enrollments/object_history_list.html"
    # A filtered or searched list counts its own rows only, not the whole table as well: with a
    # million enrollments that second COUNT cost about 100 ms a page on MariaDB (docs/scale.rst).
    show_full_result_count = False

    def program_uuid_of(self, row):  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def get_changelist(self, request, **kwargs):
        return _ProgramsChangeList

    def program_of(self, row):
        """The catalog's program of ``row`` (None when unknown): the page's lookup, or one of its own."""
        return admin_programs.attached_program(row, self.program_uuid_of(row))

    @admin.display(description="Program")
    def program(self, row):
        return admin_programs.program_html(
            self.program_uuid_of(row), self.program_of(row), length=admin_programs.LIST_TITLE_LENGTH
        )

    @admin.display(description="Modified", ordering="modified")
    def modified_at(self, row):
        return date_format(localtime(row.modified), "Y-m-d H:i")

    @admin.display(description="Program")
    def program_details(self, row):
        return admin_programs.program_html(self.program_uuid_of(row), self.program_of(row))

    def display_name(self, row) -> str:
        """How the pages name a row: its learner (and course run) in its program, by title and organization."""
        return f"{self.describe(row)} in {admin_programs.program_name(self.program_uuid_of(row), self.program_of(row))}"

    def history_view_title(self, request, obj):
        return f"History: {self.display_name(obj)}"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["display_name"] = context["subtitle"] = self.display_name(obj)
        return super().render_change_form(request, context, add, change, form_url, obj)

    def render_history_view(self, request, template, context, **kwargs):
        obj = context.get("object") or context.get("original")
        if obj is not None:
            context["display_name"] = self.display_name(obj)
            if "original" in context:  # a past version's page, a change form
                context["subtitle"] = context["display_name"]
        return super().render_history_view(request, template, context, **kwargs)

    def describe(self, row) -> str:  # pragma: no cover - defined by subclasses
        raise NotImplementedError

    def set_history_delta_changes(self, request, page_obj):
        super().set_history_delta_changes(request, page_obj)
        # A program enrollment's versions name their curricula: one catalog call for the page.
        records = [record for record in page_obj.object_list if hasattr(record, "curriculum_uuid")]
        if records:
            programs = admin_programs.fetch_programs({record.program_uuid for record in records})
            for record in records:
                record.curriculum_name = admin_programs.curriculum_name(
                    record.curriculum_uuid, programs.get(record.program_uuid)
                )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def revert_disabled(self, request, obj=None):
        # Reverting would write a row without the Python API and its rules.
        return True

    def history_view(self, request, object_id, extra_context=None):
        _id_or_404(self.model._meta.pk, object_id)
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            raise PermissionDenied("Past versions can be looked at, not restored.")
        _id_or_404(self.model._meta.pk, object_id)
        _id_or_404(self.model.history.model._meta.pk, version_id)
        return super().history_form_view(request, object_id, version_id, extra_context)

    # The folded student key a search term is compared with (its index serves the lookup), if any.
    student_key_lookup: str | None = None

    def get_search_results(self, request, queryset, search_term):
        # PostgreSQL refuses NUL characters in text parameters; no key or name contains one.
        search_term = search_term.replace("\x00", "")
        if not self.student_key_lookup or not search_term.strip():
            return super().get_search_results(request, queryset, search_term)
        # A student key matches as the app compares keys: folded (case and width ignored), as
        # typed or without the spaces around it.
        keys = {normalize_student_key(search_term), normalize_student_key(search_term.strip())}
        found = self._search_by_ids(queryset, search_term, keys)
        if found is not None:
            return found, False
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        found |= queryset.filter(**{f"{self.student_key_lookup}__in": keys})
        return found, may_have_duplicates

    def _search_by_ids(self, queryset, search_term, keys):
        """A one-word search as ids found through indexes, or None to search as Django does.

        Django's search is one ``OR`` of the user's username and email (a part of either,
        ignoring case) and, here, the folded student key: across two tables, no index serves
        it, and a million enrollments are read for every search. Found in steps instead (the
        users whose username or email holds the word, then the program enrollments of those
        users or of the key, each through an index), the answer is the same. A word that many
        users hold (``example.org``) is searched as Django does.
        """
        words = list(smart_split(search_term))
        if len(words) != 1:
            return None
        word = words[0]
        if word[:1] in "\"'" and len(word) > 1 and word[0] == word[-1]:
            word = unescape_string_literal(word)
        users = list(
            get_user_model()
            .objects.filter(Q(username__icontains=word) | Q(email__icontains=word))
            .values_list("pk", flat=True)[: SEARCH_IDS_LIMIT + 1]
        )
        if len(users) > SEARCH_IDS_LIMIT:
            return None
        learners = Q(user__in=users) | Q(external_user_key_normalized__in=keys)
        return self.search_learners(queryset, word, learners)

    def search_learners(self, queryset, word, learners):
        """The rows of the program enrollments ``learners`` (a ``Q``) or matching ``word`` otherwise; or None."""
        raise NotImplementedError  # pragma: no cover - defined by the admins with a student_key_lookup

    def save_model(self, request, obj, form, change):
        """The form's validation already wrote the change through the API."""

    def save_related(self, request, form, formsets, change):
        """Nothing related is edited here."""

    def learner_link(self, enrollment):
        params = (
            {"student_key": enrollment.external_user_key}
            if enrollment.user_id is None
            else {"username": enrollment.user.username}
        )
        url = reverse("admin:program_enrollments_learner") + "?" + urlencode(params)
        return format_html('<a href="{}">learner page</a>', url)


def _id_or_404(field, value):
    """Raise Http404 unless ``value`` (from an admin URL) is a valid value of the primary key ``field``.

    simple-history passes the URL's ids to the database as they are: ``abc``, ``1.5`` or an id out of
    the column's range would be a server error, and names no row.
    """
    try:
        field.run_validators(field.to_python(unquote(value)))
    except (ValidationError, ValueError, TypeError) as error:
        raise Http404(f"No {field.model._meta.verbose_name} with the id {value!r}.") from error


class TransferForm(forms.Form):
    """The target of a transfer started from the program enrollment list.

    ``targets`` are the programs offered as target (``transfer_targets``): the target
    program and its curriculum are picked from them, by title and organization.
    """

    to_program_uuid = forms.TypedChoiceField(
        label="Target program",
        coerce=UUID,
        error_messages={
            "invalid_choice": "Choose the target program from the list: %(value)s is not a program that shares "
            "the selected learners' courses.",
        },
    )
    to_curriculum_uuid = forms.TypedChoiceField(
        label="Target curriculum",
        required=False,
        coerce=UUID,
        empty_value=None,
        help_text="Empty: the target's first active curriculum.",
        error_messages={"invalid_choice": "Choose the curriculum from the list: %(value)s is not a known curriculum."},
    )
    course_keys = forms.CharField(
        label="Courses",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="One course key per line. Empty: every course the learner is active in.",
    )
    source_status = forms.ChoiceField(
        label="New status of the source program enrollment",
        required=False,
        choices=[("", "(leave unchanged)"), *ProgramEnrollmentStatus.choices],
    )
    dry_run = forms.BooleanField(label="Dry run (change nothing, report what would happen)", required=False)

    def __init__(self, *args, targets=(), course_keys=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.targets = {program.uuid: program for program in targets}
        courses = set(course_keys)

        def label(program):
            name = admin_programs.program_name(program.uuid, program)
            if not courses:
                return name
            plural = "" if len(courses) == 1 else "s"
            return f"{name}: shares {len(courses & program.course_keys())} of the {len(courses)} course{plural}"

        self.fields["to_program_uuid"].choices = [("", "---------")] + [
            (str(program.uuid), label(program)) for program in targets
        ]
        self.fields["to_curriculum_uuid"].choices = [("", "(the target's first active curriculum)")] + [
            (str(curriculum.uuid), admin_programs.curriculum_name(curriculum.uuid, program))
            for program in targets
            for curriculum in program.curricula
        ]
        # The page's script offers only the chosen program's curricula.
        self.fields["to_curriculum_uuid"].widget.attrs["data-curricula-of"] = json.dumps(
            {str(program.uuid): [str(curriculum.uuid) for curriculum in program.curricula] for program in targets}
        )

    @property
    def target_program(self):
        """The chosen target program, by title and organization (once the form is valid)."""
        program = self.targets.get((getattr(self, "cleaned_data", None) or {}).get("to_program_uuid"))
        return admin_programs.program_html(program.uuid, program) if program else ""

    def clean(self):
        cleaned = super().clean()
        program = self.targets.get(cleaned.get("to_program_uuid"))
        if program is None:
            return cleaned
        name = admin_programs.program_name(program.uuid, program)
        curriculum = cleaned.get("to_curriculum_uuid")
        if curriculum is not None and not program.has_curriculum(curriculum):
            self.add_error(
                "to_curriculum_uuid",
                f"Curriculum {curriculum} is not a curriculum of {name}: choose one of its curricula, "
                "or leave it empty.",
            )
        offered = program.course_keys()
        missing = [
            line.strip()
            for line in cleaned.get("course_keys", "").splitlines()
            if line.strip() and line.strip() not in offered
        ]
        if missing:
            self.add_error("course_keys", f"Not in {name}: {', '.join(missing)}.")
        return cleaned


class RelinkForm(forms.Form):
    """The account a program enrollment is to be linked to, and why."""

    username = forms.CharField(label="Username of the account to link", max_length=150)
    reason = forms.CharField(
        label="Reason",
        max_length=200,
        help_text="Kept in the history, for example the ticket number.",
    )
    confirm = forms.BooleanField(
        label="I have checked that this account is the learner's",
    )


def _name_curricula(view) -> None:
    """Give each program of a learner's view its curriculum's name (one catalog call for the page)."""
    if not view or not view["programs"]:
        return
    programs = admin_programs.fetch_programs({program["program_uuid"] for program in view["programs"]})
    for program in view["programs"]:
        program["curriculum_name"] = admin_programs.curriculum_name(
            program["curriculum_uuid"], programs.get(UUID(program["program_uuid"]))
        )


def _slots_by_program_name(view) -> list[tuple[str, str, str]]:
    """The learner's active slots as ``(course key, program name, program uuid)``, named from the view's programs."""
    if not view:
        return []
    names = {
        program["program_uuid"]: f"{program['program_title']} ({program['organization_key']})"
        for program in view["programs"]
        if program.get("program_title")
    }
    return [
        (course, names.get(uuid, f"{uuid} (not in the catalog)"), uuid)
        for course, uuid in sorted(view["active_slots"].items())
    ]


def _active_courses_of(enrollments) -> set[str]:
    """The course runs in which the program enrollments ``enrollments`` are active: what a transfer moves."""
    rows = ProgramCourseEnrollment.objects.filter(
        program_enrollment__in=enrollments, status=ProgramCourseEnrollmentStatus.ACTIVE
    )
    return {str(key) for key in rows.values_list("course_key", flat=True).distinct()}


def _organization_of(program_uuid):
    from program_enrollments.backends import catalog_backend

    program = catalog_backend().get_program(program_uuid)
    return program.organization_key if program else ""


@admin.register(ProgramEnrollment)
class ProgramEnrollmentAdmin(_ApiAdmin):
    form = ProgramEnrollmentForm
    # Short columns that fit a laptop screen: the program's title is cut, whole in its tooltip.
    list_display = ("student_key", "user", "program", "status", "modified_at", "learner")
    list_display_links = ("student_key",)
    list_filter = ("status", ("program_uuid", admin_programs.ProgramListFilter))
    # And the student key, folded (``student_key_lookup``).
    search_fields = ("user__username", "user__email")
    student_key_lookup = "external_user_key_normalized"
    raw_id_fields = ("user",)
    readonly_fields = ("user", "external_user_key", "program_details", "curriculum", "created", "modified", "learner")
    list_select_related = ("user",)
    history_list_display = ("status", "curriculum_name", "user")
    actions = ["transfer_to_another_program"]

    def program_uuid_of(self, enrollment):
        return enrollment.program_uuid

    def search_learners(self, queryset, word, learners):
        return queryset.filter(learners)

    def describe(self, enrollment):
        return enrollment.external_user_key or str(enrollment.user or "")

    @admin.display(description="Student key", ordering="external_user_key")
    def student_key(self, enrollment):
        return enrollment.external_user_key or "(none)"

    @admin.display(description="Curriculum")
    def curriculum(self, enrollment):
        name = admin_programs.curriculum_name(enrollment.curriculum_uuid, self.program_of(enrollment))
        return format_html('<span title="{}">{}</span>', enrollment.curriculum_uuid, name)

    @admin.display(description="Learner")
    def learner(self, enrollment):
        return self.learner_link(enrollment)

    def get_urls(self):
        return [
            path("learner/", self.admin_site.admin_view(self.learner_view), name="program_enrollments_learner"),
            path(
                "<int:enrollment_id>/relink/",
                self.admin_site.admin_view(self.relink_view),
                name="program_enrollments_relink",
            ),
            *super().get_urls(),
        ]

    def learner_view(self, request):
        """One learner's enrollments across programs: active slots, linked accounts and SSO identities."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        username = request.GET.get("username", "").strip()
        organization = request.GET.get("organization", "").strip()
        student_key = request.GET.get("student_key", "").strip()
        view, error, status = None, "", 200
        if any("\x00" in value for value in (username, organization, student_key)):
            # No username, organization or key holds one, and PostgreSQL refuses them in queries.
            error, status = "A username, organization or student key must not contain NUL characters.", 400
        elif username or student_key:
            try:
                view = api.fetch_support_view(user=username, organization_key=organization, student_key=student_key)
            except ProgramEnrollmentsError as failure:
                error = str(failure)
        _name_curricula(view)
        context = {
            **self.admin_site.each_context(request),
            "title": "Learner enrollments",
            "opts": self.model._meta,
            "view": view,
            "slots": _slots_by_program_name(view),
            "error": error,
            "query": {"username": username, "organization": organization, "student_key": student_key},
            "can_relink": self._may_relink(request),
        }
        return TemplateResponse(request, "admin/program_enrollments/learner.html", context, status=status)

    def _may_relink(self, request):
        # Relinking changes the program enrollment and its program course enrollments.
        return self.has_change_permission(request) and request.user.has_perm(
            "program_enrollments.change_programcourseenrollment"
        )

    def relink_view(self, request, enrollment_id):
        """Link a program enrollment to an account, moving it from the account it is linked to, if any."""
        if not self._may_relink(request):
            raise PermissionDenied
        enrollment = ProgramEnrollment.objects.select_related("user").filter(pk=enrollment_id).first()
        if enrollment is None or not enrollment.external_user_key:
            raise Http404(f"No program enrollment with a student key and the id {enrollment_id}.")
        form = RelinkForm(request.POST or None)
        if form.is_bound and form.is_valid():
            username = form.cleaned_data["username"]
            outcome = api.link_program_enrollments(
                program_uuid=enrollment.program_uuid,
                usernames_by_student_key={enrollment.external_user_key: username},
                relink=True,
                actor=request.user,
                reason=f"Relinked in the admin by {request.user.get_username()}: {form.cleaned_data['reason']}",
            )[enrollment.external_user_key]
            if outcome.linked:
                message = (
                    f"{enrollment.external_user_key} moved from {outcome.previous_username} to {outcome.username}."
                    if outcome.previous_username
                    else f"{enrollment.external_user_key} linked to {outcome.username}."
                )
                if outcome.deactivated_courses:
                    message += " Made inactive (already active through another program): " + ", ".join(
                        outcome.deactivated_courses
                    )
                self.message_user(request, message, messages.SUCCESS)
                url = reverse("admin:program_enrollments_learner") + "?" + urlencode({"username": outcome.username})
                return HttpResponseRedirect(url)
            form.add_error(None, outcome.error)
        try:
            view = api.fetch_support_view(
                student_key=enrollment.external_user_key,
                organization_key=_organization_of(enrollment.program_uuid),
            )
        except ProgramEnrollmentsError:
            view = {"programs": []}
        program = next((item for item in view["programs"] if item.get("enrollment_id") == enrollment.pk), None)
        context = {
            **self.admin_site.each_context(request),
            "title": "Link to an account" if enrollment.user_id is None else "Relink to another account",
            "opts": self.model._meta,
            "form": form,
            "enrollment": enrollment,
            "program": program,
        }
        return TemplateResponse(request, "admin/program_enrollments/relink.html", context)

    @admin.action(description="Transfer to another program", permissions=["change"])
    def transfer_to_another_program(self, request, queryset):
        sources = set(queryset.values_list("program_uuid", flat=True))
        if len(sources) != 1:
            self.message_user(request, "Select learners of one program only.", messages.ERROR)
            return None
        keys = list(queryset.exclude(external_user_key=None).values_list("external_user_key", flat=True))
        source_uuid = next(iter(sources))
        selected_courses = _active_courses_of(queryset)
        form = TransferForm(
            request.POST if "apply" in request.POST else None,
            targets=admin_programs.transfer_targets(source_uuid, selected_courses),
            course_keys=selected_courses,
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "Transfer to another program",
            "opts": self.model._meta,
            "form": form,
            "source": sources.pop(),
            "keys": keys,
            "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
            "select_across": request.POST.get("select_across", "0"),
            "action": "transfer_to_another_program",
            "source_program": admin_programs.program_html(
                source_uuid, admin_programs.fetch_programs([source_uuid]).get(source_uuid)
            ),
            "selected_courses": sorted(selected_courses),
        }
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            courses = [line.strip() for line in data["course_keys"].splitlines() if line.strip()] or None
            try:
                if len(keys) > conf.get("MAX_BATCH_SIZE"):
                    # More than one synchronous request takes: a background job, and its status page.
                    return admin_jobs.submit_transfer(
                        request,
                        from_program_uuid=context["source"],
                        to_program_uuid=data["to_program_uuid"],
                        to_curriculum_uuid=data["to_curriculum_uuid"],
                        student_keys=keys,
                        course_keys=courses,
                        source_status=data["source_status"] or None,
                        dry_run=data["dry_run"],
                    )
                report = api.transfer_program_enrollments(
                    from_program_uuid=context["source"],
                    to_program_uuid=data["to_program_uuid"],
                    to_curriculum_uuid=data["to_curriculum_uuid"],
                    student_keys=keys,
                    course_keys=courses,
                    source_status=data["source_status"] or None,
                    dry_run=data["dry_run"],
                    actor=request.user,
                    reason=f"Transferred in the admin by {request.user.get_username()}",
                )
            except ProgramEnrollmentsError as error:
                form.add_error(None, str(error))
            else:
                succeeded = {
                    TransferStatus.TRANSFERRED,
                    TransferStatus.WOULD_TRANSFER,
                    TransferStatus.ALREADY_TRANSFERRED,
                }
                context.update(
                    {"report": report, "counts": report.by_status(), "succeeded": succeeded, "dry_run": data["dry_run"]}
                )
                return TemplateResponse(request, "admin/program_enrollments/transfer_result.html", context)
        return TemplateResponse(request, "admin/program_enrollments/transfer.html", context)


@admin.register(ProgramCourseEnrollment)
class ProgramCourseEnrollmentAdmin(_ApiAdmin):
    form = ProgramCourseEnrollmentForm
    # Short columns that fit a laptop screen: the program's title is cut, whole in its tooltip.
    list_display = ("student_key", "program", "course", "status", "lms_enrollment", "learner")
    list_display_links = ("student_key",)
    list_filter = (
        "status",
        "course_key",
        ("program_enrollment__program_uuid", admin_programs.ProgramListFilter),
    )
    search_fields = (
        "=course_key",
        "program_enrollment__user__username",
        "program_enrollment__user__email",
    )
    student_key_lookup = "program_enrollment__external_user_key_normalized"
    raw_id_fields = ("program_enrollment", "course_enrollment")
    readonly_fields = (
        "program_enrollment_link",
        "program_details",
        "course_key",
        "course_enrollment",
        "created",
        "modified",
        "learner",
    )
    list_select_related = ("program_enrollment", "program_enrollment__user", "course_enrollment")
    history_list_display = ("status", "course_staff", "course_enrollment")

    def program_uuid_of(self, row):
        return row.program_enrollment.program_uuid

    def search_learners(self, queryset, word, learners):
        enrollments = list(
            ProgramEnrollment.objects.filter(learners).values_list("pk", flat=True)[: SEARCH_IDS_LIMIT + 1]
        )
        if len(enrollments) > SEARCH_IDS_LIMIT:
            return None
        found = Q(program_enrollment__in=enrollments)
        # "=course_key" of search_fields: the whole key, ignoring case. Every course run key has a
        # ':' (course-v1:...) or a '/' (the old org/course/run); a word without either names no
        # course run, and PostgreSQL would read every row to compare it (UPPER, no index).
        if ":" in word or "/" in word:
            found |= Q(course_key__iexact=word)
        return queryset.filter(found)

    def describe(self, row):
        return f"{row.program_enrollment.external_user_key or row.program_enrollment.user or ''}, {row.course_key}"

    @admin.display(description="Student key", ordering="program_enrollment__external_user_key")
    def student_key(self, row):
        return row.program_enrollment.external_user_key or "(none)"

    @admin.display(description="Course run", ordering="course_key")
    def course(self, row):
        key = str(row.course_key)
        # "course-v1:" starts every course run key: the rest tells them apart.
        return format_html('<span title="{}">{}</span>', key, key.removeprefix("course-v1:"))

    @admin.display(description="LMS enrollment")
    def lms_enrollment(self, row):
        enrollment = row.course_enrollment
        if enrollment is None:
            return "none (waiting learner)"
        return f"{enrollment.mode}, {'active' if enrollment.is_active else 'inactive'}"

    @admin.display(description="Program enrollment")
    def program_enrollment_link(self, row):
        enrollment = row.program_enrollment
        url = reverse("admin:program_enrollments_programenrollment_change", args=[enrollment.pk])
        name = admin_programs.program_name(enrollment.program_uuid, self.program_of(row))
        return format_html(
            '<a href="{}">{} in {}</a> ({})',
            url,
            enrollment.external_user_key or enrollment.user or "",
            name,
            enrollment.status,
        )

    @admin.display(description="Learner")
    def learner(self, row):
        return self.learner_link(row.program_enrollment)


@admin.register(OrganizationGrant)
class OrganizationGrantAdmin(SimpleHistoryAdmin):
    """Who may read or write which organization's programs through the REST API."""

    list_display = ("user", "organization_key", "access", "modified")
    list_filter = ("access", "organization_key")
    search_fields = ("user__username", "user__email", "organization_key")
    raw_id_fields = ("user",)


def _list_the_learner_page(site):
    """Add the learner page to the app's section of the admin index and navigation sidebar.

    The page is a view of the program enrollment admin, not a model, so the admin would
    not list it. The host's admin site is wrapped, not replaced: its own
    ``get_app_list`` (and any other app's wrapper) still builds the list.
    """
    build_app_list = site.get_app_list
    if getattr(build_app_list, "lists_learner_page", False):
        return

    def get_app_list(request, app_label=None):
        app_list = build_app_list(request, app_label)
        model_admin = site._registry.get(ProgramEnrollment)
        if model_admin is None or not model_admin.has_view_permission(request):
            return app_list
        for app in app_list:
            if app["app_label"] == ProgramEnrollment._meta.app_label:
                app["models"].append(
                    {
                        "model": ProgramEnrollment,
                        "name": "Learner page",
                        "object_name": "LearnerPage",
                        "perms": {"view": True},
                        "admin_url": reverse("admin:program_enrollments_learner", current_app=site.name),
                        "add_url": None,
                        "view_only": True,
                    }
                )
                app["models"].sort(key=lambda model: model["name"])
        return app_list

    get_app_list.lists_learner_page = True
    site.get_app_list = get_app_list


_list_the_learner_page(admin.site)
