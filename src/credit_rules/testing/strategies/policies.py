"""Small random policy texts that compile cleanly, for the differential tests (interpreter vs bulk)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from credit_rules.testing.strategies.events import PROGRAMS

_EVENT_CONDS = (
    "category != class_teacher", "category class_teacher", "category in (ethics, literacy)",
    "level municipal", "level not in (school, district)", "format lecture", "hours >= 10",
    "hours < 0.5", "words >= 1000", "on or before 2023-04-30", "on or after 2022-09-01",
    "count > 1", "room = 5", "room != a", "not category practice",
    "category practice and format lecture", "level school or level district",
    # periods relative to the teacher (issue 9, D)
    "within 1 year of hired_on", "within 6 months of hired_on", "within 45 days of retired_on",
    "in the first school year after hired_on", "in the first 3 semesters after hired_on",
    "not within 2 years of hired_on", "category practice and in the first semester after hired_on",
)
_TEACHER_CONDS = (
    "role class_teacher", "title = senior", "retired_on <= 2025-12-31", "hired_on <= 2022-03-01",
    "not role principal", "role dean or role principal", 'qualified in program "ed-tech"',
    "any reflection", "no reprimand", "workshop in (math, pe)", "stage != primary",
)
# issue 9 (C): typed columns. `room` is the extra event column the differential tests
# feed ("5", "5.0", "a", "12" or missing); declared with each type, it is compared with
# numbers, with other columns and with arithmetic. `district` and `joined_on` are roster
# columns (see `events.teachers`).
_TYPED_EVENT_CONDS: dict[str, tuple[str, ...]] = {
    "decimal": ("room >= 4/5 * hours", "room + count > 6", "hours - room >= 0.5",
                "room * 2 <= words / 100", "room = 5", "room != 12", "room > 4.99", "hours >= room",
                "room in (5, 12)", "room / 3 < 2 - hours"),
    "number": ("room >= 5", "room * 3 = 36", "count + room >= 7", "room <= hours"),
    "text": ("room = a", "room != a", "room in (a, \"5\")"),
    "list": ("room has a", "not room has \"12\"", "room has a or hours >= 10"),
}
_TYPED_TEACHER_CONDS = (
    "district = east", "district != west", "joined_on <= hired_on", "joined_on >= 2020-01-01",
    "retired_on >= hired_on", "joined_on < 2022-03-01 and district in (east, north)",
)
_VOCABULARIES = (
    "vocabulary levels: national, province, municipal, district, school, county",
    "vocabulary categories: ethics, literacy, knowledge, practice, class_teacher, reading",
    "vocabulary formats: online, offline, lecture",
    "vocabulary titles: senior, intermediate, junior, none, lead",
    "vocabulary roles: " + ", ".join(("teacher", "class_teacher", "principal", "dean", "mentor")),
)
_OUTCOME_CONDS = (
    "credits >= 3", "hours > 10", "leave_days = 0", "grade = excellent", "met = true",
    "no reprimand",
)


#: Dates of `from DATE:` requirement lines (issue 9, E2): period starts, days inside
#: periods (so that a period straddles them) and days outside every window.
_SINCE = ("2023-02-01", "2022-09-01", "2023-01-15", "2024-09-01", "2018-03-01", "2021-06-30")


def policies() -> st.SearchStrategy[str]:
    """A small random policy text using the grammar's constructs; it compiles cleanly."""
    return _layered(_policy_texts()).filter(_compiles)


