"""Link waiting program enrollments when a learner's SSO identity appears (as Open edX does on SSO login)."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from program_enrollments import api
from program_enrollments.standalone.lms.models import SSOIdentity


@receiver(post_save, sender=SSOIdentity, dispatch_uid="standalone_link_waiting_enrollments")
def link_waiting_enrollments(sender, instance, created, **kwargs):
    if created:
        api.link_waiting_program_enrollments(
            organization_key=instance.organization_key,
            student_key=instance.student_key,
            user=instance.user,
        )
