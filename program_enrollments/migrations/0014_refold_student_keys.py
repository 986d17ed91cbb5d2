"""Compare student keys by Unicode compatibility caseless matching (NFKC with case folding).

Until now keys were compared by case folding alone, so 'José' written in NFC and
in NFD, or a key in fullwidth letters, were different learners. This migration
rewrites the folded copy of every key that the new comparison folds differently
(only keys with non-ASCII characters can change) and the identity of waiting
learners derived from it; the database trigger carries the new identity to their
program course enrollments.

Two rows that the new comparison makes one learner (the same key twice in a
program, or one waiting learner active twice in a course run) cannot both stay:
the migration then changes nothing and stops, listing them, so that support
staff decide which one to keep (in the admin), before migrating again.
"""

from collections import defaultdict

from django.db import migrations

from program_enrollments.migrations._adoption import _organizations

CHUNK = 2000


def _old_fold(key):
    return key.casefold()


def refold(apps, schema_editor):
    from program_enrollments import identity

    alias = schema_editor.connection.alias
    PE = apps.get_model("program_enrollments", "ProgramEnrollment")
    PCE = apps.get_model("program_enrollments", "ProgramCourseEnrollment")

    # 1. The rows whose folded key changes: only keys with a non-ASCII character can.
    changed = []  # (id, program_uuid, user_id, key, new_fold, old learner_ref)
    rows = (
        PE.objects.using(alias)
        .filter(external_user_key__isnull=False)
        .order_by("id")
        .values_list(
            "id", "program_uuid", "user_id", "external_user_key", "external_user_key_normalized", "learner_ref"
        )
    )
    for row_id, program_uuid, user_id, key, folded, ref in rows.iterator(chunk_size=CHUNK):
        if key.isascii():
            continue
        new_fold = identity.normalize_student_key(key)
        if new_fold != folded:
            changed.append((row_id, program_uuid, user_id, key, new_fold, ref))
    if not changed:
        return

    # 2. The new identity of the waiting learners among them.
    organizations, _error = _organizations({program_uuid for _, program_uuid, *_ in changed})
    new_refs = {}
    for row_id, program_uuid, user_id, key, new_fold, ref in changed:
        if user_id is not None:
            continue
        for organization in (organizations.get(program_uuid), identity.UNKNOWN_ORGANIZATION):
            if organization is not None and ref == identity.key_ref(organization, _old_fold(key)):
                new_refs[row_id] = identity.key_ref(organization, new_fold)
                break

    # 3. Refuse, before writing anything, what the new comparison would make one learner twice.
    problems = []
    by_slot = defaultdict(list)
    for row_id, program_uuid, _user_id, key, new_fold, _ref in changed:
        by_slot[(program_uuid, new_fold)].append((row_id, key))
    for (program_uuid, new_fold), members in by_slot.items():
        others = list(
            PE.objects.using(alias)
            .filter(program_uuid=program_uuid, external_user_key_normalized=new_fold)
            .exclude(id__in=[row_id for row_id, _ in members])
            .values_list("id", "external_user_key")
        )
        if len(members) + len(others) > 1:
            listed = ", ".join(f"{row_id} ({key!r})" for row_id, key in sorted([*members, *others]))
            problems.append(
                f"program {program_uuid}: program enrollments {listed} are one student key "
                "(keep one: delete the others or correct their student key)"
            )
    if new_refs:
        active = defaultdict(list)
        for row_id, pe_id, course_key in (
            PCE.objects.using(alias)
            .filter(status="active", program_enrollment_id__in=list(new_refs))
            .values_list("id", "program_enrollment_id", "course_key")
        ):
            active[(new_refs[pe_id], str(course_key))].append(row_id)
        holders = (
            PCE.objects.using(alias)
            .filter(status="active", learner_ref__in=set(new_refs.values()))
            .exclude(program_enrollment_id__in=list(new_refs))
        )
        for row_id, course_key, ref in holders.values_list("id", "course_key", "learner_ref"):
            active[(ref, str(course_key))].append(row_id)
        for (_ref, course_key), members in active.items():
            if len(members) > 1:
                listed = ", ".join(str(row_id) for row_id in sorted(members))
                problems.append(
                    f"{course_key}: program course enrollments {listed} are one learner, all active "
                    "(make all but one inactive)"
                )
    if problems:
        raise RuntimeError(
            "Student keys now compare as people read them (NFKC with case folding), and these rows become "
            "one learner twice. Nothing was changed; resolve each group in the admin, then migrate again:\n  "
            + "\n  ".join(problems)
        )

    # 4. Write: the trigger copies each new learner_ref to the program course enrollments.
    for row_id, _program_uuid, _user_id, _key, new_fold, _ref in changed:
        update = {"external_user_key_normalized": new_fold}
        if row_id in new_refs:
            update["learner_ref"] = new_refs[row_id]
        PE.objects.using(alias).filter(id=row_id).update(**update)


class Migration(migrations.Migration):
    dependencies = [("program_enrollments", "0013_create_or_adopt")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop, elidable=False)]
