"""The core form of a policy: every semantic decision as data, evaluated by every engine.

``lower(ir_policy)`` (:mod:`credit_rules.core.from_ir`) gives a :class:`Policy`
(:mod:`credit_rules.core.nodes`); :mod:`credit_rules.core.scalars` is the meaning of one
comparison.
"""

from credit_rules.core.from_ir import lower, normalize
from credit_rules.core.nodes import (
    Amount,
    Award,
    BestOf,
    Blocks,
    Cap,
    ChoiceOf,
    CountOf,
    CreditedOf,
    Fixed,
    Grade,
    HoursOf,
    Landing,
    Leave,
    Line,
    Measure,
    Outcome,
    Penalty,
    PerHour,
    Periods,
    Policy,
    QualifiedIn,
    Reduction,
    Requirement,
    Select,
    Stated,
)

__all__ = [
    "Amount", "Award", "BestOf", "Blocks", "Cap", "ChoiceOf", "CountOf", "CreditedOf", "Fixed", "Grade",
    "HoursOf", "Landing", "Leave", "Line", "Measure", "Outcome", "Penalty", "PerHour", "Periods", "Policy",
    "QualifiedIn", "Reduction", "Requirement", "Select", "Stated", "lower", "normalize",
]

# issue 9 (A): rounding, units other than hours
from credit_rules.core.nodes import Prorated, Rounding, StudyUnit, round_to

__all__ += ["Prorated", "Rounding", "StudyUnit", "round_to"]

# issue 9 (C): the input contract (declared columns and vocabularies)
from credit_rules.core.nodes import Column, ColumnType, Inputs  # noqa: E402

__all__ += ["Column", "ColumnType", "Inputs"]
