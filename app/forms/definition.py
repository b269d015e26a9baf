"""Loading a form-js form (JSON) into a FormDefinition that can validate submissions."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

from app.forms.components import ComponentParser
from app.forms.model import FormDefinitionError, FormField, FormNode, iter_fields
from app.forms.schema import FormValidator

__all__ = ["FormDefinition", "FormDefinitionError", "FormField", "normalize_form_key", "parse_form"]

CAMUNDA_FORM_PREFIX = "camunda-forms:deployment:"
MAX_FORM_KEY_LENGTH = 255


@dataclass(frozen=True)
class FormDefinition:
    """A parsed form; `validate` checks submitted data against it."""

    id: str
    key: str
    fields: tuple[FormField, ...]
    raw: dict[str, Any] = field(repr=False, compare=False)
    nodes: tuple[FormNode, ...] = field(default=(), repr=False, compare=False)
    _validator: FormValidator = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Built once here so that each submission only pays for the load itself.
        object.__setattr__(self, "nodes", self.nodes or self.fields)
        object.__setattr__(self, "_validator", FormValidator(self.nodes))

    def validate(self, data: dict[str, Any], context: dict[str, Any] | None = None) -> dict[str, Any]:
        """Cleaned data: values typed, defaults applied, hidden fields and unknown keys dropped.

        `context` holds server-side values, usually the process data: option lists named by
        `valuesKey`, values of readonly/disabled fields, and variables a condition refers to that
        are not fields of the form.

        :raises app.errors.InvalidForm: messages keyed by field key ("deficiencies.0.material").
        """
        return self._validator.validate(data, {} if context is None else context)

    def field_keys(self) -> set[str]:
        """Dotted keys of the form's fields (a dynamiclist is one key; its row fields are not listed)."""
        return {f.key for f in self.fields}

    def get_field(self, key: str) -> FormField | None:
        """The field with this dotted key, or None."""
        return next((f for f in self.fields if f.key == key), None)


def normalize_form_key(form_key: str) -> str:
    """The file name a `camunda:formKey` refers to, e.g. "camunda-forms:deployment:a.form" -> "a.form".

    :raises FormDefinitionError: the key is empty or could leave the forms folder.
    """
    name = form_key.strip() if isinstance(form_key, str) else ""
    if name.startswith(CAMUNDA_FORM_PREFIX):
        name = name[len(CAMUNDA_FORM_PREFIX) :].strip()
    unsafe = (
        ".." in name or name.startswith(".") or any(ch in name for ch in "/\\:") or not name.isprintable()
    )
    if not name or unsafe or len(name) > MAX_FORM_KEY_LENGTH:
        raise FormDefinitionError(
            f"invalid form key {form_key!r}: expected a file name such as 'preview.form'"
        )
    return name


def load_json(text: str | bytes, key: str) -> Any:
    """Parse JSON text, naming the file and position on failure.

    :raises FormDefinitionError: not valid JSON.
    """
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise FormDefinitionError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", form_key=key
        ) from None
    except (ValueError, RecursionError) as exc:
        raise FormDefinitionError(f"invalid JSON: {exc}", form_key=key) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


def parse_form(raw: dict[str, Any] | str, key: str = "<inline>") -> FormDefinition:
    """Parse a form-js form given as a dict or JSON text; `key` names it in errors (the file name).

    :raises FormDefinitionError: bad JSON, unknown component type, unsupported FEEL, unsafe pattern...
    """
    data = load_json(raw, key) if isinstance(raw, str | bytes) else copy.deepcopy(raw)
    if not isinstance(data, dict):
        raise FormDefinitionError("a form must be a JSON object", form_key=key)
    if data.get("type", "default") != "default":
        raise FormDefinitionError(f"not a form-js form (type {data.get('type')!r})", form_key=key)
    if not isinstance(data.get("components"), list):
        raise FormDefinitionError("a form needs a 'components' list", form_key=key)
    nodes = ComponentParser(key).nodes(data["components"])
    fields = tuple(iter_fields(nodes))
    _check_keys(fields, key)
    return FormDefinition(id=str(data.get("id") or key), key=key, fields=fields, raw=data, nodes=nodes)


def _check_keys(fields: tuple[FormField, ...], form_key: str) -> None:
    """Each value needs its own place: no duplicate keys, and no key that is a prefix of another."""
    ordered = sorted(fields, key=lambda f: f.path)  # a key's extensions sort right after it
    for a, b in zip(ordered, ordered[1:], strict=False):
        if b.path[: len(a.path)] == a.path:
            problem = (
                f"duplicate key {a.key!r}" if a.path == b.path else f"key {a.key!r} clashes with {b.key!r}"
            )
            raise FormDefinitionError(problem, form_key=form_key, component=repr(a.id or a.key))
    for f in fields:
        if f.type == "dynamiclist":
            _check_keys(f.row_fields(), form_key)
