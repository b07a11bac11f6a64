"""Every phrase an explanation or a policy-test failure shows, in English and in Chinese.

One catalog, :data:`MESSAGES`: a key maps to ``(English, 中文)``, both with the same named
placeholders. :func:`message` renders one in the language asked for, and :func:`amount`
gives every figure its unit (``7.2 credits`` / ``7.2学分``, ``30 hours`` / ``30学时``,
``2 days`` / ``2天``). To explain something new, add its key here with both texts (a test
checks that every entry has both and that their placeholders agree) and render it with
:func:`message`; never build user-facing text elsewhere.

>>> message("why.no_events", "zh", kind="probation_training")
'本期间没有 probation_training 记录'
>>> amount(1, "credits", "en"), amount(Decimal("7.2"), "credits", "zh")
('1 credit', '7.2学分')
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from credit_rules.values import canonical

Lang = Literal["en", "zh"]
LANGS: tuple[Lang, ...] = ("en", "zh")

#: key -> (English, 中文). Placeholders are ``{name}``; both texts use the same names.
MESSAGES: dict[str, tuple[str, str]] = {
    # ---------------------------------------------------------------- units (see amount())
    "unit.credits": ("{n} credits", "{n}学分"),
    "unit.credits.one": ("{n} credit", "{n}学分"),
    "unit.hours": ("{n} hours", "{n}学时"),
    "unit.hours.one": ("{n} hour", "{n}学时"),
    "unit.days": ("{n} days", "{n}天"),
    "unit.days.one": ("{n} day", "{n}天"),
    "unit.leave_days": ("{n} leave days", "请假{n}天"),
    "unit.leave_days.one": ("{n} leave day", "请假{n}天"),
    "unit.count": ("{n} × {kind}", "{kind} {n}次"),
    "unit.qualified.yes": ("qualified", "合格"),
    "unit.qualified.no": ("not qualified", "未合格"),
    # ---------------------------------------------------------------- words
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "true": ("true", "是"),
    "false": ("false", "否"),
    "none": ("none", "无"),
    "list.sep": (", ", "、"),
    "grade.excellent": ("excellent", "优秀"),
    "grade.qualified": ("qualified", "合格"),
    "grade.unqualified": ("unqualified", "不合格"),
    "grade.absent": ("without a grade", "无等级"),
    "state.met": ("met", "达标"),
    "state.not met": ("not met", "未达标"),
    "state.waived": ("waived", "已免修"),
    "state.absent": ("absent", "不适用"),
    "state.short": ("short", "未达标"),
    "state.short_by": ("short by {shortfall}", "差 {shortfall}"),
    # ---------------------------------------------------------------- why a rule gave nothing
    "why.not_applicable": ("does not apply to this teacher: when {cond}", "不适用于该教师：适用条件 {cond}"),
    "why.no_assessment": ('no assessment of program "{program}" in the period',
                          '本期间没有项目 "{program}" 的考核'),
    "why.deciding_grade": ('the latest assessment of program "{program}" ({event}, {day}) is {grade}',
                           '项目 "{program}" 的最近一次考核（{event}，{day}）为{grade}'),
    "why.no_events": ("no {kind} events in the period", "本期间没有 {kind} 记录"),
    "why.voided": ("voided by a penalty", "因处罚不计学分"),
    "why.no_match": ("no event matched its filter", "没有记录符合其筛选条件"),
    "why.earned_nothing": ("its events earned nothing", "其记录未得学分"),
    # ---------------------------------------------------------------- why not excellent-eligible
    "excellent.no_rule": ("the policy has no excellence rule", "本政策未设评优条件"),
    "excellent.penalty": ("penalty {penalty} on {event} rules out excellence", "处罚 {penalty}（{event}）：不得评优"),
    "excellent.failed": ("excellent when …: `{cond}` does not hold ({actual})", "评优条件“{cond}”不成立（{actual}）"),
    "excellent.failed_bare": ("excellent when …: `{cond}` does not hold", "评优条件“{cond}”不成立"),
    "value.is": ("{field} is {value}", "{field} 为 {value}"),
    "value.missing": ("{field} is missing", "{field} 缺失"),
    "value.roles": ("roles: {roles}", "角色：{roles}"),
    "value.no_roles": ("no roles", "无角色"),
    "value.events_of_kind": ("{kind} events: {events}", "{kind} 记录：{events}"),
    "value.not_ranked": ("not selected by rank {rank}", "未入选 {rank}"),
    "value.not_ranked_any": ("not selected by any rank", "未入选任何评选"),
    # ---------------------------------------------------------------- explain (the terminal)
    "explain.head": ("{teacher}  {start} .. {end}:  {credits}, {hours}, {leave}, grade {grade}, "
                     "excellent-eligible {excellent}, {status}",
                     "{teacher}  {start} 至 {end}：{credits}，{hours}，{leave}，等级 {grade}，"
                     "可评优 {excellent}，{status}"),
    "explain.rules": ("Rules", "规则"),
    "explain.col.rule": ("rule", "规则"),
    "explain.col.clause": ("clause", "依据"),
    "explain.col.credited": ("credited", "计入学分"),
    "explain.col.hours": ("hours", "学时"),
    "explain.col.events": ("events", "记录"),
    "explain.award": ("{event} {day} {kind}: {awarded} → {credited}", "{event} {day} {kind}：{awarded} → {credited}"),
    "explain.award_hours": ("{event} {day} {kind} {hours}: {awarded} → {credited}",
                            "{event} {day} {kind} {hours}：{awarded} → {credited}"),
    "explain.cut_by": (" (cut by {caps})", "（被上限 {caps} 削减）"),
    "explain.voided": (" (voided by a penalty)", "（因处罚不计学分）"),
    "explain.hours_admitted": (" ({admitted} admitted)", "（准予计入{admitted}）"),  # issue 9 (B): hours caps
    "explain.event_kind": ("{event} ({kind})", "{event}（{kind}）"),
    "explain.nothing": ("nothing: {why}", "未计学分：{why}"),
    "explain.from_layer": ("from {layer}", "来自 {layer}"),
    "explain.cap": ("cap {cap} (at most {amount}) cut {events}", "上限 {cap}（至多{amount}）削减了 {events}"),
    # issue 9 (E2): dated cap amounts and carry-forward
    "explain.cap_from": ("; from {day} at most {amount}", "；自{day}起至多{amount}"),
    "explain.carried": ("requirement {requirement}: {amount} carried in from the previous period, counted in its "
                        "actual amount (carry forward at most {cap})",
                        "要求项 {requirement}：自上一期间结转 {amount}，计入实际（结转至多{cap}）"),
    "explain.penalty": ("penalty {penalty} triggered by {event}", "处罚 {penalty} 由 {event} 触发"),
    "explain.leave": ("leave days from: {events}", "请假天数来自：{events}"),
    "explain.requirements": ("Requirements", "要求"),
    "explain.col.requirement": ("requirement", "要求项"),
    "explain.col.required": ("required", "应达"),
    "explain.col.actual": ("actual", "实际"),
    "explain.col.shortfall": ("shortfall", "差额"),
    "explain.col.status": ("status", "状态"),
    "explain.not_excellent": ("not excellent-eligible: {reason}", "不可评优：{reason}"),
    # issue 9 (E1): best-of lines, choices and named outcomes
    "detail.best": ("best group: {field} = {group} ({amount})", "最佳一组：{field} = {group}（{amount}）"),
    "detail.best_others": ("; {groups}", "；{groups}"),
    "detail.group": ("{group} {amount}", "{group} {amount}"),
    "detail.choice": ("one of: {states}", "满足其一：{states}"),
    "detail.does_not_apply": ("does not apply", "不适用"),
    "detail.requirement_met": ("requirement {requirement} met", "要求项 {requirement} 达标"),
    "detail.not": ("not {cond}", "非 {cond}"),
    "detail.and": (" and ", " 且 "),
    "detail.or": (" or ", " 或 "),
    "explain.outcome": ("outcome {name}: {value} ({why})", "结果 {name}：{value}（{why}）"),
    "explain.outcome_part": ("{part}: {value}", "{part}：{value}"),
    "explain.counted_by": ("counted by requirement {requirement}: {events}", "由要求项 {requirement} 计数：{events}"),
    "explain.grade_from": ("grade from: {event}", "等级依据：{event}"),
    "explain.unused": ("events no rule counted: {events}", "未被任何规则或要求计入的记录：{events}"),
    "explain.more": (" and {n} more", " 等另外{n}条"),
    # ---------------------------------------------------------------- explain (a test failure)
    "row.head": ("{teacher}, {start} .. {end}: {credits}, {hours}, {leave}",
                 "{teacher}，{start} 至 {end}：{credits}，{hours}，{leave}"),
    "row.grade": (", grade {grade}", "，等级 {grade}"),
    "row.tail": (", excellent-eligible: {excellent}, met: {met}", "，可评优：{excellent}，达标：{met}"),
    "row.teacher": ("  teacher: {about}", "  教师：{about}"),
    "row.title": ("title {title}", "职称 {title}"),
    "row.roles": ("roles {roles}", "角色 {roles}"),
    "row.rule": ("  rule {rule}: {credits}, {hours}", "  规则 {rule}：{credits}，{hours}"),
    "row.award": ("{head}: {credited} credited", "{head}：计入{credited}"),
    "row.award_of": (" of {awarded}", "（应计{awarded}）"),
    "row.silent": ("  rules that gave nothing: {rules}", "  未计学分的规则：{rules}"),
    "row.penalty": ("  penalty {penalty} on {event}: {effects}", "  处罚 {penalty}（{event}）：{effects}"),
    "row.no_credits": ("no credits", "不计学分"),
    "row.not_excellent": ("not excellent", "不得评优"),
    "row.requirement": ("  requirement {name}: {actual} of {required}, {state}",
                        "  要求项 {name}：实际 {actual}，应达 {required}，{state}"),
    "row.unused": ("  events no rule credited: {events}", "  未被任何规则或要求计入的记录：{events}"),
    # ---------------------------------------------------------------- credit-rules test
    "test.mismatch": ("line {line}: {check}: expected {expected}, got {actual}",
                      "第{line}行：{check}：预期 {expected}，实际 {actual}"),
    "test.title": ('{file}:{line}: test "{name}" [{engine}]', '{file}:{line}：测试 "{name}" [{engine}]'),
    "test.invariant_title": ("{file}:{line}: invariant {name}", "{file}:{line}：恒成立 {name}"),
    "test.counterexample": ("counterexample (shrunk; paste it into the policy to keep it as a test):",
                            "反例（已缩减；粘贴到政策文件中即可保留为测试）："),
    "test.explanation": ("explanation (interpreter):", "解释（解释器）："),
    "test.invariant_fails": ("invariant {name} does not hold for {teacher}, {start} .. {end}",
                             "恒成立 {name} 对 {teacher}（{start} 至 {end}）不成立"),
    "test.invariant_crash": ("evaluating a generated input raised {error}", "计算生成的输入时出错：{error}"),
    "test.does_not_compile": ("{path}: the policy does not compile", "{path}：政策无法编译"),
    "test.setup_error": ("{reason}", "测试块有误：{reason}"),
    "setup.number": ("line {line}: `{field}` is a number", "第{line}行：`{field}` 应为数字"),
    "setup.bool": ("line {line}: `{field}` is true or false", "第{line}行：`{field}` 应为 是 或 否（true 或 false）"),
    "setup.date": ("line {line}: `{field}` is a date", "第{line}行：`{field}` 应为日期"),
    "setup.grade": ("line {line}: `grade` is a word: excellent, qualified, unqualified or none",
                    "第{line}行：`grade` 应为 excellent、qualified、unqualified 或 none"),
    "setup.one_of": ("one of: {names}", "可选：{names}"),
    "setup.did_you_mean": ("did you mean `{name}`?", "是否应为 `{name}`？"),
    "setup.unknown_field": ("line {line}: cannot check `{field}`; {hint}", "第{line}行：无法检查 `{field}`；{hint}"),
    "setup.unknown_requirement": ("line {line}: unknown requirement `{name}`; {hint}",
                                  "第{line}行：未知要求项 `{name}`；{hint}"),
    "setup.unknown_outcome": ("line {line}: unknown outcome `{name}`; {hint}", "第{line}行：未知结果 `{name}`；{hint}"),
    "check.outcome": ("outcome {outcome}", "结果 {outcome}"),
    "setup.unknown_rule": ("line {line}: unknown rule `{name}`; {hint}", "第{line}行：未知规则 `{name}`；{hint}"),
    "setup.rule_field": ("line {line}: a rule has `credits` or `hours`, not `{field}`",
                         "第{line}行：规则只有 `credits` 或 `hours`，没有 `{field}`"),
    "check.requirement": ("requirement {name}", "要求项 {name}"),
    "check.requirement_required": ("requirement {name} required", "要求项 {name} 应达"),
    "check.requirement_actual": ("requirement {name} actual", "要求项 {name} 实际"),
    "check.rule": ("rule {rule} {field}", "规则 {rule} {field}"),
    "check.rule_events": ("rule {rule} events", "规则 {rule} 记录"),
    "check.row_of": ("row of {teacher}", "{teacher} 的记录行"),
    "check.a_row_for": ("a row for {start} .. {end}", "{start} 至 {end} 的记录行"),
    "check.rows_for": ("rows for {periods}", "记录行：{periods}"),
    "check.a_row": ("a ledger row", "一条记录行"),
    "check.no_row": ("none (the teacher is in neither the roster nor the events)",
                     "无（该教师既不在名册中也不在记录中）"),
    "check.one_row": ("one row (say which with `period A .. B`)", "一条记录行（用 `期间 A 至 B` 指明）"),
    "check.n_rows": ("{n} rows: {periods}", "{n}条记录行：{periods}"),
}


# ---------------------------------------------------------------- issue 9 (D): relative periods, evidence states
MESSAGES.update({
    "explain.relative_window": ("period {clause}: {dates}", "期间 {clause}：{dates}"),
    "relative.dates": ("{attribute} {date}: {start} .. {end}", "{attribute} {date}：{start} 至 {end}"),
    "relative.no_date": ("no {attribute} on the roster: the filter holds for no event",
                         "花名册中没有 {attribute}：该条件对任何记录都不成立"),
    "relative.beyond": ("{attribute} {date}: beyond the calendar", "{attribute} {date}：超出日历范围"),
    "explain.not_counted": ("not counted: {event}, {why}", "不计：{event}，{why}"),
    "not_counted.status": ("{kind} on {day} has status {status} ({clause})",
                           "{day} 的 {kind} 记录状态为 {status}（{clause}）"),
    "not_counted.no_status": ("{kind} on {day} has no status ({clause})",
                              "{day} 的 {kind} 记录没有状态（{clause}）"),
})

def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def placeholders(key: str) -> tuple[set[str], set[str]]:
    """The placeholder names of a key's English and Chinese texts (a test checks they agree)."""
    en, zh = MESSAGES[key]
    return _fields(en), _fields(zh)


