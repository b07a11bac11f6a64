"""The credit register: what each award is credited under the caps.

One job, SPEC §4: "``at most`` caps work like a credit register. The period's events are
taken in time order (``at``, ties by ``event_id``); each is credited the least of its
award and what is still free under every cap it falls under, and exactly that credited
amount is taken from each of those caps. An event cut to 0 by one cap uses up none of the
others ... For a bulk engine: where each event falls under one cap this is a clipped
running sum; where caps overlap it needs one ordered pass per teacher, and only teachers
whose caps bind need it." Also SPEC §6.1: a penalty that voids credits credits 0.
Reproduces ``credit_rules.eval.register.register`` (the interpreter's register).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import polars as pl

from credit_rules import core
from credit_rules.core.nodes import award_hours_rate
from credit_rules.eval.bulk.plan import BulkPlan, check_sums, places
from credit_rules.eval.bulk.state import ROW, BatchState, K, by_key


def register(state: BatchState) -> BatchState:
    """``credited`` on every award; first, the batch's sums are bounded (a batch whose
    sums could pass Int64 raises :class:`~credit_rules.eval.bulk.plan.BulkOverflow`
    instead of wrapping: this is the first stage that sums)."""
    check_sums(state.plan, state.ev, K)
    awards = _credited(state.plan, state.awards, state.tp, state.rules)
    return attrs.evolve(state, awards=_credited_hours(awards))


def _credited_hours(awards: pl.DataFrame) -> pl.DataFrame:
    """issue 9 (B): ``credited_hours`` on every award (see :class:`credit_rules.core.Cap`):
    what the hours caps admitted (set by the ordered pass), else its hours; 0 when voided
    or cut to 0 credits."""
    admitted = pl.col("__admitted") if "__admitted" in awards.columns else pl.col("hours_k")
    zero = pl.col("__void").fill_null(False) | ((pl.col("credited") == 0) & (pl.col("credits_k") > 0))
    out = awards.with_columns(pl.when(zero).then(0).otherwise(admitted).cast(pl.Int64).alias("credited_hours"))
    return out.drop("__admitted", strict=False)


def _hours_rates(plan: BulkPlan, rules: Sequence[core.Award]) -> tuple[np.ndarray[Any, Any], int]:
    """Per rule index: the rate an admitted hour earns as an integer numerator over
    ``10^places`` (-1: a whole award, admitted in full or not at all), and ``places``."""
    rates = [award_hours_rate(rule) for rule in rules]
    p = max((places(r) for r in rates if r is not None), default=0)
    out = np.array([-1 if r is None else int(r.scaleb(p)) for r in rates] or [-1], dtype=np.int64)
    return out, p


def _credited(plan: BulkPlan, awards: pl.DataFrame, tp: pl.DataFrame,
              rules: Sequence[core.Award] = ()) -> pl.DataFrame:
    """``credited`` for every award: the register of SPEC §4.

    A cap whose raw total in a teacher-period (and cap period) stays within its amount
    never cuts anything, so only *binding* caps matter; awards under no binding cap are
    credited in full. Where a teacher-period's binding caps share no award, each is a
    clipped running sum (vectorised); the remaining teacher-periods go through one
    ordered pass, vectorised across them: step ``n`` credits every teacher-period's
    ``n``-th such award at once (numpy), so the Python loop runs once per position.
    Group totals and running sums are exact Int64 numpy (``np.add.at``, ``cumsum``) over
    dense group codes; no window expressions, no sort of the frame.
    """
    policy = plan.core  # its caps: a dated cap is one register per stretch of time (issue 9, E2)
    void = by_key(tp, "__void")
    awards = awards.with_columns(void.alias("__void"))
    full = pl.when(pl.col("__void")).then(0).otherwise(pl.col("credits_k"))
    if not policy.caps or awards.height == 0:
        return awards.with_columns(full.alias("credited"))
    tp_key = awards[K].to_numpy()
    raw_credits = awards["credits_k"].to_numpy()
    not_void = ~awards["__void"].fill_null(False).to_numpy()
    flags: list[np.ndarray[Any, np.dtype[np.bool_]]] = []  # inside cap j, and cap j binds
    groups: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    raw_hours = awards["hours_k"].to_numpy()
    core_caps = plan.core.caps  # the grains and measure (issue 9 B), in the same order
    for j, cap in enumerate(policy.caps):
        inside = awards[f"__c{j}"].fill_null(False).to_numpy() & not_void
        if core_caps[j].per_column is not None:  # an event without a value is not under the cap
            inside &= awards[f"__cv{j}"].is_not_null().to_numpy()
        period = awards[f"__ck{j}"] if cap.grain is not None else None
        if core_caps[j].per_event or core_caps[j].per_column is not None:  # issue 9 (B)
            flag, code = _over_register(inside, _register_codes(awards, j, core_caps[j], tp_key, period),
                                        raw_hours if core_caps[j].measure == "hours" else raw_credits,
                                        plan.fixed(cap.amount))
        else:
            flag, code = _over_cap(inside, tp_key, tp.height,
                                   raw_hours if core_caps[j].measure == "hours" else raw_credits,
                                   period, plan.fixed(cap.amount))
        flags.append(flag)
        groups.append(code)
    count = np.zeros(awards.height, dtype=np.int8)
    hours_bound = np.zeros(awards.height, dtype=np.bool_)
    for j, flag in enumerate(flags):
        count += flag
        if core_caps[j].measure == "hours":
            hours_bound |= flag
    credited = np.where(not_void, raw_credits, 0).astype(np.int64)
    if count.any():
        # awards under a binding cap, in time order (each rule's block already is: a
        # stable sort merges the blocks)
        aid = np.flatnonzero(count)
        row = awards[ROW].to_numpy()[aid]
        rule_ix = awards["rule_ix"].to_numpy()[aid].astype(np.int64)
        aid = aid[np.argsort(row * (int(rule_ix.max()) + 1) + rule_ix, kind="stable")]
        coupled = np.zeros(max(tp.height, 1), dtype=np.bool_)
        # an award under a binding hours cap goes through the ordered pass (issue 9 B)
        coupled[tp_key[aid[(count[aid] > 1) | hours_bound[aid]]]] = True
        is_linked = coupled[tp_key[aid]]
        alone = aid[~is_linked]
        if alone.size:
            for j, cap in enumerate(policy.caps):
                hit = flags[j][alone]
                if not hit.any():
                    continue
                value = np.where(hit, raw_credits[alone], 0)
                after = _running_sums(groups[j][alone], value)
                amount = plan.fixed(cap.amount)
                got = np.minimum(after, amount) - np.minimum(after - value, amount)
                credited[alone[hit]] = got[hit]
        linked_ids = aid[is_linked]
        if linked_ids.size:
            if hours_bound.any():
                rates, p = _hours_rates(plan, rules)
                rule_of = awards["rule_ix"].to_numpy().astype(np.int64)[linked_ids]
                admitted = np.where(not_void, raw_hours, 0).astype(np.int64)
                credited[linked_ids], admitted[linked_ids] = _ordered_pass_hours(
                    raw_credits[linked_ids], raw_hours[linked_ids], rates[rule_of], 10**p,
                    tp_key[linked_ids], [flag[linked_ids] for flag in flags],
                    [g[linked_ids] for g in groups],
                    [plan.fixed(cap.amount) for cap in policy.caps],
                    [cap.measure == "hours" for cap in core_caps])
                return awards.with_columns(pl.Series("credited", credited, dtype=pl.Int64),
                                           pl.Series("__admitted", admitted, dtype=pl.Int64))
            credited[linked_ids] = _ordered_pass(
                raw_credits[linked_ids], tp_key[linked_ids],
                [flag[linked_ids] for flag in flags],
                [g[linked_ids] for g in groups],
                [plan.fixed(cap.amount) for cap in policy.caps])
    return awards.with_columns(pl.Series("credited", credited, dtype=pl.Int64))


def _register_codes(awards: pl.DataFrame, j: int, cap: core.Cap,
                    tp_key: np.ndarray[Any, np.dtype[np.int64]], period: pl.Series | None,
                    ) -> np.ndarray[Any, np.dtype[np.int64]]:
    """issue 9 (B): a dense code of each award's register of a per-event or per-column cap:
    (teacher-period, cap period, event or value); awards without a value are not inside
    the cap (their code is never read as a register)."""
    parts = [tp_key]
    if period is not None:
        parts.append(period.fill_null(0).to_numpy().astype(np.int64))
    row = awards[ROW].to_numpy().astype(np.int64)
    if cap.per_event:
        parts.append(row)
    else:
        value = awards[f"__cv{j}"]
        parts.append(value.rank("dense").fill_null(0).to_numpy().astype(np.int64))
    if len(tp_key) == 0:
        return np.zeros(0, dtype=np.int64)
    _, inverse = np.unique(np.stack(parts, axis=1), axis=0, return_inverse=True)
    out: np.ndarray[Any, np.dtype[np.int64]] = inverse.reshape(-1).astype(np.int64)
    return out


def _over_register(inside: np.ndarray[Any, np.dtype[np.bool_]], group: np.ndarray[Any, np.dtype[np.int64]],
                   values: np.ndarray[Any, np.dtype[np.int64]], amount: int,
                   ) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], np.ndarray[Any, np.dtype[np.int64]]]:
    """Like :func:`_over_cap`, over dense register codes already made."""
    total = np.zeros(max(int(group.max()) + 1 if len(group) else 1, 1), dtype=np.int64)
    np.add.at(total, group[inside], values[inside])
    out: np.ndarray[Any, np.dtype[np.bool_]] = inside & (total[group] > amount)
    return out, group


def _steps(tp_code: np.ndarray[Any, np.dtype[np.int64]],
           ) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """The register's steps: awards (sorted by teacher-period, then time) laid out step after
    step (``order``: the k-th award of every teacher-period, then the (k+1)-th …), so that
    step k reads the contiguous slice ``bounds[k]:bounds[k + 1]`` of the reordered arrays."""
    n = len(tp_code)
    # each award's position in its teacher-period (sorted, so runs of keys)
    starts = np.flatnonzero(np.diff(tp_code, prepend=-1))
    pos = np.arange(n) - np.repeat(starts, np.diff(np.append(starts, n)))
    order = np.argsort(pos, kind="stable")
    bounds = np.searchsorted(pos[order], np.arange(int(pos[order][-1]) + 2))
    return order, bounds


def _ordered_pass_hours(
    credits: np.ndarray[Any, np.dtype[np.int64]], hours: np.ndarray[Any, np.dtype[np.int64]],
    rates: np.ndarray[Any, np.dtype[np.int64]], unit: int,
    tp_code: np.ndarray[Any, np.dtype[np.int64]],
    flags: Sequence[np.ndarray[Any, np.dtype[np.bool_]]],
    groups: Sequence[np.ndarray[Any, np.dtype[np.int64]]], amounts: Sequence[int],
    is_hours: Sequence[bool],
) -> tuple[np.ndarray[Any, np.dtype[np.int64]], np.ndarray[Any, np.dtype[np.int64]]]:
    """:func:`_ordered_pass` with hours caps (issue 9 B, :class:`credit_rules.core.Cap`):
    per step, the hours admitted under the hours caps, the credits they earn (``rates``
    over ``unit`` per admitted hour, or whole: all or nothing), then the credit caps.
    Returns the credited amounts and the admitted hours."""
    n = len(credits)
    order, bounds = _steps(tp_code)
    credits_o, hours_o, rates_o = credits[order], hours[order], rates[order]
    cap_keys: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    used: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for flag, group in zip(flags, groups, strict=True):
        cap_keys.append(np.where(flag[order], group[order], -1))
        used.append(np.zeros(int(group.max()) + 1 if n else 1, dtype=np.int64))
    out_o = np.zeros(n, dtype=np.int64)
    admitted_o = np.zeros(n, dtype=np.int64)
    for step in range(len(bounds) - 1):
        lo, hi = int(bounds[step]), int(bounds[step + 1])
        if lo == hi:
            continue
        raw_h, raw_c, rate = hours_o[lo:hi], credits_o[lo:hi], rates_o[lo:hi]
        admitted = raw_h.copy()
        masks = []
        for j in range(len(cap_keys)):
            k = cap_keys[j][lo:hi]
            m = k >= 0
            masks.append((m, k[m]))
            if is_hours[j] and m.any():
                admitted[m] = np.minimum(admitted[m], np.maximum(amounts[j] - used[j][k[m]], 0))
        short = admitted < raw_h
        admitted[short & (rate < 0)] = 0  # a whole award that does not fit
        # exact: an admitted amount is a multiple of ``unit`` at the plan's scale
        grant = np.where(short, (admitted // unit) * np.maximum(rate, 0), raw_c)
        for j, (m, km) in enumerate(masks):
            if not is_hours[j] and km.size:
                grant[m] = np.minimum(grant[m], np.maximum(amounts[j] - used[j][km], 0))
        admitted[(grant == 0) & (raw_c > 0)] = 0  # cut to 0: it uses up none of the caps
        for j, (m, km) in enumerate(masks):
            if km.size:
                used[j][km] += (admitted if is_hours[j] else grant)[m]
        out_o[lo:hi] = grant
        admitted_o[lo:hi] = admitted
    out = np.empty(n, dtype=np.int64)
    out[order] = out_o
    admitted_out = np.empty(n, dtype=np.int64)
    admitted_out[order] = admitted_o
    return out, admitted_out


def _running_sums(group: np.ndarray[Any, Any], value: np.ndarray[Any, Any],
                  ) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The running sum of ``value`` within each ``group``, in the given order (exact:
    Int64 wrap-around cancels in the differences)."""
    order = np.argsort(group, kind="stable")
    ordered = value[order]
    total = np.cumsum(ordered, dtype=np.int64)
    g = group[order]
    first = np.empty(len(g), dtype=np.bool_)
    first[:1] = True
    first[1:] = g[1:] != g[:-1]
    base = (total - ordered)[first]
    out = np.empty(len(g), dtype=np.int64)
    out[order] = total - base[np.cumsum(first) - 1]
    return out


