"""Parsing form-js component dicts into FormField / FormGroup nodes, rejecting what we cannot enforce."""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from app.forms.feel import Condition, FeelError, parse_condition
from app.forms.fields import MAX_ROWS
from app.forms.model import FieldRules, FormDefinitionError, FormField, FormGroup, FormNode
from app.forms.patterns import UnsafePattern, compile_pattern

TEXT_TYPES = {"textfield", "textarea"}
OPTION_TYPES = {"checklist", "radio", "select", "taglist"}
DATA_TYPES = TEXT_TYPES | OPTION_TYPES | {"number", "checkbox", "datetime"}
# Layout and display components: they may carry a condition but never data.
NO_DATA_TYPES = {
    "text",
    "html",
    "image",
    "spacer",
    "separator",
    "button",
    "iframe",
    "table",
    "documentPreview",
}
DATETIME_SUBTYPES = {"date", "time", "datetime"}
MAX_NESTING = 20
MAX_KEY_LENGTH = 200


def _describe(comp: dict[str, Any]) -> str:
    name = comp.get("id") or comp.get("key") or comp.get("path") or "?"
    extras = [f"{attr} {comp[attr]!r}" for attr in ("key", "type") if isinstance(comp.get(attr), str)]
    return f"{name!r}" + (f" ({', '.join(extras)})" if extras else "")


