"""What names a condition may use, and the type of each (the vocabulary of SPEC §2–§5)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from credit_rules.schema import CATEGORIES, GRADES, KNOWN_KINDS, LEVELS, ROLES, STAGES, TITLES

#: Where a condition is read: on one event, on the teacher (roster), or on the outcome (ranks).
Context = Literal["event", "teacher", "outcome"]


class FieldType(StrEnum):
    TEXT = "text"
    DECIMAL = "number"
    DATE = "date"
    BOOL = "boolean"
    LIST = "list of text"  # issue 9 (C): a declared `list of text` column


#: Event columns usable in `where` / `of` filters. `at` compares by its local date.
EVENT_FIELDS: dict[str, FieldType] = {
    "event_id": FieldType.TEXT, "teacher_id": FieldType.TEXT, "kind": FieldType.TEXT,
    "hours": FieldType.DECIMAL, "credits": FieldType.DECIMAL, "category": FieldType.TEXT,
    "level": FieldType.TEXT, "format": FieldType.TEXT, "program": FieldType.TEXT,
    "grade": FieldType.TEXT, "score": FieldType.DECIMAL, "count": FieldType.DECIMAL,
    "words": FieldType.DECIMAL, "day": FieldType.DATE, "at": FieldType.DATE,
}

#: Roster attributes usable in `when` conditions (SPEC §3); roles go through `role X`.
TEACHER_FIELDS: dict[str, FieldType] = {
    "teacher_id": FieldType.TEXT, "title": FieldType.TEXT, "stage": FieldType.TEXT,
    "hired_on": FieldType.DATE, "retired_on": FieldType.DATE, "school": FieldType.TEXT,
    "county": FieldType.TEXT, "city": FieldType.TEXT, "workshop": FieldType.TEXT,
}

#: Figures derived for a teacher in a period; usable in `excellent`, `among` and invariants.
FACT_FIELDS: dict[str, FieldType] = {
    "credits": FieldType.DECIMAL, "hours": FieldType.DECIMAL, "leave_days": FieldType.DECIMAL,
    "grade": FieldType.TEXT, "excellent_eligible": FieldType.BOOL, "met": FieldType.BOOL,
}

#: Closed vocabularies: a value outside them is an error with a did-you-mean hint.
CLOSED_VALUES: dict[str, tuple[str, ...]] = {
    "level": LEVELS, "grade": GRADES, "title": TITLES, "stage": STAGES,
}
#: Open vocabularies: an unknown value is allowed but warned about.
OPEN_VALUES: dict[str, tuple[str, ...]] = {"category": CATEGORIES, "kind": KNOWN_KINDS}
ROLE_VALUES = ROLES
