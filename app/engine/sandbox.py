"""Restricted Python for BPMN code: gateway conditions, script tasks, pre/post scripts, timer expressions.

SpiffWorkflow evaluates these with plain eval/exec, and BPMN files are uploaded by people. Use
`PythonScriptEngine(environment=RestrictedEnvironment(...))` instead of the default environment. Code is
compiled by RestrictedPython with `SandboxPolicy` (cached by source), runs with a curated `__builtins__`
and the helpers, and is stopped by a time limit and a step limit.

This protects against code that reads or writes what it should not, loops forever, or asks for one huge
result, and names the limit and the line. It cannot stop one long C-level call (`a.extend(map(abs, a))`,
a line of many `sorted()` calls): memory is only sampled every 10 ms (Linux) and time is checked between
Python steps. That is why it runs inside engine worker processes (app/engine/worker.py), where the
operating system limits address space and CPU time and a watchdog kills a step that overruns.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Iterator, Mapping
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from functools import lru_cache
from types import CodeType, FrameType, MappingProxyType, ModuleType
from typing import Any, NoReturn

from RestrictedPython import compile_restricted_eval, compile_restricted_exec
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .sandbox_guards import (
    HOOK_NAMES,
    SCRIPT_BUILTINS,
    STEP,
    SandboxPolicy,
    ScriptForbidden,
    ScriptLimitExceeded,
    guarded_ceil,
    guarded_floor,
)

__all__ = ["DEFAULT_HELPERS", "RestrictedEnvironment", "ScriptForbidden", "ScriptLimitExceeded",
           "check_expression", "check_script"]

# SpiffWorkflow finds the failing line of a script by looking for frames of this file name.
SCRIPT_FILENAME = "<string>"
MAX_SOURCE_LENGTH = 100_000
COMPILE_CACHE_SIZE = 4096
MEMORY_LIMIT = 256 * 2**20     # growth of resident memory during one call (the whole process is measured)
MEMORY_CHECK_INTERVAL = 0.01   # seconds; reading /proc costs ~10 us
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

DEFAULT_HELPERS: Mapping[str, Any] = MappingProxyType({
    "datetime": datetime, "date": date, "timedelta": timedelta, "timezone": timezone, "Decimal": Decimal,
    "floor": guarded_floor, "ceil": guarded_ceil,
})


@lru_cache(maxsize=COMPILE_CACHE_SIZE)
def _compile(source: str, mode: str) -> tuple[CodeType | None, tuple[str, ...]]:
    """(code, ()) or (None, errors). Cached: the same gateway condition is evaluated thousands of times."""
    if len(source) > MAX_SOURCE_LENGTH:
        return None, (f"the code is {len(source)} characters long (limit {MAX_SOURCE_LENGTH})",)
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    try:
        result = compiler(source, SCRIPT_FILENAME, policy=SandboxPolicy)
    except (RecursionError, MemoryError, ValueError) as exc:  # too deeply nested; NUL bytes
        return None, (f"cannot compile: {exc}",)
    errors = tuple(" ".join(e.split()) for e in result.errors)
    return (None, errors) if errors or result.code is None else (result.code, ())


def _source(source: Any, mode: str) -> str:
    if not isinstance(source, str):
        raise TypeError(f"expected source code as str, got {type(source).__name__}")
    return source.strip() if mode == "eval" else source  # eval() also ignores surrounding blanks


def _compiled(source: Any, mode: str) -> CodeType:
    """:raises ScriptForbidden: the code does not compile under the restrictions."""
    code, errors = _compile(_source(source, mode), mode)
    if code is None:
        raise ScriptForbidden("; ".join(errors), errors)
    return code


def check_expression(source: str) -> str | None:
    """None if `source` compiles as a restricted expression, else a one-line reason (deploy-time check)."""
    errors = _compile(_source(source, "eval"), "eval")[1]
    return "; ".join(errors) or None


def check_script(source: str) -> str | None:
    """None if `source` compiles as a restricted script, else a one-line reason (deploy-time check)."""
    errors = _compile(_source(source, "exec"), "exec")[1]
    return "; ".join(errors) or None


def _resident_bytes() -> int | None:
    """Resident memory of this process, or None where /proc is missing (then memory is not checked)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE_SIZE
    except (OSError, ValueError, IndexError):
        return None


