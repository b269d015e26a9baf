"""The script engines SpiffWorkflow calls for every expression and script.

- `CaseScriptEngine` runs BPMN code in the restricted environment (app/engine/sandbox.py). It notes
  the element whose code is running (an engine worker publishes it, so a step killed by the operating
  system still names its element) and carries the cap on multi-instance loops. An expression written
  as `${...}` (app/engine/juel.py) that fails is named as written, not as the Python it runs as.
- `RefusingScriptEngine` is attached to every workflow the web or scheduler process deserializes to read
  it: it refuses to evaluate anything, so designer code can never run there by accident.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .juel import original
from .sandbox import RestrictedEnvironment, ScriptForbidden

DEFAULT_MAX_LOOP_INSTANCES = 200


class CaseScriptEngine(PythonScriptEngine):
    """PythonScriptEngine over a `RestrictedEnvironment`, noting the running element."""

    def __init__(self, environment: RestrictedEnvironment, max_loop_instances: int = DEFAULT_MAX_LOOP_INSTANCES,
                 on_element: Callable[[str], None] | None = None) -> None:
        super().__init__(environment=environment)
        self.max_loop_instances = max_loop_instances
        self._on_element = on_element

    def _at(self, task: Any) -> None:
        if self._on_element is not None:
            spec = getattr(task, "task_spec", None)
            self._on_element(getattr(spec, "bpmn_id", None) or getattr(spec, "name", "") or "")

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        self._at(task)
        try:
            return super().evaluate(task, expression, external_context)
        except WorkflowTaskException as exc:
            written, cause = original(expression), exc.__context__
            if written is None or cause is None:
                raise
            # name the expression as the designer wrote it (`${...}`), not the Python it runs as
            raise WorkflowTaskException(f"Error evaluating expression '{written}'", task=task,
                                        exception=cause) from cause

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> Any:
        self._at(task)
        return super().execute(task, script, external_context)


class _Refusing(BasePythonScriptEngineEnvironment):
    MESSAGE = "BPMN code runs only in the engine workers, never in the web or scheduler process"

    def __init__(self, names: frozenset[str]) -> None:
        super().__init__({name: None for name in names})

    def evaluate(self, expression: str, context: Any, external_context: Any = None) -> Any:
        raise ScriptForbidden(self.MESSAGE)

    def execute(self, script: str, context: Any, external_context: Any = None) -> Any:
        raise ScriptForbidden(self.MESSAGE)

    def call_service(self, context: Any, **kwargs: Any) -> Any:
        raise ScriptForbidden(self.MESSAGE)


class RefusingScriptEngine(PythonScriptEngine):
    """For workflows that are only read: every evaluate/execute raises `ScriptForbidden`."""

    def __init__(self, names: frozenset[str] = frozenset()) -> None:
        super().__init__(environment=_Refusing(names))