@st.composite
def _layered(draw: Any, texts: st.SearchStrategy[str]) -> str:
    """A drawn policy, or (one time in three) the policy a child layer over it resolves to:
    ``extends`` with header overrides, ``replace``/``drop`` of its rules, caps and requirements
    and new items, merged by the resolver (:func:`credit_rules.compile.layers.merge`) and
    printed back, so both engines are compared on the layered result."""
    text: str = draw(texts)
    if draw(st.integers(0, 2)) != 0:
        return text
    from credit_rules.compile.layers import merge
    from credit_rules.errors import PolicyError
    from credit_rules.syntax import ast
    from credit_rules.syntax.parser import parse
    from credit_rules.syntax.printer import print_policy

    try:
        parent = parse(text, "base.policy")
    except PolicyError:
        return text  # filtered out by policies() as it is
    rules = [i.name for i in parent.items if isinstance(i, ast.Rule)]
    caps = [i.name for i in parent.items if isinstance(i, ast.Cap)]
    requirements = [i.name for i in parent.items if isinstance(i, ast.Requirement)]
    header = ["policy generated extends base"]
    header += draw(st.sampled_from(([], ['  title "layered"'], ["  4 hours = 1 credit"], ["  10 hours = 1 credit"])))
    items: list[str] = []
    last = f"r{len(rules) - 1}"  # exceptions name earlier rules only, so the last rule can go
    change = draw(st.sampled_from(("replace", "drop", "keep") if len(rules) > 1 else ("replace", "keep")))
    if change == "replace":
        award = draw(st.sampled_from(("count hours", "2 credits", "1 credits per 10 hours")))
        where = draw(st.sampled_from(("", "  where level municipal\n", "  where hours >= 10\n")))
        exceptions = "  exception to r0\n" if len(rules) > 1 else ""
        items.append(f"replace rule {last}:\n  on training\n{where}  {award}\n{exceptions}")
    elif change == "drop":
        items.append(f"drop rule {last}")
    if caps:
        cap = draw(st.sampled_from(caps))
        items.append(draw(st.sampled_from((f"drop cap {cap}", f"replace cap {cap}: at most 3 credits per school year",
                                           f"replace cap {cap}: at most 0.5 credits of level municipal", ""))))
    if requirements:
        name = requirements[-1]
        options = [f"replace requirement {name}:\n  at least 4 credits", ""]
        if name != "q0":  # a drawn waiver names q0
            options.append(f"drop requirement {name}")
        items.append(draw(st.sampled_from(options)))
    if draw(st.booleans()):
        items.append("cap layer_cap: at most 5 credits of category practice")
    child = parse("\n".join(header) + "\n\n" + "\n\n".join(i for i in items if i) + "\n", "generated.policy")
    merged, diagnostics = merge(parent, child)
    if diagnostics:  # pragma: no cover - the child is drawn from the parent's own names
        return text
    return print_policy(merged, comments=())


def _compiles(text: str) -> bool:
    from credit_rules.compile import compile_source

    try:
        compile_source(text, "generated.policy")
    except Exception:
        return False
    return True


