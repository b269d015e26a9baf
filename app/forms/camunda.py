"""Inline `camunda:formData` fields turned into a form-js form, so one validator serves both kinds."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from app.forms.model import FormDefinitionError

CAMUNDA_FORM_KEY = "camunda:formData"
_COMPONENT_TYPES = {
    "string": "textfield",
    "long": "number",
    "boolean": "checkbox",
    "date": "datetime",
    "enum": "select",
}
_LENGTHS = {"minlength": "minLength", "maxlength": "maxLength"}
_NO_DEFAULT: Any = object()


def form_from_camunda_fields(
    fields: list[dict[str, Any]], form_id: str = "camunda-form-data"
) -> dict[str, Any]:
    """A form-js form dict equivalent to a user task's camunda:formField list.

    :raises FormDefinitionError: an unknown field type or constraint, or an unusable config/default.
    """
    if not isinstance(fields, list):
        raise FormDefinitionError("form fields must be a list", form_key=CAMUNDA_FORM_KEY)
    return {"type": "default", "id": form_id, "components": [_component(f) for f in fields]}


def _error(field: Mapping[str, Any], message: str) -> FormDefinitionError:
    return FormDefinitionError(message, form_key=CAMUNDA_FORM_KEY, component=repr(field.get("id")))


def _component(field: Any) -> dict[str, Any]:
    if not isinstance(field, Mapping) or not isinstance(field.get("id"), str) or not field["id"]:
        raise FormDefinitionError(f"a form field needs an 'id': {field!r}", form_key=CAMUNDA_FORM_KEY)
    kind = field.get("type")
    if kind not in _COMPONENT_TYPES:
        raise _error(field, f"unsupported field type {kind!r} (string, long, boolean, date, enum)")
    comp: dict[str, Any] = {
        "id": f"Field_{field['id']}",
        "key": field["id"],
        "type": _COMPONENT_TYPES[kind],
        "label": field.get("label") or field["id"],
    }
    if kind == "long":
        comp["decimalDigits"] = 0
    elif kind == "date":
        comp["subtype"] = "date"
    elif kind == "enum":
        comp["values"] = [_option(field, option) for option in field.get("options") or []]
    comp.update(_constraints(field))
    default = _default(field, kind)
    if default is not _NO_DEFAULT:
        comp["defaultValue"] = default
    return comp


def _option(field: Mapping[str, Any], option: Any) -> dict[str, Any]:
    if not isinstance(option, Mapping) or not isinstance(option.get("id"), str):
        raise _error(field, f"an enum option needs an 'id': {option!r}")
    return {"label": option.get("name") or option["id"], "value": option["id"]}


def _constraints(field: Mapping[str, Any]) -> dict[str, Any]:
    """`validate` and `readonly` entries for the component."""
    validate: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    for constraint in field.get("validation") or []:
        name = constraint.get("name") if isinstance(constraint, Mapping) else None
        config = constraint.get("config") if isinstance(constraint, Mapping) else None
        if name == "required":
            validate["required"] = True
        elif name == "readonly":
            extra["readonly"] = True
        elif name in _LENGTHS:
            validate[_LENGTHS[name]] = int(_decimal(field, name, config, integral=True))
        elif name in ("min", "max"):
            number = _decimal(field, name, config)
            validate[name] = int(number) if number == number.to_integral_value() else float(number)
        else:
            raise _error(field, f"unsupported constraint {name!r}")
    return {"validate": validate, **extra} if validate else extra


def _decimal(field: Mapping[str, Any], name: str, config: Any, integral: bool = False) -> Decimal:
    try:
        number = Decimal(str(config).strip())
    except InvalidOperation:
        raise _error(field, f"constraint {name!r} needs a number, not {config!r}") from None
    if not number.is_finite() or (integral and (number != number.to_integral_value() or number < 0)):
        raise _error(field, f"constraint {name!r} needs a {'non-negative integer' if integral else 'number'}")
    return number


def _default(field: Mapping[str, Any], kind: str) -> Any:
    value = field.get("default_value", field.get("defaultValue"))
    # Camunda evaluates ${...} defaults in the engine; they are not literal values we could check.
    if value is None or value == "" or (isinstance(value, str) and ("${" in value or "#{" in value)):
        return _NO_DEFAULT
    if kind == "boolean":
        if isinstance(value, bool) or str(value).strip().lower() in ("true", "false"):
            return value if isinstance(value, bool) else str(value).strip().lower() == "true"
        raise _error(field, f"default {value!r} is not true or false")
    if kind == "long":
        number = _decimal(field, "default_value", value)
        if number != number.to_integral_value():
            raise _error(field, f"default {value!r} is not a whole number")
        return int(number)
    return str(value)
