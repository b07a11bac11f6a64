"""The impact report as one self-contained HTML file: tables, plotly figures (plotly.js
inlined once, in the first figure: nothing is fetched when the file is opened) and, for the
first affected teachers, their explanation under the new policy at ``#teacher-<id>``.

Every word comes from the message catalogue (:mod:`credit_rules.eval.messages`) in the
language asked for; every value from the data is escaped.
"""

from __future__ import annotations

import html
import itertools
import urllib.parse
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from credit_rules.eval.explain import cap_text
from credit_rules.eval.explained import Explanation
from credit_rules.eval.messages import Lang, amount, figure, grade_name, message, words, yes_no
from credit_rules.report.impact import GroupCounts, Impact
from credit_rules.values import canonical

#: Most values of a city / county / school breakdown shown as a table and a plot.
GROUP_ROWS = 30
#: Fonts that hold the Chinese glyphs, before the browser's defaults.
FONTS = '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'

STYLE = f"""
body {{ font-family: {FONTS}; margin: 2em auto; max-width: 75em; color: #222; padding: 0 1em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; font-variant-numeric: tabular-nums; }}
.lose {{ color: #b3261e; }} .gain {{ color: #1b7f3b; }} .dim {{ color: #777; font-size: 0.9em; }}
section.teacher {{ border-top: 2px solid #ddd; margin-top: 1.5em; }}
.plot {{ min-height: 380px; }}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Sequence[bool] = ()) -> str:
    """A table of already-escaped cells; ``numeric[i]`` right-aligns column ``i``."""
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td class="n">{c}</td>' if i < len(numeric) and numeric[i] else f"<td>{c}</td>"
                         for i, c in enumerate(row)) + "</tr>"
        for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _percent(rate: float | None) -> str:
    return f"{100 * rate:.1f}%" if rate is not None else "–"


class _Figures:
    """plotly figures as HTML, the library's JavaScript inlined with the first one only.

    Figures are plain dicts rendered by ``plotly.io.to_html`` without validation: the
    ``graph_objects`` classes validate every property and take seconds for a few bars."""

    def __init__(self) -> None:
        self.count = 0

    def render(self, traces: list[dict[str, Any]], div_id: str, **layout: Any) -> str:
        import plotly.io

        axis = {"gridcolor": "#e5e5e5", "zerolinecolor": "#bbbbbb", "automargin": True}
        base = {"font": {"family": FONTS}, "margin": {"t": 50, "b": 60}, "height": 400,
                "paper_bgcolor": "white", "plot_bgcolor": "white"}
        merged = {**base, **layout, "xaxis": {**axis, **layout.get("xaxis", {})},
                  "yaxis": {**axis, **layout.get("yaxis", {})}}
        self.count += 1
        div: str = plotly.io.to_html(
            {"data": traces, "layout": merged}, full_html=False, include_plotlyjs=self.count == 1,
            div_id=div_id, validate=False, config={"displaylogo": False, "responsive": True})
        return f'<div class="plot-box">{div}</div>'


def _counts_axis(title: str, *values: Sequence[int]) -> dict[str, Any]:
    """A y axis of counts: whole numbers only (plotly would tick 0.5 for small counts)."""
    top = max((v for series in values for v in series), default=0)
    return {"title": {"text": title}, "rangemode": "tozero", **({"dtick": 1} if top <= 10 else {})}


def _bar(name: str | None, x: Sequence[str], y: Sequence[Any], color: str | Sequence[str], **extra: Any,
         ) -> dict[str, Any]:
    return {"type": "bar", "name": name, "x": list(x), "y": list(y), "marker": {"color": color}, **extra}


def render_html(report: Impact, lang: Lang = "en") -> str:
    """The report as an HTML document (plotly is imported here: only ``diff`` needs it)."""
    def m(key: str, **fields: Any) -> str:
        return message(key, lang, **fields)

    figures = _Figures()
    counts = report.counts
    parts = [f"<h1>{_e(m('report.title', old=report.old_policy, new=report.new_policy))}</h1>",
             f'<p class="dim">{_e(report.old_file)} → {_e(report.new_file)}</p>']
    if report.meta:
        parts.append(f'<p class="dim">{_e(_inputs_line(report.meta, lang))}</p>')
    # ------------------------------------------------------------------ summary
    parts.append(f"<h2>{_e(m('report.summary'))}</h2>")
    labels = ("matched", "gain", "lose", "unchanged_met", "unchanged_not_met", "credits_changed",
              "met_before", "met_after", "only_old", "only_new")
    parts.append(_table([_e(m(f"report.{k}")) for k in labels],
                        [[str(getattr(counts, k)) for k in labels]], [True] * len(labels)))
    kinds = ("lose", "gain", "unchanged_met", "unchanged_not_met")
    values = [getattr(counts, k) for k in kinds]
    parts.append(figures.render(
        [_bar(None, [m(f"report.{k}") for k in kinds], values, ["#b3261e", "#1b7f3b", "#4c78a8", "#bbbbbb"],
              text=values, textposition="auto")],
        "plot-met", title={"text": m("report.plot.met")}, yaxis=_counts_axis(m("report.axis.rows"), values)))
    # ------------------------------------------------------------------ requirements
    parts.append(f"<h2>{_e(m('report.requirements'))}</h2>")
    parts.append(_table(
        [_e(m(f"report.col.{k}")) for k in ("requirement", "status")]
        + [_e(m("report.before")), _e(m("report.after")),
           _e(m("report.col.newly_failed")), _e(m("report.col.newly_passed"))],
        [[_e(r.name), _e(m(f"report.status.{r.status}")),
          f"{_percent(r.rate_before)} ({r.passed_before}/{r.applies_before})",
          f"{_percent(r.rate_after)} ({r.passed_after}/{r.applies_after})",
          str(r.newly_failed), str(r.newly_passed)] for r in report.requirements],
        [False, False, True, True, True, True]))
    if report.requirements:
        names = [r.name for r in report.requirements]
        parts.append(figures.render(
            [_bar(m("report.before"), names,
                  [100 * r.rate_before if r.rate_before is not None else None for r in report.requirements],
                  "#9ecae1"),
             _bar(m("report.after"), names,
                  [100 * r.rate_after if r.rate_after is not None else None for r in report.requirements],
                  "#08519c")],
            "plot-requirements", barmode="group", title={"text": m("report.requirements")},
            yaxis={"title": {"text": m("report.axis.rate")}, "range": [0, 100]}))
    # ------------------------------------------------------------------ credits
    parts.append(f"<h2>{_e(m('report.credits'))}</h2>")
    edges = report.histogram.edges
    bins = [f"{canonical(lo)}–{canonical(hi)}" for lo, hi in itertools.pairwise(edges)]
    parts.append(figures.render(
        [_bar(m("report.before"), bins, report.histogram.before, "#fdae6b"),
         _bar(m("report.after"), bins, report.histogram.after, "#e6550d")],
        "plot-credits", barmode="group", title={"text": m("report.credits")},
        xaxis={"title": {"text": m("report.axis.credits")}, "type": "category"},
        yaxis=_counts_axis(m("report.axis.rows"), report.histogram.before, report.histogram.after)))
    # ------------------------------------------------------------------ by city / county / school
    for column in dict.fromkeys(g.column for g in report.groups):
        parts.append(_groups_html(report, column, figures, lang))
    # ------------------------------------------------------------------ rules and caps
    parts.append(f"<h2>{_e(m('report.rules'))}</h2><p class=\"dim\">{_e(m('report.rules_note'))}</p>")
    if report.rules:
        parts.append(_table(
            [_e(m(f"report.col.{k}")) for k in ("rule", "status", "teachers", "rows", "up", "down", "net")],
            [[_e(r.rule), _e(m(f"report.status.{r.status}")), str(r.teachers), str(r.rows),
              _e(amount(r.credits_up, "credits", lang)), _e(amount(r.credits_down, "credits", lang)),
              _e(amount(r.net, "credits", lang))] for r in report.rules],
            [False, False, True, True, True, True, True]))
    else:
        parts.append(f"<p>{_e(m('report.no_moves'))}</p>")
    caps_note = m("report.caps_note", n=len(report.explained)) if report.meta.get("caps_compared", True) \
        else m("report.caps_skipped")
    parts.append(f'<p class="dim">{_e(caps_note)}</p>')
    if report.caps:
        parts.append(_table(
            [_e(m(f"report.col.{k}")) for k in ("cap", "status", "rows", "cut_before", "cut_after")],
            [[_e(c.cap), _e(m(f"report.status.{c.status}")), str(c.rows), str(c.cut_before), str(c.cut_after)]
             for c in report.caps], [False, False, True, True, True]))
    # ------------------------------------------------------------------ affected teachers
    parts.append(_affected_html(report, lang))
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">'
            f"<title>{_e(m('report.title', old=report.old_policy, new=report.new_policy))}</title>"
            f"<style>{STYLE}</style></head><body>\n{body}\n</body></html>\n")


def _inputs_line(meta: dict[str, Any], lang: Lang) -> str:
    """Which events and roster, their accounting, the date and the engine."""
    read = meta.get("events_read")
    summary = message("report.events_summary", lang, **read) if read else ""
    return message("report.inputs", lang, events=", ".join(meta.get("events", [])), summary=summary,
                   roster=meta.get("roster") or "–", as_of=meta.get("as_of", ""), engine=meta.get("engine", ""))


def _groups_html(report: Impact, column: str, figures: _Figures, lang: Lang) -> str:
    def m(key: str, **fields: Any) -> str:
        return message(key, lang, **fields)

    name = m(f"report.column.{column}")
    groups = [g for g in report.groups if g.column == column]
    shown = sorted(groups, key=lambda g: (-(g.gain + g.lose + g.credits_changed), g.value is None, g.value or ""))
    shown = sorted(shown[:GROUP_ROWS], key=lambda g: (g.value is None, g.value or ""))

    def label(g: GroupCounts) -> str:
        return g.value if g.value is not None else m("report.no_value")

    keys = ("matched", "gain", "lose", "credits_changed", "met_before", "met_after")
    out = [f"<h2>{_e(m('report.groups', column=name))}</h2>"]
    if len(groups) > len(shown):
        out.append(f"<p class=\"dim\">{_e(m('report.groups_more', shown=len(shown), total=len(groups)))}</p>")
    out.append(_table([_e(name), *(_e(m(f"report.{k}")) for k in keys)],
                      [[_e(label(g)), *(str(getattr(g, k)) for k in keys)] for g in shown],
                      [False, *([True] * len(keys))]))
    x = [label(g) for g in shown]
    out.append(figures.render(
        [_bar(m("report.gain"), x, [g.gain for g in shown], "#1b7f3b"),
         _bar(m("report.lose"), x, [g.lose for g in shown], "#b3261e"),
         _bar(m("report.credits_changed"), x, [g.credits_changed for g in shown], "#4c78a8")],
        f"plot-{column}", barmode="group", title={"text": m("report.groups", column=name)},
        xaxis={"type": "category"},
        yaxis=_counts_axis(m("report.axis.rows"), *([g.gain, g.lose, g.credits_changed] for g in shown))))
    return "\n".join(out)


def _affected_html(report: Impact, lang: Lang) -> str:
    def m(key: str, **fields: Any) -> str:
        return message(key, lang, **fields)

    out = [f"<h2>{_e(m('report.affected'))}</h2>"]
    teachers = list(dict.fromkeys(a.teacher_id for a in report.affected))
    if not teachers:
        out.append(f"<p>{_e(m('report.none_affected'))}</p>")
        return "\n".join(out)
    shown = [t for t in teachers if t in report.explained]
    out.append(f"<p>{_e(m('report.affected_note', shown=len(shown), total=len(teachers), hidden=report.not_explained))}</p>")  # noqa: E501
    wanted = set(shown)
    rows = []
    for a in report.affected:
        if a.teacher_id not in wanted:
            continue
        css = "lose" if a.change == "lose" else "gain" if a.change == "gain" else ""
        rows.append([f'<a href="#teacher-{_e(urllib.parse.quote(a.teacher_id))}">{_e(a.teacher_id)}</a>',
                     f"{a.period_start} – {a.period_end}",
                     f'<span class="{css}">{_e(m(f"report.change.{a.change}"))}</span>',
                     _e(m("report.arrow", before=_figure(a.credits_before), after=_figure(a.credits_after))),
                     _e(m("report.arrow", before=_yes(a.met_before, lang), after=_yes(a.met_after, lang)))])
    out.append(_table([_e(m(f"report.col.{k}")) for k in ("teacher", "period", "change", "credits", "met")], rows))
    for teacher in shown:
        out.append(teacher_html(report, teacher, report.explained[teacher], lang))
    return "\n".join(out)


def _figure(value: Decimal | None) -> str:
    return figure(value) if value is not None else "–"


def _yes(value: bool | None, lang: Lang) -> str:
    return yes_no(value, lang) if value is not None else "–"


def teacher_html(report: Impact, teacher_id: str, explanations: Sequence[Explanation], lang: Lang) -> str:
    """One affected teacher: what changed in each period, then NEW's explanation, in a
    section with the anchor ``id="teacher-<id>"``."""
    def m(key: str, **fields: Any) -> str:
        return message(key, lang, **fields)

    out = [f'<section class="teacher" id="teacher-{_e(teacher_id)}"><h3>{_e(teacher_id)}</h3>',
           f"<h4>{_e(m('report.what_changed'))}</h4><ul>"]
    for a in report.affected:
        if a.teacher_id != teacher_id:
            continue
        items = [m(f"report.change.{a.change}"),
                 m("report.arrow", before=_figure(a.credits_before), after=_figure(a.credits_after))]
        items += [m("report.changed_rule", rule=r, before=figure(b), after=figure(n)) for r, b, n in a.rules]
        if a.failed:
            items.append(m("report.changed_failed", names=words(a.failed, lang)))
        if a.passed:
            items.append(m("report.changed_passed", names=words(a.passed, lang)))
        out.append(f"<li>{a.period_start} – {a.period_end}: {_e(m('list.sep').join(items))}</li>")
    out.append(f"</ul><h4>{_e(m('report.under_new'))}</h4>")
    out.extend(_explanation_html(e, lang) for e in explanations)
    out.append("</section>")
    return "\n".join(out)


def _explanation_html(e: Explanation, lang: Lang) -> str:
    """One period of an explanation (what ``credit-rules explain`` prints), as HTML."""
    def m(key: str, **fields: Any) -> str:
        return message(key, lang, **fields)

    status = m("state.met") if e.met else m("state.not met")
    head = m("explain.head", teacher=e.teacher_id, start=e.period_start, end=e.period_end,
             credits=amount(e.credits, "credits", lang), hours=amount(e.hours, "hours", lang),
             leave=amount(e.leave_days, "leave_days", lang),
             grade=grade_name(e.grade, lang) if e.grade is not None else "-",
             excellent=yes_no(e.excellent_eligible, lang), status=status)
    out = [f"<p><b>{_e(head)}</b></p>"]
    rules = []
    for r in e.rules:
        if r.awards:
            lines = [_e(a.text(lang)) for a in r.awards]
            detail = "<br>".join(lines)
        else:
            detail = _e(m("explain.nothing", why=r.why_nothing))
        rules.append([f'{_e(r.rule)}<br><span class="dim">{_e(r.text)}</span>', _e(r.source or ""),
                      _e(amount(r.credited, "credits", lang)), _e(amount(r.hours, "hours", lang)), detail])
    out.append(f"<p>{_e(m('explain.rules'))}</p>")
    out.append(_table([_e(m(f"explain.col.{c}")) for c in ("rule", "clause", "credited", "hours", "events")], rules))
    for c in e.caps:
        if c.cut:
            extra = f" ({cap_text(c, lang)})" if c.grains or c.of or c.unit != "credits" else ""
            out.append(f"<p>{_e(m('explain.cap', cap=c.cap, amount=c.amounts_text(lang), events=words(c.cut, lang)))}"
                       f'<span class="dim"> {_e(c.source or "")}{_e(extra)}</span></p>')
    for name, source, event_id in e.penalties:
        out.append(f"<p>{_e(m('explain.penalty', penalty=name, event=event_id))} "
                   f'<span class="dim">{_e(source or "")}</span></p>')
    if e.excellent_reason is not None:
        out.append(f"<p>{_e(m('explain.not_excellent', reason=e.excellent_reason))}</p>")
    if e.requirements:
        def fig(r: Any, value: Decimal) -> str:
            return figure(value) if r.unit is None else amount(value, r.unit, lang, kind=r.kind)

        rows = [[_e(r.name), _e(fig(r, r.required)), _e(fig(r, r.actual)),
                 _e(fig(r, r.shortfall)) if not r.met and r.unit != "qualified" else "",
                 _e(m("state.waived") if r.waived else m("state.met") if r.met else m("state.short")),
                 _e(r.source or "")] for r in e.requirements]
        out.append(f"<p>{_e(m('explain.requirements'))}</p>")
        out.append(_table([_e(m(f"explain.col.{c}")) for c in
                           ("requirement", "required", "actual", "shortfall", "status", "clause")], rows))
    return "\n".join(out)