class ComponentParser:
    """Turns the `components` lists of one form into nodes; errors name the form and component."""

    def __init__(self, form_key: str) -> None:
        self.form_key = form_key

    def error(self, comp: dict[str, Any], message: str) -> FormDefinitionError:
        return FormDefinitionError(message, form_key=self.form_key, component=_describe(comp))

    def nodes(self, components: Any, prefix: tuple[str, ...] = (), depth: int = 0) -> tuple[FormNode, ...]:
        """Parse a `components` list; `prefix` is the path of enclosing groups within the container.

        :raises FormDefinitionError: a component is malformed or unsupported.
        """
        if not isinstance(components, list):
            raise FormDefinitionError("'components' must be a list", form_key=self.form_key)
        if depth > MAX_NESTING:
            raise FormDefinitionError(
                f"components nested more than {MAX_NESTING} deep", form_key=self.form_key
            )
        nodes = []
        for index, comp in enumerate(components):
            if not isinstance(comp, dict):
                raise FormDefinitionError(f"component #{index} is not an object", form_key=self.form_key)
            node = self._node(comp, prefix, depth)
            if node is not None:
                nodes.append(node)
        return tuple(nodes)

    def _node(self, comp: dict[str, Any], prefix: tuple[str, ...], depth: int) -> FormNode | None:
        kind = comp.get("type")
        hide = self._condition(comp)
        if kind in NO_DATA_TYPES:
            return None
        if kind == "group":
            own = self._path(comp, "path") if comp.get("path") else ()
            children = self.nodes(comp.get("components", []), prefix + own, depth + 1)
            return FormGroup(str(comp.get("id") or ""), prefix + own if own else (), hide, children)
        if kind == "dynamiclist":
            return self._dynamiclist(comp, prefix, hide, depth)
        if kind in DATA_TYPES:
            return self._field(comp, prefix, hide)
        raise self.error(comp, f"unknown component type {kind!r}")

    def _dynamiclist(
        self, comp: dict[str, Any], prefix: tuple[str, ...], hide: Condition | None, depth: int
    ) -> FormField:
        validate = self._mapping(comp, "validate")
        low, high = self._count(comp, validate, "min"), self._count(comp, validate, "max")
        if low is not None and low > MAX_ROWS:
            raise self.error(comp, f"'validate.min' is more than the {MAX_ROWS} rows a list may have")
        # The cap is the list's maximum, so the page offers no row beyond it either.
        rules = FieldRules(
            min=None if low is None else Decimal(low),
            max=Decimal(MAX_ROWS if high is None else min(high, MAX_ROWS)),
        )
        return FormField(
            **self._common(comp, prefix + self._path(comp, "path"), validate, hide),
            rules=rules,
            children=self.nodes(comp.get("components", []), (), depth + 1),  # keys are row-relative
        )

    def _field(self, comp: dict[str, Any], prefix: tuple[str, ...], hide: Condition | None) -> FormField:
        validate = self._mapping(comp, "validate")
        kind = comp["type"]
        options, values_key = self._options(comp) if kind in OPTION_TYPES else (None, None)
        subtype = self._subtype(comp) if kind == "datetime" else None
        return FormField(
            **self._common(comp, prefix + self._path(comp, "key"), validate, hide),
            options=options,
            values_key=values_key,
            subtype=subtype,
            rules=self._rules(comp, validate),
        )

    def _common(
        self, comp: dict[str, Any], path: tuple[str, ...], validate: dict[str, Any], hide: Condition | None
    ) -> dict[str, Any]:
        return {
            "key": ".".join(path),
            "type": comp["type"],
            "label": comp.get("label") if isinstance(comp.get("label"), str) else "",
            "required": self._flag(comp, validate, "required"),
            "id": str(comp.get("id") or ""),
            "default": comp.get("defaultValue"),
            "has_default": "defaultValue" in comp,
            "readonly": self._flag(comp, comp, "readonly"),
            "disabled": self._flag(comp, comp, "disabled"),
            "hide": hide,
        }

    def _rules(self, comp: dict[str, Any], validate: dict[str, Any]) -> FieldRules:
        kind = comp["type"]
        if kind in TEXT_TYPES:
            return FieldRules(
                min_length=self._count(comp, validate, "minLength"),
                max_length=self._count(comp, validate, "maxLength"),
                pattern=self._pattern(comp, validate),
                validation_type=self._validation_type(comp, validate),
            )
        if kind == "number":
            increment = self._number(comp, comp, "increment")
            if increment is not None and increment <= 0:
                raise self.error(comp, "'increment' must be positive")
            return FieldRules(
                min=self._number(comp, validate, "min"),
                max=self._number(comp, validate, "max"),
                decimal_digits=self._count(comp, comp, "decimalDigits"),
                increment=increment,
                serialize_to_string=self._flag(comp, comp, "serializeToString"),
            )
        if kind == "datetime":
            return FieldRules(disallow_passed_dates=self._flag(comp, comp, "disallowPassedDates"))
        return FieldRules()

    # -- single properties -------------------------------------------------------------------

    def _condition(self, comp: dict[str, Any]) -> Condition | None:
        conditional = comp.get("conditional")
        if conditional is None:
            return None
        if not isinstance(conditional, dict):
            raise self.error(comp, "'conditional' must be an object")
        hide = conditional.get("hide")
        if hide is None or (isinstance(hide, str) and not hide.strip()):
            return None
        if not isinstance(hide, str):
            raise self.error(comp, "'conditional.hide' must be a FEEL expression string")
        try:
            return parse_condition(hide)
        except FeelError as exc:
            raise self.error(comp, f"unsupported FEEL in conditional.hide {hide!r}: {exc}") from None

    def _path(self, comp: dict[str, Any], attr: str) -> tuple[str, ...]:
        value = comp.get(attr)
        if not isinstance(value, str) or not value.strip():
            raise self.error(comp, f"missing '{attr}'")
        parts = tuple(value.split("."))
        if len(value) > MAX_KEY_LENGTH or any(not p or p != p.strip() or p == "_schema" for p in parts):
            raise self.error(comp, f"invalid {attr} {value!r}")
        return parts

    def _mapping(self, comp: dict[str, Any], attr: str) -> dict[str, Any]:
        value = comp.get(attr)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(comp, f"'{attr}' must be an object")
        return value

    def _flag(self, comp: dict[str, Any], source: dict[str, Any], attr: str) -> bool:
        value = source.get(attr, False)
        if value is None or isinstance(value, bool):
            return bool(value)
        # form-js also allows FEEL here; we cannot evaluate it safely on the server, so we refuse.
        raise self.error(comp, f"'{attr}' must be true or false (expressions are not supported)")

    def _count(self, comp: dict[str, Any], source: dict[str, Any], attr: str) -> int | None:
        value = source.get(attr)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(comp, f"'{attr}' must be a non-negative integer")
        return value

    def _number(self, comp: dict[str, Any], source: dict[str, Any], attr: str) -> Decimal | None:
        value = source.get(attr)
        if value is None or value == "":
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            raise self.error(comp, f"'{attr}' must be a number")
        if isinstance(value, float) and not math.isfinite(value):
            raise self.error(comp, f"'{attr}' must be a finite number")
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            raise self.error(comp, f"'{attr}' must be a number") from None
        if not number.is_finite():
            raise self.error(comp, f"'{attr}' must be a finite number")
        return number

    def _pattern(self, comp: dict[str, Any], validate: dict[str, Any]) -> Any:
        pattern = validate.get("pattern")
        if pattern is None or pattern == "":
            return None
        if not isinstance(pattern, str):
            raise self.error(comp, "'validate.pattern' must be a string")
        try:
            return compile_pattern(pattern)
        except UnsafePattern as exc:
            raise self.error(comp, f"validate.pattern: {exc}") from None

    def _validation_type(self, comp: dict[str, Any], validate: dict[str, Any]) -> str | None:
        value = validate.get("validationType")
        if value in (None, "", "custom"):
            return None
        if value not in ("email", "phone"):
            raise self.error(comp, f"unknown validationType {value!r} (email or phone)")
        return str(value)

    def _subtype(self, comp: dict[str, Any]) -> str:
        subtype = comp.get("subtype") or "date"
        if subtype not in DATETIME_SUBTYPES:
            raise self.error(comp, f"unknown datetime subtype {subtype!r}")
        return str(subtype)

    def _options(self, comp: dict[str, Any]) -> tuple[tuple[Any, ...] | None, str | None]:
        """Static values, or the context key that will hold them at validation time."""
        if comp.get("valuesKey"):
            return None, ".".join(self._path(comp, "valuesKey"))
        expression = comp.get("valuesExpression")
        if expression:
            # Only a bare variable (`=countries`) is supported: it means the same as valuesKey.
            name = (
                expression[1:].strip() if isinstance(expression, str) and expression.startswith("=") else ""
            )
            if not name or not all(part.isidentifier() for part in name.split(".")):
                raise self.error(comp, f"unsupported valuesExpression {expression!r} (only =variable)")
            return None, name
        values = comp.get("values")
        if not isinstance(values, list):
            raise self.error(comp, "needs 'values', 'valuesKey' or 'valuesExpression'")
        allowed = []
        for option in values:
            value = option.get("value") if isinstance(option, dict) else None
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise self.error(comp, f"option {option!r} needs a string or number 'value'")
            allowed.append(value)
        return tuple(allowed), None
