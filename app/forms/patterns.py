"""Regular expressions from form files, compiled defensively, and the built-in email/phone checks.

Python's `re` has no time limit, so a careless pattern such as `(a+)+$` hangs a worker on a
30-character input. We bound the damage: patterns are at most 500 characters; the shapes that
backtrack exponentially or with a high power of the input length (a quantifier nested in an
unbounded one, overlapping alternatives in a repeated group, three adjacent runs over shared
characters) are refused at parse time, conservatively; and values longer than MAX_PATTERN_INPUT are
never matched. This is a static approximation, not a proof: forms are deployed by staff, and the
checks catch the usual accidents rather than every crafted pattern.
"""

from __future__ import annotations

import re

# The public sre_parse alias warns (DeprecationWarning) on import; pinned Python 3.11 has these.
import re._constants as sre  # type: ignore[import-not-found]
import re._parser as sre_parse  # type: ignore[import-not-found]
from collections.abc import Iterable
from typing import Any

MAX_PATTERN_LENGTH = 500
MAX_PATTERN_INPUT = 1000

_UNBOUNDED_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT)


class UnsafePattern(ValueError):
    """A pattern that is invalid, too long or prone to catastrophic backtracking."""


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """Compile a form's `validate.pattern` for full matching.

    :raises UnsafePattern: too long, not a valid Python regular expression, or prone to
        catastrophic backtracking.
    """
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(f"pattern longer than {MAX_PATTERN_LENGTH} characters")
    try:
        compiled = re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise UnsafePattern(f"invalid regular expression: {exc}") from exc
    parsed = sre_parse.parse(pattern)
    risk = _risk(parsed, inside_repeat=False, ignorecase=bool(parsed.state.flags & re.IGNORECASE))
    if risk:
        raise UnsafePattern(risk)
    return compiled


_NESTED = (
    "pattern nests an unbounded quantifier inside another, e.g. (a+)+, which can take exponential "
    "time; use a possessive quantifier (a++) or an atomic group (?>...)"
)
_ADJACENT = (
    "pattern has three or more adjacent quantifiers that can match the same characters, e.g. "
    "\\d*\\d*\\d*, which can take very long on long input; merge them"
)
_AMBIGUOUS = (
    "a repeated group has alternatives that can match the same text, e.g. (a|ab)* or (a|)*, which "
    "can take exponential time; make the alternatives start with different characters"
)


def _risk(items: Iterable[tuple[Any, Any]], inside_repeat: bool, ignorecase: bool) -> str | None:
    """Why the parsed pattern could backtrack exponentially (or with a high power of n), or None."""
    items = list(items)
    if _adjacent_runs(items, ignorecase):
        return _ADJACENT
    for op, av in items:
        found = None
        if op in _UNBOUNDED_REPEATS:
            unbounded = av[1] == sre.MAXREPEAT
            if unbounded and inside_repeat:
                return _NESTED
            if unbounded and _is_separated_run(av[2], ignorecase):
                continue
            found = _risk(av[2], inside_repeat or unbounded, ignorecase)
        elif op in (sre.POSSESSIVE_REPEAT, sre.ATOMIC_GROUP):
            # These never give characters back, so what they contain cannot multiply the work.
            found = _risk(av[2] if op == sre.POSSESSIVE_REPEAT else av, False, ignorecase)
        elif op == sre.SUBPATTERN:
            found = _risk(av[-1], inside_repeat, ignorecase or bool(av[1] & re.IGNORECASE))
        elif op == sre.BRANCH:
            if inside_repeat and _alternatives_overlap(av[1], ignorecase):
                return _AMBIGUOUS
            found = next((r for alt in av[1] if (r := _risk(alt, inside_repeat, ignorecase))), None)
        elif op in (sre.ASSERT, sre.ASSERT_NOT):
            found = _risk(av[1], inside_repeat, ignorecase)
        elif op == sre.GROUPREF_EXISTS:
            found = next((r for sub in av[1:] if sub and (r := _risk(sub, inside_repeat, ignorecase))), None)
        if found:
            return found
    return None


def _adjacent_runs(items: list[tuple[Any, Any]], ignorecase: bool) -> bool:
    """Whether a sequence has three unbounded runs over shared characters with no separator between."""
    # Each such run multiplies the split points to try by n: \d*\d*\d*x is cubic in the input length.
    chain: list[Ranges] = []
    for op, av in items:
        if op in _UNBOUNDED_REPEATS and av[1] == sre.MAXREPEAT:
            chars = _chars(av[2], ignorecase)
            chain = [c for c in chain if _intersect(c, chars)] + [chars]
            if len(chain) >= 3:
                return True
        elif op in (sre.LITERAL, sre.IN):
            single = _single_char((op, av), ignorecase)
            if single is not None and not any(_intersect(single, c) for c in chain):
                chain = []  # a character no run can eat pins the split between them
    return False


