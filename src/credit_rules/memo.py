"""Results of pure functions of immutable objects (policies, their core form, conditions),
kept by the object's identity.

A policy is evaluated for teacher after teacher, and what is derived from it (its core
form, its compiled condition tests, the kinds and dates it reads) is the same each time.
``functools.lru_cache`` would hash the whole policy on every call; an identity lookup
costs nothing. Each entry keeps its object alive, so an ``id`` is never reused while it is
cached; a full cache is emptied, not grown.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

Key = TypeVar("Key")
Value = TypeVar("Value")


def by_identity(limit: int) -> Callable[[Callable[[Key], Value]], Callable[[Key], Value]]:
    """Decorate a one-argument function so that its result is computed once per argument
    object (by ``is``), for at most ``limit`` objects at a time."""

    def decorate(function: Callable[[Key], Value]) -> Callable[[Key], Value]:
        cache: dict[int, tuple[Key, Value]] = {}

        @functools.wraps(function)
        def cached(key: Key) -> Value:
            found = cache.get(id(key))
            if found is not None and found[0] is key:
                return found[1]
            value = function(key)
            if len(cache) >= limit:
                cache.clear()
            cache[id(key)] = (key, value)
            return value

        return cached

    return decorate
