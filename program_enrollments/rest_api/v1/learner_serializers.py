"""Response shapes of the learner pages' endpoints (the Open edX built-in app's, field for field)."""

from rest_framework import serializers

from program_enrollments.api.learner import CourseRunProgress


class ReadableProgramSerializer(serializers.Serializer):
    """A program whose learner pages the caller may open."""

    uuid = serializers.UUIDField(help_text="The program's UUID.")
    slug = serializers.CharField(
        source="marketing_slug", help_text="The program's marketing slug, from which a link to its page is built."
    )


class DueDateSerializer(serializers.Serializer):
    """A subsection's due date."""

    name = serializers.CharField()
    url = serializers.CharField()
    date = serializers.DateTimeField()


class CourseRunOverviewSerializer(serializers.Serializer):
    """A course run of the learner's program page. Optional fields are left out when the LMS has no value."""

    course_run_id = serializers.CharField(help_text="The course run's key.")
    display_name = serializers.CharField(help_text="The course run's title.")
    resume_course_run_url = serializers.CharField(
        required=False,
        help_text="Absolute URL of where the learner left off; absent before any progress.",
    )
    course_run_url = serializers.CharField(help_text="Absolute URL of the course run.")
    start_date = serializers.DateTimeField(allow_null=True, help_text="Start of the course run; null without one.")
    end_date = serializers.DateTimeField(allow_null=True, help_text="End of the course run; null without one.")
    course_run_status = serializers.ChoiceField(
        choices=CourseRunProgress.choices, help_text="The learner's progress: in_progress, upcoming or completed."
    )
    emails_enabled = serializers.BooleanField(
        required=False,
        help_text="Whether the learner receives the course's emails; absent when the LMS sends none for it.",
    )
    due_dates = serializers.ListField(
        child=DueDateSerializer(), help_text="Subsection due dates; only for a course run in progress."
    )
    micromasters_title = serializers.CharField(
        required=False, help_text="The program's title when it is a MicroMasters program; absent otherwise."
    )
    certificate_download_url = serializers.CharField(
        required=False, help_text="Absolute URL of the learner's certificate; absent when none can be downloaded."
    )


class CourseRunOverviewPageSerializer(serializers.Serializer):
    """A cursor page of course runs."""

    next = serializers.URLField(allow_null=True, help_text="The next page; null on the last one.")
    previous = serializers.URLField(allow_null=True, help_text="The previous page; null on the first one.")
    results = CourseRunOverviewSerializer(many=True)


class CourseRunOverviewListSerializer(serializers.Serializer):
    """Every course run of the learner's program page."""

    course_runs = CourseRunOverviewSerializer(many=True)