@st.composite
def _policy_texts(draw: Any) -> str:
    header = ["policy generated"]
    mode = draw(st.sampled_from(("window", "cycle", "semester", "school year", "semester-window")))
    window = draw(st.sampled_from((
        ("2021-01-01", "2025-12-31"), ("2022-12-02", "2023-06-30"), ("2017-09-01", "2018-08-31"),
        ("2023-03-01", "2024-02-29"))))
    if mode in ("window", "semester-window"):
        header.append(f"  window {window[0]} .. {window[1]}")
    elif mode == "cycle":
        header.append(f"  cycle {window[0]} .. {window[1]}")
    header.append({
        "window": "  evaluate over window", "cycle": "  evaluate over cycle",
        "semester": "  evaluate per semester", "school year": "  evaluate per school year",
        "semester-window": "  evaluate per semester",
    }[mode])
    rate = draw(st.sampled_from(("10 hours = 1 credit", "4 hours = 1 credit", "1 hours = 2 credits", None)))
    if rate:
        header.append(f"  {rate}")
    header += [f"  {u}" for u in draw(st.lists(st.sampled_from(_UNITS), max_size=2, unique_by=lambda u: u[:4]))]
    counted = draw(st.sampled_from(("", "", "count only status approved",  # evidence states (issue 9, D)
                                    "count only status in (approved, verified)")))
    if counted:
        header.append(f"  {counted}")
    items: list[str] = []
    event_conds: tuple[str, ...] = _EVENT_CONDS
    teacher_conds: tuple[str, ...] = _TEACHER_CONDS
    room = draw(st.sampled_from((None, "decimal", "number", "text", "list")))
    if room is not None:  # issue 9 (C): a `columns` block, and conditions on the columns
        items.append(f"columns: room {'list of text' if room == 'list' else room}, "
                     "district text of teacher, joined_on date of teacher")
        event_conds = (*(c for c in _EVENT_CONDS if not c.startswith("room")), *_TYPED_EVENT_CONDS[room])
        teacher_conds = (*_TEACHER_CONDS, *_TYPED_TEACHER_CONDS)
    items += draw(st.lists(st.sampled_from(_VOCABULARIES), unique=True, max_size=2))
    n_rules = draw(st.integers(1, 4))
    for i in range(n_rules):
        award = draw(st.sampled_from(("count hours", "count credits", "fixed", "block", "pro rata",
                                      "if qualified", "leave")))
        lines = [f"rule r{i}:"]
        if award == "if qualified":
            lines.append(f'  program "{draw(st.sampled_from(PROGRAMS))}"')
            unit = draw(st.sampled_from(("credits", "hours")))
            lines.append(f"  {draw(st.sampled_from(('18', '0.5', '12')))} {unit} if qualified")
        else:
            kind = {"leave": "task_missed", "count credits": "credit_award"}.get(
                award, draw(st.sampled_from(("training", "observation", "probation_training"))))
            first = "first " if award == "fixed" and draw(st.booleans()) else ""
            lines.append(f"  on {first}{kind}")
            if draw(st.booleans()):
                lines.append(f'  program "{draw(st.sampled_from(PROGRAMS))}"')
            lines.append({
                "count hours": "  count hours", "count credits": "  count credits",
                "fixed": f"  {draw(st.sampled_from(('12', '1.5', '2')))} credits",
                "block": f"  {draw(st.sampled_from(('3', '1')))} credits per "
                         f"{draw(st.sampled_from(('30', '2.5', '10')))} hours",
                "pro rata": "  1 credits per 4 hours pro rata",
                "leave": "  absent task = one day leave",
            }[award])
        lines += _rate_and_rounding(draw, award, lines[-1])
        if draw(st.booleans()):
            lines.append(f"  where {draw(st.sampled_from(event_conds))}")
        if draw(st.booleans()):
            lines.append(f"  when {draw(st.sampled_from(teacher_conds))}")
        lines += [f"  exception to r{j}" for j in range(i)]
        if award != "leave":
            extra = draw(st.sampled_from(("", "as level municipal", "as category practice", "without category")))
            if extra:
                lines.append(f"  {extra}")
        items.append("\n".join(lines))
    for i in range(draw(st.integers(0, 3))):
        amount = draw(st.sampled_from(("1", "2", "7", "0.5")))
        per = draw(st.sampled_from(("", " per school year", " per semester")))
        of = draw(st.sampled_from(("", " of level municipal", " of category practice",
                                   " of category practice and format lecture", " of hours >= 10",
                                   " of within 1 year of hired_on",
                                   " of in the first semester after hired_on")))
        items.append(f"cap c{i}: at most {amount} credits{per}{of}")
        if draw(st.booleans()):  # a dated amount (issue 9, E2)
            since = draw(st.sampled_from(_SINCE))
            items.append(f"cap c{i} from {since}: at most {draw(st.sampled_from(('0.5', '3', '1.5')))} credits")
    # issue 9 (B): calendar years, and caps at every grain, of credits or of hours
    if mode == "cycle" and draw(st.booleans()):
        header[header.index("  evaluate over cycle")] = "  evaluate per year"
    for i in range(draw(st.integers(0, 2))):
        amount = draw(st.sampled_from(("1", "2.5", "0.5", "7")))
        unit = draw(st.sampled_from(("credits", "hours")))
        grain = draw(st.sampled_from(("", " per year", " per day", " per event", " per room",
                                      " per room per day", " per category per year", " per course")))
        of = draw(st.sampled_from(("", " of level municipal", " of format lecture")))
        items.append(f"cap g{i}: at most {amount} {unit}{grain}{of}")
    if mode in ("window", "cycle", "semester-window") and draw(st.booleans()):
        measure = draw(st.sampled_from(("7.5 credits", "50 hours", "1 credits of level municipal",
                                        "2 reflections")))
        when = draw(st.sampled_from(("", " when title = senior")))
        items.append(f"require yearly:\n  at least {measure} per year{when}"
                     + ("\n  at least 3 credits per year" if when else ""))
    n_req = draw(st.integers(0, 3))
    req_names = []
    for i in range(n_req):
        shape = draw(st.sampled_from(("credits", "hours", "count", "qualified", "variants")))
        name = f"q{i}"
        req_names.append(name)
        if shape == "credits":
            amount = draw(st.sampled_from(('3', '36', '0.5')))
            body = f"  at least {amount} credits of {draw(st.sampled_from(_EVENT_CONDS[:8]))}"
        elif shape == "hours":
            body = draw(st.sampled_from(("  at least 30 hours when role class_teacher",
                                         "  at least 30 hours of within 1 year of hired_on")))
        elif shape == "count":
            body = "  at least 2 reflections where words >= 1000"
        elif shape == "qualified":
            body = f'  qualified in program "{draw(st.sampled_from(PROGRAMS))}"'
        else:
            body = ("  at least 18 credits when retired_on <= 2025-12-31\n"
                    "  at least 54 credits when title = senior\n  at least 36 credits")
        if shape in ("credits", "hours", "variants"):  # issue 9 (E2): dated lines, carry-forward
            unit = "hours" if shape == "hours" else "credits"
            if draw(st.booleans()):
                since = draw(st.sampled_from(_SINCE))
                body = f"  from {since}: at least {draw(st.sampled_from(('1', '5', '0.5')))} {unit}\n{body}"
            if mode not in ("semester", "school year") and draw(st.booleans()):
                body += f"\n  carry forward at most {draw(st.sampled_from(('1', '10', '0.5')))} {unit}"
        items.append(f"require {name}:\n{body}")
    items += _choices_and_outcomes(draw, req_names)
    if req_names and draw(st.booleans()):
        items.append(f"waive {req_names[0]} when {draw(st.sampled_from(_TEACHER_CONDS))}")
    if mode in ("window", "cycle") and draw(st.booleans()):
        items.append("reduce credit requirements by 1/5 per year before hired_on")
    if draw(st.booleans()):
        items.append("penalty p:\n  on reprimand\n  no credits\n  not excellent")
    grade = draw(st.sampled_from(("", "assessment", "score")))
    if grade == "assessment":
        items.append('grade from assessment in program "ed-tech"')
    elif grade == "score":
        items.append('grade from score in program "ziyang-2017": excellent at 90, qualified at 60, else unqualified')
    ranked = False
    if draw(st.booleans()):
        ranked = True
        top = draw(st.sampled_from(("top 1", "top 2 per workshop in (chinese, math, general)",
                                    "top 2 across workshop in (pe, arts)")))
        among = draw(st.sampled_from(_OUTCOME_CONDS))
        items.append(f'rank best:\n  by score in program "ziyang-2017"\n  among {among}\n  {top}')
    excellent = draw(st.sampled_from(("", *_OUTCOME_CONDS, "ranked" if ranked else "met = true")))
    if excellent:
        items.append(f"excellent when {excellent}")
    return "\n".join(header) + "\n\n" + "\n\n".join(items) + "\n"


