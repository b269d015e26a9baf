"""Camunda/Flowable expressions (a JUEL subset) translated into Python for the restricted engine.

Models drawn for Camunda, Flowable or Activiti write conditions, collections and timer values as
`${...}` (or deferred `#{...}`). `translate` turns such text into one Python expression that the
restricted engine (app/engine/sandbox.py) evaluates like any other; nothing here evaluates anything,
and text outside the subset raises `JuelError` saying what is not supported. Text without `${` / `#{`
is returned unchanged: it is a Python expression, as before.

The subset: literals (strings in ' or ", integers, decimals, true, false, null), variables, `a.b` and
`a['b']` / `a[0]`, `== != < > <= >= eq ne lt gt le ge && || ! and or not empty`, `+ - * / div % mod`,
unary minus, parentheses and `a ? b : c`. Method and function calls, `execution` / `task`, lambdas,
assignments, `;`, collection literals and `instanceof` are refused.

Where JUEL and Python differ, the translation follows JUEL where a Python expression can (docs/expressions.md):
- `empty x` is true for null, '' and an empty list or map;
- `<`, `>`, `<=`, `>=` are false when a side is null (Python would raise);
- `a.b` and `a['b']` give null for a missing key or a null `a` (Python would raise);
- a variable that is not in the task data raises NameError naming it, as Camunda raises
  "Cannot resolve identifier" (and `empty` does not change that).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["JuelError", "is_juel", "original", "translate"]

MAX_LENGTH = 4000       # an expression longer than this is not a condition somebody maintains
MAX_DEPTH = 50          # nesting; deeper input would only exhaust the parser's recursion
MAX_NUMBER_DIGITS = 30
MAX_REMEMBERED = 4096   # translations whose designer text an error message can name
_originals: dict[str, str] = {}  # Python -> the text it was translated from, oldest first
_originals_lock = threading.Lock()

_KEYWORD_OPERATORS = {"and": "&&", "or": "||", "not": "!", "eq": "==", "ne": "!=", "lt": "<", "gt": ">",
                      "le": "<=", "ge": ">=", "div": "/", "mod": "%", "empty": "empty"}
_LITERAL_WORDS = {"true": "True", "false": "False", "null": "None"}
# Camunda's own objects: they exist only inside Camunda, and what they offer is reached through calls.
_CAMUNDA_OBJECTS = {"execution", "task", "variableScope", "authenticatedUserId", "externalTask"}
_PYTHON_KEYWORDS = {"False", "None", "True", "as", "assert", "async", "await", "break", "class", "continue",
                    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
                    "in", "is", "lambda", "nonlocal", "pass", "raise", "return", "try", "while", "with", "yield"}
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[^\W\d]\w*)
  | (?P<op>==|!=|<=|>=|&&|\|\||->|\+=|[-+*/%<>!?:.()\[\],;={}&|])
""", re.VERBOSE)
_REFUSED_OPERATORS = {
    "->": "lambda expressions are not supported", "=": "assignments are not supported",
    "+=": "string concatenation with += is not supported",
    ";": "several expressions separated by ';' are not supported",
    "{": "set and map literals are not supported", ",": "lists of values are not supported",
    "&": "'&' is not an operator: write && or and", "|": "'|' is not an operator: write || or or",
}


class JuelError(ValueError):
    """Text outside the supported expression language; the message says what and where."""


def is_juel(text: str) -> bool:
    """True if `text` is written in the expression language (it holds `${` or `#{`)."""
    return "${" in text or "#{" in text


def translate(text: str) -> str:
    """The Python expression for `text`: `${x}` alone keeps the value's type; text mixed with
    `${...}` parts (a template such as `PT${hours}H`) becomes a string. Text without `${`/`#{` is
    returned as it is.

    :raises JuelError: the text is outside the supported subset.
    """
    if not is_juel(text):
        return text
    if len(text) > MAX_LENGTH:
        raise JuelError(f"the expression is {len(text)} characters long (limit {MAX_LENGTH})")
    parts = list(_template_parts(text.strip()))
    if len(parts) == 1 and isinstance(parts[0], _Expr):
        python = parts[0].python
    else:
        python = "(" + " + ".join(repr(p) if isinstance(p, str) else f"str({p.python})" for p in parts) + ")"
    _remember(python, text.strip())
    return python


def original(python: str) -> str | None:
    """The designer's text that `python` was translated from in this process, if it was (so a run-time
    error can quote what the designer wrote rather than our Python)."""
    return _originals.get(python)


def _remember(python: str, text: str) -> None:
    with _originals_lock:  # specs may be parsed in several threads at once
        if python not in _originals and len(_originals) >= MAX_REMEMBERED:
            del _originals[next(iter(_originals))]
        _originals[python] = text


