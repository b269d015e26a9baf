"""What the script sandbox puts between untrusted BPMN code and Python: an AST policy and the guards it calls.

Used only by `app.engine.sandbox`. The time and step limits are checked between Python steps, so they
cannot stop one long C-level operation (`10 ** 10 ** 10`, `"x" * 10**10`, `int(Decimal("1e999999"))`).
The guards here therefore check sizes *before* doing such work and raise `ScriptLimitExceeded`.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date
from datetime import time as dtime
from decimal import Decimal
from types import MappingProxyType
from typing import Any

from RestrictedPython.Guards import guarded_iter_unpack_sequence, guarded_unpack_sequence, safe_builtins
from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import (
    INSPECT_ATTRIBUTES,
    IOPERATOR_TO_STR,
    RestrictingNodeTransformer,
    copy_locations,
)

MAX_SEQUENCE_LENGTH = 1_000_000  # items of a str, bytes, list or tuple a guarded operation may build
MAX_INT_BITS = 4096              # size of an int built by *, ** or <<; also bounds 3-argument pow()
MAX_DECIMAL_EXPONENT = 1233      # int(Decimal) of ~1e999999 takes minutes; 1233 digits ~ MAX_INT_BITS
MAX_FORMAT_WIDTH = 10_000        # width or precision in %-formatting and f-string format specs
MAX_RANGE_LENGTH = 100_000
MAX_ROUND_DIGITS = 4300          # round(5, -10**7) computes 10**(10**7) first

STEP = "_step_"  # the per-call step hook; sandbox.py binds it to the call's budget


class ScriptLimitExceeded(Exception):
    """A script ran past its time, step or memory limit, or asked for a result beyond the size limits."""


class ScriptForbidden(Exception):
    """RestrictedPython (with our policy) refused to compile a script; `errors` lists every problem."""

    def __init__(self, message: str, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.errors = tuple(errors) or (message,)


# -- compile-time policy ---------------------------------------------------------------------------

_GUARDED_BINOPS = {ast.Add: "_add_", ast.Mult: "_mul_", ast.Pow: "_pow_", ast.LShift: "_lshift_",
                   ast.Mod: "_mod_"}


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    node = ast.Call(func=ast.Name(name, ast.Load()), args=args, keywords=[])
    copy_locations(node, like)
    return node


def _step_statement(like: ast.AST) -> ast.Expr:
    node = ast.Expr(_call(STEP, [], like))
    copy_locations(node, like)
    return node


class SandboxPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus: size guards on `+ * ** << %` and f-string format specs; a step hook
    at the top of every loop body, comprehension iteration, function, lambda, `except` and `finally`; and
    no imports or classes.

    The step hook is what stops `while True: pass`: written on one line it produces no "line" trace event.
    In handlers it re-raises a limit the script tried to catch (limits are sticky: once over, every hook
    raises), and it keeps working after a raise from the trace function has switched tracing off.
    """

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        node = self.node_contents_visit(node)
        guard = _GUARDED_BINOPS.get(type(node.op))
        return node if guard is None else _call(guard, [node.left, node.right], node)

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        node = self.node_contents_visit(node)
        if node.format_spec is not None:  # f"{x:>{n}}" -> f"{_format_(x, conversion, f'>{n}')}"
            node.value = _call("_format_", [node.value, ast.Constant(node.conversion), node.format_spec],
                               node.value)
            node.conversion, node.format_spec = -1, None
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        node = self.node_contents_visit(node)
        node.body.insert(0, _step_statement(node))
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        node = super().visit_For(node)
        node.body.insert(0, _step_statement(node))
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        node = super().visit_comprehension(node)
        node.ifs.insert(0, _call(STEP, [], node.iter))  # the hook returns True
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node = super().visit_FunctionDef(node)
        node.body.insert(0, _step_statement(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> ast.AST:
        node = super().visit_Lambda(node)
        node.body = ast.BoolOp(op=ast.And(), values=[_call(STEP, [], node.body), node.body])
        copy_locations(node.body, node.body.values[1])
        return node

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> ast.AST:
        node = super().visit_ExceptHandler(node)
        node.body.insert(0, _step_statement(node))
        return node

    def visit_Try(self, node: ast.Try) -> ast.AST:
        node = super().visit_Try(node)
        if node.finalbody:
            node.finalbody.insert(0, _step_statement(node.finalbody[0]))
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        """`d[k] += v` (which RestrictedPython refuses) becomes `_augitem_(d, k, "+=", v)`."""
        target = node.target
        if not isinstance(target, ast.Subscript) or isinstance(target.slice, ast.Slice):
            return super().visit_AugAssign(node)
        op = ast.Constant(IOPERATOR_TO_STR[type(node.op)])
        args = [self.visit(target.value), self.visit(target.slice), op, self.visit(node.value)]
        statement = ast.Expr(_call("_augitem_", args, node))
        copy_locations(statement, node)
        return statement

    def visit_Import(self, node: ast.Import) -> ast.AST:
        self.error(node, "import statements are not allowed; use the provided helpers")
        return node

    visit_ImportFrom = visit_Import  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        self.error(node, "class definitions are not allowed")
        return node


# -- size checks -----------------------------------------------------------------------------------

_SEQUENCES = (str, bytes, list, tuple)


def check_length(length: int, what: str) -> None:
    if length > MAX_SEQUENCE_LENGTH:
        raise ScriptLimitExceeded(f"size limit exceeded: {what} would have {length} items "
                                  f"(limit {MAX_SEQUENCE_LENGTH})")


def _too_many_bits(bits: float, what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(f"size limit exceeded: {what} would have about {int(bits)} bits "
                               f"(limit {MAX_INT_BITS})")


def check_decimal(value: Any) -> None:
    """Refuse Decimals whose conversion to int would take minutes."""
    if isinstance(value, Decimal) and value.is_finite() and value.adjusted() > MAX_DECIMAL_EXPONENT:
        raise ScriptLimitExceeded(f"size limit exceeded: converting a Decimal of 10**{value.adjusted()} "
                                  f"to int (limit 10**{MAX_DECIMAL_EXPONENT})")


def _check_width(digits: str, what: str) -> None:
    if len(digits) > 6 or int(digits) > MAX_FORMAT_WIDTH:
        raise ScriptLimitExceeded(f"size limit exceeded: {what} width or precision {digits[:12]} "
                                  f"(limit {MAX_FORMAT_WIDTH})")


def _check_add(a: Any, b: Any) -> None:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        check_length(len(a) + len(b), "a concatenation")


def _check_mul(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _too_many_bits(a.bit_length() + b.bit_length(), "a product")
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        check_length(len(a) * b, "a repeated sequence")
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        check_length(len(b) * a, "a repeated sequence")


def _check_pow(base: Any, exp: Any, mod: Any = None) -> None:
    ints = [v for v in (base, exp, mod) if isinstance(v, int)]
    if mod is not None:
        if any(v.bit_length() > MAX_INT_BITS for v in ints):
            raise _too_many_bits(max(v.bit_length() for v in ints), "a pow() argument")
    elif len(ints) == 2 and exp > 0 and abs(base) > 1:
        bits = exp * math.log2(abs(base)) if exp <= MAX_INT_BITS else exp
        if bits > MAX_INT_BITS:
            raise _too_many_bits(bits, "a power")


def _check_lshift(a: Any, b: Any) -> None:
    if isinstance(a, int) and isinstance(b, int) and a and b > 0 and a.bit_length() + b > MAX_INT_BITS:
        raise _too_many_bits(a.bit_length() + b, "a shift")


_PERCENT_SPEC = re.compile(r"%%|%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_mod(a: Any, b: Any) -> None:
    if not isinstance(a, (str, bytes)):
        return
    fmt = a if isinstance(a, str) else a.decode("latin-1")
    for match in _PERCENT_SPEC.finditer(fmt):
        for digits in match.groups():
            if digits == "*":
                raise ScriptLimitExceeded("'*' widths in %-formatting are not allowed")
            if digits:
                _check_width(digits, "a %-format")
    values = b.values() if isinstance(b, dict) else b if isinstance(b, tuple) else (b,)
    for value in values:
        check_decimal(value)  # "%d" % Decimal("1e999999") converts to int
    check_length(len(a) + sum(len(v) for v in values if isinstance(v, (str, bytes))), "a %-formatted string")


def guarded_add(a: Any, b: Any) -> Any:
    _check_add(a, b)
    return a + b


def guarded_mul(a: Any, b: Any) -> Any:
    _check_mul(a, b)
    return a * b


def guarded_pow(base: Any, exp: Any, mod: Any = None) -> Any:
    _check_pow(base, exp, mod)
    return pow(base, exp) if mod is None else pow(base, exp, mod)


def guarded_lshift(a: Any, b: Any) -> Any:
    _check_lshift(a, b)
    return a << b


def guarded_mod(a: Any, b: Any) -> Any:
    _check_mod(a, b)
    return a % b


_INPLACE: dict[str, tuple[Callable[[Any, Any], None] | None, Callable[[Any, Any], Any]]] = {
    "+=": (_check_add, operator.iadd), "*=": (_check_mul, operator.imul), "**=": (_check_pow, operator.ipow),
    "<<=": (_check_lshift, operator.ilshift), "%=": (_check_mod, operator.imod), "-=": (None, operator.isub),
    "/=": (None, operator.itruediv), "//=": (None, operator.ifloordiv), ">>=": (None, operator.irshift),
    "|=": (None, operator.ior), "^=": (None, operator.ixor), "&=": (None, operator.iand),
    "@=": (None, operator.imatmul),
}


def guarded_inplacevar(op: str, target: Any, value: Any) -> Any:
    check, apply = _INPLACE[op]
    if check is not None:
        check(target, value)
    return apply(target, value)


def guarded_augitem(target: Any, key: Any, op: str, value: Any) -> None:
    container = guarded_write(target)
    container[key] = guarded_inplacevar(op, container[key], value)


def guarded_format(value: Any, conversion: int, spec: str) -> str:
    """An f-string field with a format spec: `f"{x:>{n}}"` must not build a string of n characters."""
    if conversion != -1:
        value = {ord("s"): str, ord("r"): repr, ord("a"): ascii}[conversion](value)
    if not isinstance(value, (date, dtime)):  # strftime specs may hold long digit runs and cannot blow up
        for digits in re.findall(r"\d+", spec):
            _check_width(digits, "a format spec")
    return format(value, spec)


# -- attribute access ------------------------------------------------------------------------------

_BLOCKED_ATTRIBUTES = frozenset({"format", "format_map", "mro"}) | INSPECT_ATTRIBUTES


def _estimate_width(obj: Any, width: int, *_: Any) -> int:
    return width


def _estimate_expandtabs(obj: Any, tabsize: int = 8) -> int:
    return len(obj) + obj.count("\t" if isinstance(obj, str) else b"\t") * tabsize


def _estimate_replace(obj: Any, old: Any, new: Any, count: int = -1) -> int:
    hits = obj.count(old) if count < 0 else min(count, obj.count(old))
    return len(obj) + hits * max(0, len(new) - len(old))


def _estimate_translate(obj: Any, table: Any) -> int:
    values = table.values() if isinstance(table, dict) else table if isinstance(table, (list, tuple)) else ()
    return len(obj) * max((len(v) for v in values if isinstance(v, str)), default=1)


def _estimate_extend(obj: Any, other: Any) -> int:
    return len(obj) + len(other) if hasattr(other, "__len__") else 0


def _estimate_to_bytes(obj: Any, length: int = 1, *_: Any, **__: Any) -> int:
    return length


# Methods that can build a result far larger than their inputs, and the result size they would produce
# (join consumes its argument, so it is checked separately).
_METHOD_ESTIMATES: dict[str, tuple[tuple[type, ...], Callable[..., int] | None]] = {
    "ljust": ((str, bytes), _estimate_width), "rjust": ((str, bytes), _estimate_width),
    "center": ((str, bytes), _estimate_width), "zfill": ((str, bytes), _estimate_width),
    "expandtabs": ((str, bytes), _estimate_expandtabs), "replace": ((str, bytes), _estimate_replace),
    "translate": ((str,), _estimate_translate), "extend": ((list,), _estimate_extend),
    "to_bytes": ((int,), _estimate_to_bytes), "join": ((str, bytes), None),
}


def _size_checked(obj: Any, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
    estimate = _METHOD_ESTIMATES[name][1]
    if estimate is None:  # join
        def join(items: Iterable[Any]) -> Any:
            items = list(items)
            check_length(sum(len(i) for i in items if isinstance(i, _SEQUENCES))
                         + len(obj) * max(0, len(items) - 1), "a joined string")
            return method(items)
        return join

    def checked(*args: Any, **kwargs: Any) -> Any:
        try:
            size = estimate(obj, *args, **kwargs)
        except (TypeError, ValueError, AttributeError):
            size = 0  # bad arguments: let the method itself raise its usual error
        check_length(size, f"the result of {name}()")
        return method(*args, **kwargs)
    return checked


_MISSING = object()


def guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """`obj.name` for scripts: no `_names`, no str.format (it reaches attributes by itself), no frames."""
    if type(name) is not str:
        raise TypeError("attribute name must be a string")
    if name.startswith("_") or name in _BLOCKED_ATTRIBUTES:
        raise AttributeError(f'attribute "{name}" is not allowed in scripts')
    estimate = _METHOD_ESTIMATES.get(name)
    if estimate is not None and isinstance(obj, type) and issubclass(obj, estimate[0]):
        raise AttributeError(f'call "{name}" on a value, not on the type')
    value = getattr(obj, name) if default is _MISSING else getattr(obj, name, default)
    if estimate is not None and isinstance(obj, estimate[0]) and callable(value):
        return _size_checked(obj, name, value)
    return value


def guarded_hasattr(obj: Any, name: str) -> bool:
    try:
        guarded_getattr(obj, name)
    except AttributeError:
        return False
    return True


def guarded_write(obj: Any) -> Any:
    """Target of `x[k] = v`, `del x[k]`, `x.a = v`: only plain containers (task data and what scripts build)."""
    if type(obj) in (dict, list, set):
        return obj
    raise TypeError(f"scripts may not modify {type(obj).__name__} objects")


def guarded_apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return func(*args, **kwargs)


# -- builtins --------------------------------------------------------------------------------------

class _IntType(type):
    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, int)

    def __subclasscheck__(cls, sub: type) -> bool:
        return issubclass(sub, int)


class GuardedInt(metaclass=_IntType):
    """`int` for scripts: returns real ints and passes `isinstance(x, int)`, but refuses huge Decimals."""

    def __new__(cls, value: Any = 0, *args: Any, **kwargs: Any) -> int:  # type: ignore[misc]
        check_decimal(value)
        return int(value, *args, **kwargs)


def guarded_round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is None:
        check_decimal(number)
        return round(number)
    if isinstance(ndigits, int) and abs(ndigits) > MAX_ROUND_DIGITS:
        raise ScriptLimitExceeded(f"size limit exceeded: round() to {ndigits} digits (limit {MAX_ROUND_DIGITS})")
    return round(number, ndigits)


def guarded_floor(x: Any) -> int:
    check_decimal(x)
    return math.floor(x)


def guarded_ceil(x: Any) -> int:
    check_decimal(x)
    return math.ceil(x)


def guarded_range(*args: int) -> range:
    result = range(*args)
    try:
        length = len(result)
    except OverflowError:
        length = MAX_RANGE_LENGTH + 1
    if length > MAX_RANGE_LENGTH:
        raise ScriptLimitExceeded(f"size limit exceeded: range() of more than {MAX_RANGE_LENGTH} numbers")
    return result


def guarded_sum(iterable: Iterable[Any], start: Any = 0) -> Any:
    if isinstance(start, _SEQUENCES):  # quadratic, and the result size is unchecked
        raise TypeError("sum() of sequences is not allowed in scripts; use a comprehension")
    return sum(iterable, start)


_DROPPED = {"__build_class__", "setattr", "delattr", "_getattr_", "id", "BaseException", "KeyboardInterrupt",
            "SystemExit", "GeneratorExit"}

SCRIPT_BUILTINS: Mapping[str, Any] = MappingProxyType({
    **{k: v for k, v in safe_builtins.items() if k not in _DROPPED},
    "len": len, "min": min, "max": max, "any": any, "all": all, "sorted": sorted, "reversed": reversed,
    "enumerate": enumerate, "zip": zip, "map": map, "filter": filter, "next": next, "abs": abs,
    "str": str, "float": float, "bool": bool, "list": list, "dict": dict, "set": set, "frozenset": frozenset,
    "tuple": tuple, "isinstance": isinstance, "RecursionError": RecursionError,
    "int": GuardedInt, "round": guarded_round, "range": guarded_range, "sum": guarded_sum, "pow": guarded_pow,
    "getattr": guarded_getattr, "hasattr": guarded_hasattr,
    # hooks the RestrictedPython transformer and SandboxPolicy compile calls to
    "_getattr_": guarded_getattr, "_getitem_": operator.getitem, "_getiter_": iter, "_write_": guarded_write,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence, "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": guarded_inplacevar, "_apply_": guarded_apply, "_print_": PrintCollector,
    "_add_": guarded_add, "_mul_": guarded_mul, "_pow_": guarded_pow, "_lshift_": guarded_lshift,
    "_mod_": guarded_mod, "_format_": guarded_format, "_augitem_": guarded_augitem,
})
# Looked up as globals first: task data must not shadow them while a script runs.
HOOK_NAMES = frozenset(name for name in SCRIPT_BUILTINS if name.startswith("_")) | {STEP}