# issue 9 (C): a typed comparison (arithmetic on columns, `has`) that turned an event away
MESSAGES.update({
    "why.typed_miss": ("event {event}: `{cond}` does not hold ({values})", "记录 {event}：{cond} 不成立（{values}）"),
    "why.typed_miss.cited": ("event {event}: `{cond}` does not hold ({values}); columns: {source}",
                             "记录 {event}：{cond} 不成立（{values}）；字段依据：{source}"),
    "value.column": ("{name} = {value}", "{name} = {value}"),
    "value.column.missing": ("{name} = missing", "{name} 缺失"),
})


def message(key: str, lang: Lang = "en", /, **fields: object) -> str:
    """The text of ``key`` in ``lang`` with its placeholders filled."""
    en, zh = MESSAGES[key]
    return (zh if lang == "zh" else en).format(**fields)


def figure(value: Decimal | int) -> str:
    """A number as the ledger writes it (exact, canonical)."""
    return canonical(value) if isinstance(value, Decimal) else str(value)


def amount(value: Decimal | int, unit: str, lang: Lang = "en", /, **fields: object) -> str:
    """A figure with its unit: ``credits``, ``hours``, ``days``, ``leave_days``, ``count``
    (needs ``kind``) or ``qualified`` (1: qualified, 0: not); English takes the singular for
    exactly 1."""
    if unit == "qualified":
        return message("unit.qualified.yes" if value >= 1 else "unit.qualified.no", lang)
    key = f"unit.{unit}"
    if value == 1 and f"{key}.one" in MESSAGES:
        key += ".one"
    return message(key, lang, n=figure(value), **fields)