class _Budget:
    """The time, steps and memory growth one evaluate/execute call may use.

    A step is a "line" trace event in script code, or a pass through a hook SandboxPolicy puts into loops,
    comprehensions, functions and handlers. Once a call is over budget every later check raises again, so
    catching ScriptLimitExceeded in the script does not help.
    """

    __slots__ = ("time_limit", "step_limit", "deadline", "steps", "exceeded", "next_memory_check",
                 "memory_baseline")

    def __init__(self, time_limit: float, step_limit: int) -> None:
        self.time_limit = time_limit
        self.step_limit = step_limit
        now = time.monotonic()
        self.deadline = now + time_limit
        self.steps = 0
        self.exceeded: str | None = None
        # Short calls never pay for reading /proc: the baseline is taken at the first check.
        self.next_memory_check = now + MEMORY_CHECK_INTERVAL
        self.memory_baseline: int | None = None

    def step(self) -> bool:
        """:raises ScriptLimitExceeded: over the step, time or memory limit."""
        if self.exceeded is not None:
            raise ScriptLimitExceeded(self.exceeded)
        self.steps += 1
        if self.steps > self.step_limit:
            self._exceed(f"step limit exceeded: more than {self.step_limit} steps")
        now = time.monotonic()
        if now > self.deadline:
            self._exceed(f"time limit exceeded: ran longer than {self.time_limit} s")
        if now >= self.next_memory_check:
            self._check_memory(now)
        return True

    def _check_memory(self, now: float) -> None:
        resident = _resident_bytes()
        self.next_memory_check = now + MEMORY_CHECK_INTERVAL if resident is not None else math.inf
        if resident is None or self.memory_baseline is None:
            self.memory_baseline = resident
        elif resident - self.memory_baseline > MEMORY_LIMIT:
            self._exceed(f"memory limit exceeded: grew by more than {MEMORY_LIMIT // 2**20} MB")

    def _exceed(self, message: str) -> NoReturn:
        self.exceeded = message
        raise ScriptLimitExceeded(message)

    def trace_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        # Only script frames are counted; our guards and the helpers run untraced.
        return self.trace_line if frame.f_code.co_filename == SCRIPT_FILENAME else None

    def trace_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.step()  # raising here makes CPython switch tracing off; the policy's hooks carry on
        return self.trace_line


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment that runs BPMN code under RestrictedPython with limits.

    Data semantics follow `TaskDataEnvironment`: expressions see helpers, external context and task data
    (data wins); scripts run with the task data as globals, and afterwards builtins, helpers, external
    context, callables and modules are removed from the data. One instance may serve many threads.
    """

    def __init__(self, helpers: Mapping[str, Any] | None = None, time_limit: float = 1.0,
                 step_limit: int = 200_000) -> None:
        merged = {**DEFAULT_HELPERS, **(helpers or {})}
        bad = [name for name in merged if not name.isidentifier() or name.startswith("_")]
        if bad:
            raise ValueError(f"helper names must be identifiers not starting with '_': {bad}")
        if time_limit <= 0 or step_limit <= 0:
            raise ValueError("time_limit and step_limit must be positive")
        super().__init__(merged)
        self.time_limit = time_limit
        self.step_limit = step_limit

    def evaluate(self, expression: str, context: dict[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        """The value of `expression` over the task data `context`.

        A lazy result (generator, map, ...) is turned into a list here, within the limits.

        :raises ScriptForbidden: the expression does not compile under the restrictions.
        :raises ScriptLimitExceeded: it ran out of time or steps, or asked for too large a result.
        """
        code = _compiled(expression, "eval")
        return self._run(code, {**self.globals, **(external_context or {}), **context}, materialize=True)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        """Run `script` with the task data `context` as its globals; variables it sets stay in the data.

        :raises ValueError: the task data has a key that is also a helper or external-context name.
        :raises ScriptForbidden: the script does not compile under the restrictions.
        :raises ScriptLimitExceeded: it ran out of time or steps, or asked for too large a result.
        """
        external_context = external_context or {}
        self.check_for_overwrite(context, external_context)
        code = _compiled(script, "exec")
        context.update(self.globals)
        context.update(external_context)
        try:
            self._run(code, context)
        finally:
            self._remove_injected(context, external_context)
        return True

    def check_for_overwrite(self, context: Mapping[str, Any], external_context: Mapping[str, Any]) -> None:
        """Fail clearly when task data would hide a helper (as TaskDataEnvironment does)."""
        clashes = sorted((set(self.globals) | set(external_context)) & set(context))
        if clashes:
            raise ValueError("You have task data that overwrites a predefined function(s). Please change the "
                             f"following variable or field name(s) to something else: {clashes}")

    def _run(self, code: CodeType, scope: dict[str, Any], materialize: bool = False) -> Any:
        budget = _Budget(self.time_limit, self.step_limit)
        shadowing = {} if HOOK_NAMES.isdisjoint(scope) else {n: scope.pop(n) for n in HOOK_NAMES if n in scope}
        builtins = SCRIPT_BUILTINS.copy()  # a dict; {**proxy} would be ten times slower
        builtins[STEP] = budget.step
        scope["__builtins__"] = builtins
        previous = sys.gettrace()
        sys.settrace(budget.trace_call)
        try:
            result = eval(code, scope)  # a RestrictedPython code object, with curated builtins
            # consumed later, a generator would run outside the limits (and trip an expired budget)
            return list(result) if materialize and isinstance(result, Iterator) else result
        finally:
            sys.settrace(previous)
            scope.update(shadowing)

    def _remove_injected(self, context: dict[str, Any], external_context: Mapping[str, Any]) -> None:
        for key in list(context):
            value = context[key]
            if (key == "__builtins__" or key in self.globals or key in external_context
                    or callable(value) or isinstance(value, ModuleType)):
                del context[key]
