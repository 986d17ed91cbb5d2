"""The built-in app's exceptions (``lms/djangoapps/program_enrollments/exceptions.py``), same names and messages."""


class ProgramDoesNotExistException(Exception):
    def __init__(self, program_uuid):
        super().__init__(program_uuid)
        self.program_uuid = program_uuid

    def __str__(self):
        return f"Unable to find catalog program matching uuid {self.program_uuid}"


class OrganizationDoesNotExistException(Exception):
    pass


class ProgramHasNoAuthoringOrganizationException(OrganizationDoesNotExistException):
    def __init__(self, program_uuid):
        super().__init__(program_uuid)
        self.program_uuid = program_uuid

    def __str__(self):
        return f"Cannot determine authoring organization key for catalog program {self.program_uuid}"


class BadOrganizationShortNameException(OrganizationDoesNotExistException):
    def __init__(self, organization_short_name):
        super().__init__(organization_short_name)
        self.organization_short_name = organization_short_name

    def __str__(self):
        return f"Unable to find organization for short_name {self.organization_short_name}"


class ProviderDoesNotExistException(Exception):
    def __init__(self, organization):
        super().__init__(organization)
        self.organization = organization

    def __str__(self):
        # The built-in message, which names the organization's id.
        return f"Unable to find organization for short_name {self.organization.id}"
