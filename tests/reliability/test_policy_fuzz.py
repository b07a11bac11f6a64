"""A bounded fuzz of the policy parser and checker: any text gets a policy or
diagnostics, never another exception (issue 11, "Tests and documentation")."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credit_rules.compile import check_source
from credit_rules.errors import Diagnostic

# Words and symbols of the language, so that the fuzz reaches past the first token.
_WORDS = st.sampled_from([
    "policy", "p", "rule", "r", ":", "on", "training", "count", "hours", "credits", "at", "least",
    "most", "cap", "of", "category", "ethics", "where", "when", "not", "and", "or", "(", ")",
    "10", "1000000000000", "0.5", "=", "!=", ">=", "per", "school", "year", "semester", "window",
    "2021-01-01", "..", "2025-12-31", "require", "waive", "\n", "  ", '"x"', "规则", "学分", "[/x]",
    "１２", "\u200b", "%", "top", "rank", "evaluate", "test", "expect",
])
_TEXT = st.one_of(
    st.lists(_WORDS, max_size=40).map(" ".join),
    st.text(max_size=200),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_any_text_gets_a_policy_or_diagnostics(text: str) -> None:
    """check_source never raises: it returns a checked policy or diagnostics with spans."""
    policy, diagnostics = check_source(text, "fuzz.policy")
    assert policy is not None or diagnostics
    for diagnostic in diagnostics:
        assert isinstance(diagnostic, Diagnostic)
        assert diagnostic.code and diagnostic.message
        assert diagnostic.span.line >= 1
