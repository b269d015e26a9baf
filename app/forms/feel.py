"""The small subset of FEEL that `conditional.hide` may use, parsed once and evaluated per submission.

Supported (whitespace tolerant): `=key`, `=not(key)`, `=key = "v"`, `=key != "v"`,
`=key = true|false|null|<number>`, and `and` / `or` / parentheses combining these. `key` may be a
dotted path (`applicant.type`). Everything else is rejected when the form is parsed, so a bad form
is found at deploy time rather than when a citizen submits it.

Evaluation follows FEEL's three-valued logic: a bare name that is not a boolean is null, `not(null)`
is null, and a field is hidden only when the whole expression is exactly true.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_EXPRESSION_LENGTH = 500
MAX_DEPTH = 16

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<str>"(?:[^"\\]|\\.)*")
      | (?P<num>-?\d+(?:\.\d+)?)
      | (?P<op>!=|=|\(|\))
      | (?P<name>[^\W\d]\w*(?:\.[^\W\d]\w*)*)
    )""",
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "true", "false", "null"}


class FeelError(ValueError):
    """An expression outside the supported subset."""


Scopes = Sequence[Mapping[str, Any]]


def lookup(scopes: Scopes, path: tuple[str, ...]) -> Any:
    """Resolve a dotted name: the innermost scope that has the first segment wins (form-js `this`)."""
    for scope in scopes:
        if path[0] in scope:
            value: Any = scope
            for part in path:
                if not isinstance(value, Mapping) or part not in value:
                    return None
                value = value[part]
            return value
    return None


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _equals(value: Any, literal: Any) -> bool:
    if literal is None:
        # Empty inputs arrive as "" or [] from form-js, and authors mean "empty" when they write null.
        return value is None or value == "" or value == []
    if isinstance(literal, bool):
        return _as_bool(value) is literal
    if isinstance(literal, Decimal):
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return False
        try:
            return Decimal(str(value).strip()) == literal
        except InvalidOperation:
            return False
    return bool(value == literal)


@dataclass(frozen=True)
class _Name:
    path: tuple[str, ...]

    def eval(self, scopes: Scopes) -> bool | None:
        return _as_bool(lookup(scopes, self.path))


@dataclass(frozen=True)
class _Compare:
    path: tuple[str, ...]
    negate: bool
    literal: Any

    def eval(self, scopes: Scopes) -> bool | None:
        return _equals(lookup(scopes, self.path), self.literal) != self.negate


@dataclass(frozen=True)
class _Not:
    operand: _Expr

    def eval(self, scopes: Scopes) -> bool | None:
        result = self.operand.eval(scopes)
        return None if result is None else not result


@dataclass(frozen=True)
class _And:
    operands: tuple[_Expr, ...]

    def eval(self, scopes: Scopes) -> bool | None:
        results = [op.eval(scopes) for op in self.operands]
        return False if False in results else (None if None in results else True)


@dataclass(frozen=True)
class _Or:
    operands: tuple[_Expr, ...]

    def eval(self, scopes: Scopes) -> bool | None:
        results = [op.eval(scopes) for op in self.operands]
        return True if True in results else (None if None in results else False)


_Expr = _Name | _Compare | _Not | _And | _Or


@dataclass(frozen=True)
class Condition:
    """A parsed `conditional.hide` expression."""

    source: str
    expr: _Expr

    def is_true(self, scopes: Scopes) -> bool:
        """True only when the expression evaluates to exactly true (null counts as false)."""
        return self.expr.eval(scopes) is True


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    text = text.rstrip()
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.lastgroup is None:
            raise FeelError(f"unexpected text at position {pos}: {text[pos : pos + 20]!r}")
        kind = match.lastgroup
        value = match.group(kind)
        tokens.append(("kw" if kind == "name" and value in _KEYWORDS else kind, value))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.pos = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: str | None = None) -> str:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            found = "end of expression" if token is None else repr(token[1])
            raise FeelError(f"expected {value or kind}, found {found}")
        self.pos += 1
        return token[1]

    def accept(self, kind: str, value: str) -> bool:
        if self.peek() == (kind, value):
            self.pos += 1
            return True
        return False

    def expression(self) -> _Expr:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise FeelError("expression nested too deeply")
        operands = [self.conjunction()]
        while self.accept("kw", "or"):
            operands.append(self.conjunction())
        self.depth -= 1
        return operands[0] if len(operands) == 1 else _Or(tuple(operands))

    def conjunction(self) -> _Expr:
        operands = [self.atom()]
        while self.accept("kw", "and"):
            operands.append(self.atom())
        return operands[0] if len(operands) == 1 else _And(tuple(operands))

    def atom(self) -> _Expr:
        if self.accept("op", "("):
            inner = self.expression()
            self.take("op", ")")
            return inner
        if self.accept("kw", "not"):
            self.take("op", "(")
            inner = self.expression()
            self.take("op", ")")
            return _Not(inner)
        path = tuple(self.take("name").split("."))
        for op in ("=", "!="):
            if self.accept("op", op):
                return _Compare(path, op == "!=", self.literal())
        return _Name(path)

    def literal(self) -> Any:
        token = self.peek()
        self.pos += 1
        if token is not None and token[0] == "str":
            try:
                return json.loads(token[1])
            except ValueError as exc:
                raise FeelError(f"bad string literal {token[1]}") from exc
        if token is not None and token[0] == "num":
            return Decimal(token[1])
        if token is not None and token[0] == "kw" and token[1] in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[token[1]]
        raise FeelError("expected a string, number, true, false or null after = or !=")


def parse_condition(source: str) -> Condition:
    """Parse a `conditional.hide` value such as `=type = "company" and not(agreed)`.

    :raises FeelError: the expression is not in the supported subset.
    """
    text = source.strip()
    if not text.startswith("="):
        raise FeelError("a condition must be a FEEL expression starting with '='")
    if len(text) > MAX_EXPRESSION_LENGTH:
        raise FeelError(f"expression longer than {MAX_EXPRESSION_LENGTH} characters")
    parser = _Parser(_tokenize(text[1:]))
    if parser.peek() is None:
        raise FeelError("empty expression")
    expr = parser.expression()
    extra = parser.peek()
    if extra is not None:
        raise FeelError(f"unexpected {extra[1]!r}")
    return Condition(source, expr)