def words(items: Iterable[str], lang: Lang = "en") -> str:
    """Names joined as a list: ``a, b`` / ``a、b``."""
    return message("list.sep", lang).join(items)


def yes_no(value: bool, lang: Lang = "en") -> str:
    return message("yes" if value else "no", lang)


def grade_name(grade: str | None, lang: Lang = "en") -> str:
    """A grade as a reader says it (``qualified`` / ``合格``; an unknown grade as written)."""
    if grade is None:
        return message("grade.absent", lang)
    key = f"grade.{grade}"
    return message(key, lang) if key in MESSAGES else grade


def state_name(state: str, lang: Lang = "en") -> str:
    """A requirement state (``met``, ``not met``, ``waived``, ``absent``) in ``lang``."""
    key = f"state.{state}"
    return message(key, lang) if key in MESSAGES else state


# issue 12: the policy-change impact report (`credit-rules diff`), its headings and labels
MESSAGES.update({
    "report.title": ("Policy change impact: {old} → {new}", "政策调整影响报告：{old} → {new}"),
    "report.inputs": ("Events: {events} ({summary}); roster: {roster}; as of {as_of}; engine: {engine}",
                      "学习记录：{events}（{summary}）；教师名册：{roster}；计算日期 {as_of}；引擎：{engine}"),
    "report.summary": ("Summary", "概况"),
    "report.events_summary": ("{read} read = {used} used + {duplicates} duplicates + {rejected} rejected",
                              "读入 {read} 条 = 采用 {used} 条 + 重复 {duplicates} 条 + 拒收 {rejected} 条"),
    "report.matched": ("teacher-periods compared", "比对的教师期间数"),
    "report.gain": ("gain met", "新达标"),
    "report.lose": ("lose met", "不再达标"),
    "report.unchanged_met": ("still met", "仍达标"),
    "report.unchanged_not_met": ("still not met", "仍未达标"),
    "report.credits_changed": ("credits changed", "学分有变化"),
    "report.only_old": ("only under the old policy", "仅旧政策有"),
    "report.only_new": ("only under the new policy", "仅新政策有"),
    "report.met_before": ("met before", "调整前达标"),
    "report.met_after": ("met after", "调整后达标"),
    "report.plot.met": ("Teacher-periods by met before and after", "调整前后的达标情况（教师期间数）"),
    "report.requirements": ("Requirements: pass rate before and after", "各要求项达标率（调整前后）"),
    "report.credits": ("Credit distribution before and after", "学分分布（调整前后）"),
    "report.axis.credits": ("credits", "学分"),
    "report.axis.rows": ("teacher-periods", "教师期间数"),
    "report.axis.rate": ("pass rate (%)", "达标率（%）"),
    "report.before": ("before", "调整前"),
    "report.after": ("after", "调整后"),
    "report.groups": ("By {column}", "按{column}统计"),
    "report.groups_more": ("{shown} of {total} shown (the largest changes first); all are in the JSON",
                           "显示 {total} 个中的 {shown} 个（变化最大的在前）；完整数据见 JSON"),
    "report.column.city": ("city", "市"),
    "report.column.county": ("county", "县（区）"),
    "report.column.school": ("school", "学校"),
    "report.no_value": ("(none)", "（无）"),
    "report.rules": ("Rules and caps responsible", "引起变化的规则与上限"),
    "report.rules_note": ("From the ledgers' traces: each rule whose credits differ, over every compared "
                          "teacher-period.",
                          "依据台账的 trace：学分有变化的每条规则，统计全部比对的教师期间。"),
    "report.caps_note": ("Caps whose cut events differ, over the {n} explained teachers (a trace names rules, "
                         "not caps).",
                         "削减记录有变化的上限，仅统计已说明的 {n} 名教师（trace 只记录规则，不记录上限）。"),
    "report.caps_skipped": ("Caps not compared: the old policy reads the events in another time zone or with "
                            "other declared columns.",
                            "未比较上限：旧政策按另一时区或另一组声明字段读取学习记录。"),
    "report.no_moves": ("No rule's credits changed.", "没有规则的学分发生变化。"),
    "report.affected": ("Affected teachers", "受影响的教师"),
    "report.affected_note": ("{shown} of {total} affected teachers explained, in this order: lost met, gained met, "
                             "largest credit change, then by teacher id; {hidden} not shown (every affected "
                             "teacher-period is in the JSON).",
                             "共 {total} 名受影响教师，说明其中 {shown} 名，顺序为：不再达标、新达标、学分变化最大者，"
                             "再按教师编号；未显示 {hidden} 名（全部受影响的教师期间见 JSON）。"),
    "report.none_affected": ("No teacher is affected.", "没有教师受影响。"),
    "report.col.requirement": ("requirement", "要求项"),
    "report.col.status": ("status", "状态"),
    "report.col.applies": ("applies", "适用"),
    "report.col.newly_failed": ("newly not met", "新未达标"),
    "report.col.newly_passed": ("newly met", "新达标"),
    "report.col.value": ("value", "名称"),
    "report.col.rule": ("rule", "规则"),
    "report.col.cap": ("cap", "上限"),
    "report.col.teachers": ("teachers", "教师数"),
    "report.col.rows": ("teacher-periods", "教师期间数"),
    "report.col.up": ("credits up", "增加学分"),
    "report.col.down": ("credits down", "减少学分"),
    "report.col.net": ("net", "净变化"),
    "report.col.cut_before": ("events cut before", "调整前削减记录"),
    "report.col.cut_after": ("events cut after", "调整后削减记录"),
    "report.col.teacher": ("teacher", "教师"),
    "report.col.period": ("period", "期间"),
    "report.col.change": ("change", "变化"),
    "report.col.credits": ("credits", "学分"),
    "report.col.met": ("met", "达标"),
    "report.status.both": ("kept", "保留"),
    "report.status.added": ("added", "新增"),
    "report.status.removed": ("removed", "已删除"),
    "report.change.lose": ("lost met", "不再达标"),
    "report.change.gain": ("gained met", "新达标"),
    "report.change.credits": ("credits changed", "学分变化"),
    "report.change.only_old": ("only under the old policy", "仅旧政策有"),
    "report.change.only_new": ("only under the new policy", "仅新政策有"),
    "report.what_changed": ("What changed", "变化内容"),
    "report.changed_rule": ("rule {rule}: {before} → {after}", "规则 {rule}：{before} → {after}"),
    "report.changed_failed": ("no longer meets: {names}", "不再满足：{names}"),
    "report.changed_passed": ("now meets: {names}", "新满足：{names}"),
    "report.under_new": ("Explanation under the new policy", "新政策下的说明"),
    "report.arrow": ("{before} → {after}", "{before} → {after}"),
})
