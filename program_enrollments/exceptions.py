"""Errors raised by the Python API, each with a stable ``code``."""


class ProgramEnrollmentsError(Exception):
    """Base of every error the Python API raises on purpose."""

    code = "program_enrollments_error"


class ProgramDoesNotExist(ProgramEnrollmentsError):
    """The program is not in the catalog."""

    code = "program_does_not_exist"


class CourseDoesNotExist(ProgramEnrollmentsError):
    """The course run is unknown to the host LMS."""

    code = "course_does_not_exist"


class CourseNotInProgram(ProgramEnrollmentsError):
    """The course run is not in any active curriculum of the program."""

    code = "course_not_in_program"


class InvalidRequest(ProgramEnrollmentsError):
    """The arguments of an API call are malformed (wrong type, blank key, bad status...)."""

    code = "invalid_request"


class OrganizationNotReadable(ProgramEnrollmentsError):
    """The caller asked about the learners of an organization it may not read."""

    code = "organization_not_readable"