def _over_cap(
    inside: np.ndarray[Any, np.dtype[np.bool_]], tp_key: np.ndarray[Any, np.dtype[np.int64]],
    n_tp: int, credits: np.ndarray[Any, np.dtype[np.int64]], period: pl.Series | None,
    amount: int,
) -> tuple[np.ndarray[Any, np.dtype[np.bool_]], np.ndarray[Any, np.dtype[np.int64]]]:
    """The awards inside a cap whose group (teacher-period, cap period) totals more than
    ``amount``: exact Int64 sums per group with ``np.add.at`` over a dense group code."""
    group = tp_key
    n_groups = n_tp
    if period is not None:
        values = np.sort(period.unique().drop_nulls().to_numpy().astype(np.int64))
        code = np.searchsorted(values, period.to_numpy().astype(np.int64))
        group = tp_key * max(len(values), 1) + code
        n_groups = n_tp * max(len(values), 1)
    total = np.zeros(max(n_groups, 1), dtype=np.int64)
    np.add.at(total, group[inside], credits[inside])
    out: np.ndarray[Any, np.dtype[np.bool_]] = inside & (total[group] > amount)
    return out, group


def _ordered_pass(
    credits: np.ndarray[Any, np.dtype[np.int64]], tp_code: np.ndarray[Any, np.dtype[np.int64]],
    flags: Sequence[np.ndarray[Any, np.dtype[np.bool_]]],
    groups: Sequence[np.ndarray[Any, np.dtype[np.int64]]], amounts: Sequence[int],
) -> np.ndarray[Any, np.dtype[np.int64]]:
    """The register, award by award in time order, for teacher-periods whose binding caps
    share awards (the arrays are in time order; ``groups[j]`` is a dense code of cap
    ``j``'s group, ``flags[j]`` whether it binds the award): the credited amounts."""
    n = len(credits)
    order, bounds = _steps(tp_code)
    # laid out step after step, so each step reads contiguous slices
    credits_o = credits[order]
    cap_keys: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    used: list[np.ndarray[Any, np.dtype[np.int64]]] = []
    for flag, group in zip(flags, groups, strict=True):
        hit = flag[order]
        cap_keys.append(np.where(hit, group[order], -1))
        used.append(np.zeros(int(group.max()) + 1 if n else 1, dtype=np.int64))
    out_o = np.zeros(n, dtype=np.int64)
    for step in range(len(bounds) - 1):
        lo, hi = int(bounds[step]), int(bounds[step + 1])
        if lo == hi:
            continue
        grant = credits_o[lo:hi].copy()
        masks = []
        for j in range(len(cap_keys)):
            k = cap_keys[j][lo:hi]
            m = k >= 0
            km = k[m]
            masks.append((m, km))
            if km.size:
                free = np.maximum(amounts[j] - used[j][km], 0)
                grant[m] = np.minimum(grant[m], free)
        for j, (m, km) in enumerate(masks):
            if km.size:
                used[j][km] += grant[m]
        out_o[lo:hi] = grant
    out = np.empty(n, dtype=np.int64)
    out[order] = out_o
    return out
