"""
Exceptions of the built-in app's Python API.

Mirrors ``lms/djangoapps/program_enrollments/exceptions.py``: the same classes, hierarchy and
constructor arguments (platform callers such as the support views catch these names).
"""


class ProgramDoesNotExistException(Exception):
    """The catalog has no program with this UUID."""

    def __init__(self, program_uuid):
        super().__init__(program_uuid)
        self.program_uuid = program_uuid

    def __str__(self):
        return f"Unable to find catalog program matching uuid {self.program_uuid}"


class OrganizationDoesNotExistException(Exception):
    """The organization of a program could not be determined."""


class ProgramHasNoAuthoringOrganizationException(OrganizationDoesNotExistException):
    """The catalog program names no authoring organization."""

    def __init__(self, program_uuid):
        super().__init__(program_uuid)
        self.program_uuid = program_uuid

    def __str__(self):
        return f"Cannot determine authoring organization key for catalog program {self.program_uuid}"


class BadOrganizationShortNameException(OrganizationDoesNotExistException):
    """No organization has this short name."""

    def __init__(self, organization_short_name):
        super().__init__(organization_short_name)
        self.organization_short_name = organization_short_name

    def __str__(self):
        return f"Unable to find organization for short_name {self.organization_short_name}"


class ProviderDoesNotExistException(Exception):
    """The organization has no enabled SAML provider configuration."""

    def __init__(self, organization):
        super().__init__(organization)
        self.organization = organization

    def __str__(self):
        # The platform's message says "organization for short_name" but prints the organization's id.
        return f"Unable to find organization for short_name {self.organization.id}"
