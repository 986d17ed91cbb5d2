"""Fold SSO identities' student keys as the app now compares them (NFKC with case folding)."""

from collections import defaultdict

from django.db import migrations


def refold(apps, schema_editor):
    from program_enrollments.identity import normalize_student_key

    alias = schema_editor.connection.alias
    SSOIdentity = apps.get_model("lms", "SSOIdentity")
    rows = SSOIdentity.objects.using(alias).order_by("id").values_list(
        "id", "organization_key", "student_key", "student_key_normalized"
    )
    changed = [
        (row_id, organization, key, normalize_student_key(key))
        for row_id, organization, key, folded in rows.iterator(chunk_size=2000)
        if not key.isascii() and normalize_student_key(key) != folded
    ]
    groups = defaultdict(set)
    for row_id, organization, _key, new_fold in changed:
        groups[(organization, new_fold)].add(row_id)
    problems = []
    for (organization, new_fold), ids in groups.items():
        others = set(
            SSOIdentity.objects.using(alias)
            .filter(organization_key=organization, student_key_normalized=new_fold)
            .values_list("id", flat=True)
        )
        if len(ids | others) > 1:
            problems.append(f"{organization}: SSO identities {', '.join(map(str, sorted(ids | others)))}")
    if problems:
        raise RuntimeError(
            "These SSO identities become one student key under NFKC case folding; delete the wrong ones, "
            "then migrate again:\n  " + "\n  ".join(problems)
        )
    for row_id, _organization, _key, new_fold in changed:
        SSOIdentity.objects.using(alias).filter(id=row_id).update(student_key_normalized=new_fold)


class Migration(migrations.Migration):
    dependencies = [("lms", "0001_initial")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop, elidable=False)]
