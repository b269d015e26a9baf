"""A marshmallow schema built from a parsed form, and the validator that runs submissions through it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from app.errors import InvalidForm
from app.forms import messages as msg
from app.forms.fields import (
    Checkbox,
    Choice,
    FormValue,
    MultiChoice,
    Number,
    Rows,
    Temporal,
    Text,
    validation_context,
)
from app.forms.model import FormField, FormNode, iter_fields
from app.forms.prepare import apply_hide, fill

FORM_ERROR_KEY = "_form"  # field_errors key for problems with the data as a whole

FIELD_CLASSES: dict[str, type[FormValue]] = {
    "textfield": Text,
    "textarea": Text,
    "number": Number,
    "checkbox": Checkbox,
    "radio": Choice,
    "select": Choice,
    "checklist": MultiChoice,
    "taglist": MultiChoice,
    "datetime": Temporal,
}


class FormSchema(Schema):
    """Base of generated schemas: keys that are not fields are dropped, not errors (forms evolve)."""

    class Meta:
        unknown = EXCLUDE

    error_messages = {"type": msg.NOT_OBJECT}


def build_schema(nodes: tuple[FormNode, ...], name: str = "FormSchema") -> type[Schema]:
    """A schema class for one container (form or dynamiclist row); dotted keys become Nested levels."""
    tree: dict[str, Any] = {}
    for field in iter_fields(nodes):
        level = tree
        for part in field.path[:-1]:
            level = level.setdefault(part, {})
        level[field.path[-1]] = field
    return _schema_from_tree(tree, name)


def _schema_from_tree(tree: dict[str, Any], name: str) -> type[Schema]:
    declared: dict[str, fields.Field[Any]] = {}
    for index, (key, item) in enumerate(tree.items()):
        # Generated attribute names, because a key such as "load" or "fields" would shadow Schema
        # members; data_key and attribute keep the form's own key on the way in and out.
        if isinstance(item, dict):
            nested = _schema_from_tree(item, f"{name}.{key}")
            declared[f"f{index}"] = fields.Nested(nested, data_key=key, attribute=key)
        else:
            declared[f"f{index}"] = _field(item, f"{name}.{key}", key)
    return FormSchema.from_dict(declared, name=name)


def _field(spec: FormField, name: str, key: str) -> fields.Field[Any]:
    if spec.type == "dynamiclist":
        row = fields.Nested(build_schema(spec.children, f"{name}[]"))
        return Rows(spec, row, data_key=key, attribute=key)
    return FIELD_CLASSES[spec.type](spec, data_key=key, attribute=key)


def flatten_errors(
    messages: Any, prefix: str = "", out: dict[str, list[str]] | None = None
) -> dict[str, list[str]]:
    """marshmallow's nested messages as {"deficiencies.0.material": [...]}."""
    out = {} if out is None else out
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            path = prefix if key == "_schema" else (f"{prefix}.{key}" if prefix else str(key))
            flatten_errors(value, path, out)
    elif isinstance(messages, list):
        for item in messages:
            flatten_errors(item, prefix, out)
    else:
        out.setdefault(prefix or FORM_ERROR_KEY, []).append(str(messages))
    return out


class FormValidator:
    """Validates submissions against one form; built once per form and safe to share across threads."""

    def __init__(self, nodes: tuple[FormNode, ...]) -> None:
        self._nodes = nodes
        self._schema = build_schema(nodes)()

    def validate(self, data: Any, context: Mapping[str, Any]) -> dict[str, Any]:
        """Cleaned data for a submission.

        :raises app.errors.InvalidForm: with messages keyed by dotted field path.
        """
        if not isinstance(data, Mapping):
            raise InvalidForm({FORM_ERROR_KEY: [msg.NOT_FORM_DATA]})
        if not isinstance(context, Mapping):
            raise TypeError("context must be a mapping")
        prepared = fill(self._nodes, data, context)
        apply_hide(self._nodes, prepared, [prepared, context])
        token = validation_context.set(context)
        try:
            return cast(dict[str, Any], self._schema.load(prepared))
        except ValidationError as exc:
            raise InvalidForm(flatten_errors(exc.messages)) from None
        finally:
            validation_context.reset(token)