@dataclass(frozen=True)
class _Expr:
    python: str


def _template_parts(text: str) -> Iterator[str | _Expr]:
    """Literal text and `${...}` expressions, in order; `\\${` in literal text is a literal `${`."""
    literal: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith(("\\${", "\\#{"), i):
            literal.append(text[i + 1:i + 3])
            i += 3
        elif text.startswith(("${", "#{"), i):
            if literal:
                yield "".join(literal)
                literal = []
            parser = _Parser(text, i + 2)
            yield _Expr(parser.parse())
            i = parser.end
        else:
            literal.append(text[i])
            i += 1
    if literal:
        yield "".join(literal)


@dataclass(frozen=True)
class _Token:
    kind: str   # number, string, name, op, end
    text: str
    at: int


class _Parser:
    """Recursive descent over EL's precedence, rendering Python as it goes (fully parenthesized)."""

    def __init__(self, text: str, start: int) -> None:
        self.text = text
        self.end = start
        self.tokens = self._tokenize(start)  # sets `end`, just past the closing brace
        self.pos = 0
        self.depth = 0
        self._nullable = False  # whether the value just parsed may be null (then comparisons guard it)

    def _tokenize(self, start: int) -> list[_Token]:
        tokens, i = [], start
        while True:
            if i >= len(self.text):
                raise JuelError(f"'{self.text[start - 2:start]}' at character {start - 1} is never closed with '}}'")
            if self.text[i] == "}":
                tokens.append(_Token("end", "}", i))
                self.end = i + 1
                return tokens
            match = _TOKEN.match(self.text, i)
            if match is None:
                raise JuelError(f"unexpected character {self.text[i]!r} at character {i + 1}")
            kind = match.lastgroup or ""
            if kind != "space":
                tokens.append(_Token(kind, match.group(), i))
            i = match.end()

    # -- token helpers ---------------------------------------------------------------------------------
    def _peek(self, offset: int = 0) -> _Token:
        return self.tokens[min(self.pos + offset, len(self.tokens) - 1)]

    def _operator(self) -> str | None:
        """The operator at the current token (keyword operators as their symbol), else None."""
        token = self._peek()
        if token.kind == "op":
            if token.text in _REFUSED_OPERATORS:
                raise JuelError(f"{_REFUSED_OPERATORS[token.text]} (at character {token.at + 1})")
            return token.text
        if token.kind == "name" and token.text in _KEYWORD_OPERATORS:
            return _KEYWORD_OPERATORS[token.text]
        if token.kind == "name" and token.text == "instanceof":
            raise JuelError(f"'instanceof' is not supported (at character {token.at + 1})")
        return None

    def _take(self, *operators: str) -> str | None:
        op = self._operator()
        if op in operators:
            self.pos += 1
            return op
        return None

    def _expect(self, op: str) -> None:
        if self._take(op) is None:
            found = self._peek()
            raise JuelError(f"expected '{op}' at character {found.at + 1}, found {self._describe(found)}")

    @staticmethod
    def _describe(token: _Token) -> str:
        return "the end of the expression" if token.kind == "end" else repr(token.text)

    # -- grammar ---------------------------------------------------------------------------------------
    def parse(self) -> str:
        if self._peek().kind == "end":
            raise JuelError(f"empty expression at character {self._peek().at + 1}")
        result = self._expression()
        token = self._peek()
        if token.kind != "end":
            self._operator()  # names a refused operator if it is one
            raise JuelError(f"unexpected {self._describe(token)} at character {token.at + 1}")
        return result

    def _expression(self) -> str:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JuelError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        condition = self._binary(0)
        if self._take("?") is not None:
            then = self._expression()
            self._expect(":")
            otherwise = self._expression()
            condition = f"({then} if {condition} else {otherwise})"
            self._nullable = True
        self.depth -= 1
        return condition

    _LEVELS: tuple[tuple[str, ...], ...] = (("||",), ("&&",), ("==", "!="), ("<", ">", "<=", ">="),
                                            ("+", "-"), ("*", "/", "%"))

    def _binary(self, level: int) -> str:
        if level == len(self._LEVELS):
            return self._unary()
        left, nullable = self._binary(level + 1), self._nullable
        while (op := self._take(*self._LEVELS[level])) is not None:
            right = self._binary(level + 1)
            left = _render_binary(op, left, nullable, right, self._nullable)
            nullable = op in ("&&", "||")  # Python's and/or give an operand, which may be None
        self._nullable = nullable
        return left

    def _unary(self) -> str:
        op = self._take("-", "!", "empty")
        if op is None:
            return self._value()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise JuelError(f"the expression is nested more than {MAX_DEPTH} levels deep")
        operand = self._unary()
        self.depth -= 1
        self._nullable = False
        if op == "-":
            return f"(-{operand})"
        if op == "!":
            return f"(not {operand})"
        return f"({operand} in (None, '', [], {{}}))"

    def _value(self) -> str:
        python, self._nullable = self._primary()
        while True:
            token = self._peek()
            if self._take(".") is not None:
                name = self._peek()
                if name.kind != "name":
                    raise JuelError(f"expected a property name after '.' at character {name.at + 1}")
                self.pos += 1
                self._refuse_call(f"method calls ('{name.text}(...)') are not supported")
                python = f"({python} or {{}}).get({name.text!r})"
            elif self._take("[") is not None:
                start = self.pos
                key = self._expression()
                text_key = self.pos == start + 1 and self.tokens[start].kind == "string"
                self._expect("]")
                self._refuse_call("method calls are not supported")
                # a text key reads a map (null when missing, as in EL); anything else indexes as Python does
                python = f"({python} or {{}}).get({key})" if text_key else f"{python}[{key}]"
            else:
                if token.kind == "op" and token.text == "(":
                    raise JuelError(f"calls are not supported (at character {token.at + 1})")
                return python
            self._nullable = True

    def _refuse_call(self, message: str) -> None:
        if self._peek().kind == "op" and self._peek().text == "(":
            raise JuelError(f"{message} (at character {self._peek().at + 1})")

    def _primary(self) -> tuple[str, bool]:
        token = self._peek()
        if token.kind == "op" and token.text == "(":
            self.pos += 1
            inner = self._expression()
            self._expect(")")
            return inner, self._nullable
        if token.kind == "number":
            self.pos += 1
            return _number(token), False
        if token.kind == "string":
            self.pos += 1
            return repr(_unescape(token)), False
        if token.kind == "name" and token.text not in _KEYWORD_OPERATORS:
            self.pos += 1
            if token.text in _LITERAL_WORDS:
                return _LITERAL_WORDS[token.text], token.text == "null"
            return self._variable(token), True
        self._operator()  # names a refused operator if it is one
        raise JuelError(f"expected a value at character {token.at + 1}, found {self._describe(token)}")

    def _variable(self, token: _Token) -> str:
        name = token.text
        following = self._peek()
        if following.kind == "op" and following.text == "(":
            raise JuelError(f"function calls ('{name}(...)') are not supported (at character {token.at + 1})")
        if (following.kind == "op" and following.text == ":" and self._peek(1).kind == "name"
                and self._peek(2).text == "("):
            raise JuelError(f"function calls ('{name}:{self._peek(1).text}(...)') are not supported "
                            f"(at character {token.at + 1})")
        if name in _CAMUNDA_OBJECTS:
            raise JuelError(f"'{name}' is Camunda's own object and does not exist here: "
                            f"use the process variables directly (at character {token.at + 1})")
        if name in _PYTHON_KEYWORDS or name.startswith("_"):
            raise JuelError(f"a variable cannot be called '{name}' (at character {token.at + 1})")
        return name