# issue 9 (A): a rule's own rate and its rounding; study time in other units
_UNITS = ("40 minutes = 1 hour", "45 minutes = 1 hour rounded down per event",
          "50 minutes = 1 hour rounded half up per period", "1 day = 6 hours",
          "1 day = 7.5 hours rounded down per period", "1 day = 8 hours rounded half up per event")
_RULE_RATES = ("at 4 hours = 1 credit", "at 2.5 hours = 1 credit", "at 6 hours = 1 credit",
               "at 12 hours = 1 credit")
_ROUNDINGS = ("rounded down to 0.5 credit per event", "rounded half up to 1 credit per period",
              "rounded half up to 0.3 credits per event", "rounded down to 2 credits per period")


def _rate_and_rounding(draw: Any, award: str, award_line: str) -> list[str]:
    """Optional ``at H hours = C credits`` (where the rule converts hours) and rounding."""
    if award == "leave":
        return []
    lines: list[str] = []
    rounding = draw(st.sampled_from((None, *_ROUNDINGS)))
    converts = award == "count hours" or (award == "if qualified" and award_line.endswith("hours if qualified"))
    if converts and draw(st.booleans()):
        rate = draw(st.sampled_from(_RULE_RATES))
        if award == "if qualified":
            rate = draw(st.sampled_from(_RULE_RATES[:2]))  # the award stays an exact decimal
        elif rate in _RULE_RATES[2:] and rounding is None:
            rounding = _ROUNDINGS[0]  # 1/6 credit per hour is exact only once rounded
        lines.append(f"  {rate}")
    if rounding is not None:
        lines.append(f"  {rounding}")
    return lines


# issue 9 (E1): the best of several groups, a choice between requirements, named outcomes.
_BEST_MEASURES = ("3 credits", "0.5 credits of level school", "10 hours", "1 reflection",
                  "2 observations where count > 1")
_BEST_GROUPS = ("category (ethics, practice, class_teacher)", "level (school, municipal)",
                "format (lecture, online)", "room (5, a, 12)")


def _choices_and_outcomes(draw: Any, req_names: list[str]) -> list[str]:
    """Items that use `in any one of`, `either requirement … or …` and `outcome` (they
    name the requirements drawn before them; `req_names` gains the new ones)."""
    items: list[str] = []
    if draw(st.booleans()):
        name = f"q{len(req_names)}"
        when = draw(st.sampled_from(("", " when role class_teacher")))
        items.append(f"require {name}:\n  at least {draw(st.sampled_from(_BEST_MEASURES))} in any one of "
                     f"{draw(st.sampled_from(_BEST_GROUPS))}{when}")
        req_names.append(name)
    if len(req_names) >= 2 and draw(st.booleans()):
        picked = draw(st.permutations(req_names))[: draw(st.integers(2, len(req_names)))]
        when = draw(st.sampled_from(("", " when title = senior\n  either requirement "
                                     + " or requirement ".join(reversed(picked)))))
        items.append("require choice:\n  either requirement " + " or requirement ".join(picked) + when)
        req_names.append("choice")
    for i in range(draw(st.integers(0, 2))):
        parts = [draw(st.sampled_from((*_OUTCOME_CONDS, "excellent_eligible = true")))]
        if req_names:
            negate = draw(st.sampled_from(("", "not ")))
            parts.append(f"{negate}requirement {draw(st.sampled_from(req_names))} met")
        items.append(f"outcome o{i}: " + draw(st.sampled_from((" and ", " or "))).join(draw(st.permutations(parts))))
    return items