def _chars(items: Any, ignorecase: bool) -> Ranges:
    """Every character a sub-pattern can consume (None: anything)."""
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        if op in (sre.LITERAL, sre.IN):
            found = _single_char((op, av), ignorecase)
        elif op in (*_UNBOUNDED_REPEATS, sre.POSSESSIVE_REPEAT):
            found = _chars(av[2], ignorecase)
        elif op == sre.SUBPATTERN:
            found = _chars(av[-1], ignorecase or bool(av[1] & re.IGNORECASE))
        elif op == sre.BRANCH:
            parts = [_chars(alt, ignorecase) for alt in av[1]]
            found = None if None in parts else [r for part in parts if part for r in part]
        elif op == sre.AT:  # anchors consume nothing
            continue
        else:
            found = None
        if found is None:
            return None
        ranges += found
    return ranges


def _is_separated_run(body: Any, ignorecase: bool) -> bool:
    """Whether a repeated body is one character-class run plus single characters it cannot match."""
    # e.g. (?:\.[\w-]+)+ or (?:\d+,)+: each iteration consumes a separator the run cannot eat, so
    # the text splits into iterations one way only and these nested quantifiers stay linear.
    items = list(body)
    if len(items) == 1 and items[0][0] == sre.SUBPATTERN:
        flags = items[0][1][1]
        return _is_separated_run(items[0][1][-1], ignorecase or bool(flags & re.IGNORECASE))
    runs = [item for item in items if item[0] in _UNBOUNDED_REPEATS and item[1][1] == sre.MAXREPEAT]
    if len(runs) != 1 or len(items) < 2 or len(runs[0][1][2]) != 1:
        return False
    run_chars = _single_char(runs[0][1][2][0], ignorecase)
    others = [_single_char(item, ignorecase) for item in items if item is not runs[0]]
    return run_chars is not None and all(o is not None and not _intersect(o, run_chars) for o in others)


def _single_char(item: tuple[Any, Any], ignorecase: bool) -> Ranges:
    op, av = item
    if op == sre.LITERAL:
        return _literal(av, ignorecase)
    return _char_class(av, ignorecase) if op == sre.IN else None


# First characters an alternative can start with, as code point ranges; None means "anything"
# (including nothing, since an empty match lets whatever follows decide).
Ranges = list[tuple[int, int]] | None
_TOP = 0x10FFFF
_CATEGORIES: dict[Any, list[tuple[int, int]]] = {
    # Non-ASCII is lumped together: being conservative only costs a false alarm.
    sre.CATEGORY_DIGIT: [(48, 57), (128, _TOP)],
    sre.CATEGORY_WORD: [(48, 57), (65, 90), (95, 95), (97, 122), (128, _TOP)],
    sre.CATEGORY_SPACE: [(9, 13), (28, 32), (128, _TOP)],
}


def _alternatives_overlap(alternatives: list[Any], ignorecase: bool) -> bool:
    firsts = [_first(alt, ignorecase) for alt in alternatives]
    return any(_intersect(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :])


def _intersect(a: Ranges, b: Ranges) -> bool:
    if a is None or b is None:
        return True
    return any(lo1 <= hi2 and lo2 <= hi1 for lo1, hi1 in a for lo2, hi2 in b)


def _first(items: Any, ignorecase: bool) -> Ranges:
    items = list(items)
    if not items:
        return None
    op, av = items[0]
    if op == sre.LITERAL:
        return _literal(av, ignorecase)
    if op == sre.IN:
        return _char_class(av, ignorecase)
    if op == sre.SUBPATTERN:
        return _first(av[-1], ignorecase or bool(av[1] & re.IGNORECASE))
    if op == sre.ATOMIC_GROUP:
        return _first(av, ignorecase)
    if op in (*_UNBOUNDED_REPEATS, sre.POSSESSIVE_REPEAT) and av[0] >= 1:
        return _first(av[2], ignorecase)
    if op == sre.BRANCH:
        firsts = [_first(alt, ignorecase) for alt in av[1]]
        return None if None in firsts else [r for ranges in firsts if ranges for r in ranges]
    return None


def _literal(code: int, ignorecase: bool) -> list[tuple[int, int]]:
    chars = {chr(code)}
    if ignorecase:
        chars |= {chr(code).lower(), chr(code).upper()}
    return [(ord(ch), ord(ch)) for ch in chars if len(ch) == 1]


def _char_class(items: list[tuple[Any, Any]], ignorecase: bool) -> Ranges:
    ranges: list[tuple[int, int]] = []
    for op, av in items:
        if op == sre.LITERAL:
            ranges += _literal(av, ignorecase)
        elif op == sre.RANGE and not ignorecase:
            ranges.append(av)
        elif op == sre.CATEGORY and av in _CATEGORIES:
            ranges += _CATEGORIES[av]
        else:  # negated sets, \W, \D, case-folded ranges: assume anything
            return None
    return ranges


_PHONE = re.compile(r"\+?[0-9][0-9 ()\-]{4,30}")


def is_email(value: str) -> bool:
    """A pragmatic address check (one @, a dotted domain, no spaces); written without backtracking."""
    local, at, domain = value.rpartition("@")
    if not at or not local or len(value) > 254 or len(local) > 64 or "@" in local:
        return False
    if any(ch.isspace() for ch in value):
        return False
    labels = domain.split(".")
    return len(labels) >= 2 and all(labels)


def is_phone(value: str) -> bool:
    """Digits with optional +, spaces, hyphens and parentheses: mainland mobiles, landlines, +86..."""
    digits = sum(ch.isdigit() for ch in value)
    return 5 <= digits <= 20 and _PHONE.fullmatch(value) is not None