def _render_binary(op: str, left: str, left_nullable: bool, right: str, right_nullable: bool) -> str:
    if op == "&&":
        return f"({left} and {right})"
    if op == "||":
        return f"({left} or {right})"
    if op in ("<", ">", "<=", ">=") and (left_nullable or right_nullable):
        # EL: an ordering comparison with null is false; Python would raise TypeError.
        guards = [f"{side} is not None" for side, nullable in ((left, left_nullable), (right, right_nullable))
                  if nullable]
        return f"({' and '.join(guards)} and {left} {op} {right})"
    return f"({left} {op} {right})"


def _number(token: _Token) -> str:
    text = token.text
    if len(text) > MAX_NUMBER_DIGITS:
        raise JuelError(f"the number at character {token.at + 1} has more than {MAX_NUMBER_DIGITS} characters")
    if any(c in text for c in ".eE"):
        return repr(float(text))
    return str(int(text))


def _unescape(token: _Token) -> str:
    """EL string literals escape only the quote, the other quote and the backslash."""
    body, out, i = token.text[1:-1], [], 0
    while i < len(body):
        char = body[i]
        if char == "\\":
            escaped = body[i + 1]
            if escaped not in "'\"\\":
                raise JuelError(f"'\\{escaped}' in the string at character {token.at + 1} is not an escape: "
                                "write '\\\\' for a backslash")
            out.append(escaped)
            i += 2
        else:
            out.append(char)
            i += 1
    return "".join(out)
