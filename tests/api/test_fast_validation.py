"""The one-pass validation of write bodies answers what the item serializers answer, item for item.

``serializers.validate_items`` checks a body in one pass and falls back to the DRF item
serializer for a body it cannot vouch for. Compared here with the serializer alone, on
generated bodies (derandomized Hypothesis): the same validated data, or the same errors.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from program_enrollments.rest_api.v1 import serializers as shapes

# Strings that stress each check: blank, trimmed, too long (255 keys, 32 statuses), folded
# longer than written, invisible and control characters, surrogates, non-ASCII letters.
_TRICKY = [
    "",
    " ",
    "\t",
    " active ",
    "active",
    "inactive",
    "enrolled",
    "a\x00b",
    "a\u200bb",
    "\ud800",
    "é",
    "ß" * 200,
    "x" * 32,
    "x" * 33,
    "k" * 255,
    "k" * 256,
    "ﬀ",
    "ＡＢＣ",
    "key-1",
    "Key 2",
    "a\tb",
    "\u2028",
    "8f6bcfd1-48ca-5ba6-ae52-0572a322788d",
    "8F6BCFD148CA5BA6AE520572A322788D",
    "{8f6bcfd1-48ca-5ba6-ae52-0572a322788d}",
    "urn:uuid:8f6bcfd1-48ca-5ba6-ae52-0572a322788d",
    "not-a-uuid",
]
_values = st.one_of(
    st.sampled_from(_TRICKY),
    st.text(max_size=40),
    st.integers(min_value=-(2**130), max_value=2**130),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.lists(st.integers(), max_size=2),
)
_FIELDS = ["student_key", "status", "curriculum_uuid", "course_staff", "other"]
_items = st.dictionaries(st.sampled_from(_FIELDS), _values, max_size=5)
# Bodies that are mostly well formed, so that both the one pass and the fallback are exercised.
_good_program_item = st.fixed_dictionaries(
    {
        "student_key": st.sampled_from(["a", "B-2", "ключ", "ＡＢＣ", " spaced "]),
        "status": st.sampled_from(["enrolled", " pending ", "ended"]),
        "curriculum_uuid": st.sampled_from(
            ["8f6bcfd1-48ca-5ba6-ae52-0572a322788d", "8F6BCFD148CA5BA6AE520572A322788D"]
        ),
    }
)
_good_course_item = st.fixed_dictionaries(
    {"student_key": st.sampled_from(["a", "B-2", "ключ"]), "status": st.sampled_from(["active", "inactive"])},
    optional={"course_staff": st.booleans()},
)


def _serializer_answer(serializer_class, body, **kwargs):
    serializer = serializer_class(data=body, many=True, **kwargs)
    if serializer.is_valid():
        return _plain(serializer.validated_data), None
    return None, _plain(serializer.errors)


def _plain(value):
    """JSON-comparable: what the response body (or the Python API) receives."""
    return json.loads(json.dumps(value, default=str))


def _one_pass_answer(serializer_class, body, **kwargs):
    items, errors = shapes.validate_items(body, serializer_class, **kwargs)
    return (_plain(items), None) if items is not None else (None, _plain(errors))


@settings(max_examples=300, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=st.lists(st.one_of(_items, _good_program_item), max_size=4),
    curriculum_required=st.booleans(),
)
def test_program_items_are_validated_as_the_serializer_validates_them(body, curriculum_required):
    expected = _serializer_answer(shapes.ProgramEnrollmentItemSerializer, body, curriculum_required=curriculum_required)
    assert (
        _one_pass_answer(shapes.ProgramEnrollmentItemSerializer, body, curriculum_required=curriculum_required)
        == expected
    )


@settings(max_examples=300, derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.lists(st.one_of(_items, _good_course_item), max_size=4))
def test_course_items_are_validated_as_the_serializer_validates_them(body):
    expected = _serializer_answer(shapes.CourseEnrollmentItemSerializer, body)
    assert _one_pass_answer(shapes.CourseEnrollmentItemSerializer, body) == expected


@pytest.mark.parametrize(
    "item",
    [
        {"student_key": "a", "status": " active "},
        {"student_key": " a ", "status": "inactive", "course_staff": False, "ignored": 1},
        {"student_key": "ключ", "status": "active", "course_staff": True},
    ],
)
def test_a_well_formed_body_is_validated_without_the_serializer(item, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the serializer was used")

    monkeypatch.setattr(shapes.CourseEnrollmentItemSerializer, "__init__", refuse)
    items, errors = shapes.validate_items([item], shapes.CourseEnrollmentItemSerializer)
    assert errors is None
    expected = {"student_key": item["student_key"], "status": item["status"].strip()}
    if "course_staff" in item:
        expected["course_staff"] = item["course_staff"]
    assert items == [expected]
