"""marshmallow fields for form-js components, with form-js semantics for empty values and `required`.

Every visible field reaches the schema (the validator fills absent ones with their empty value), so
`required` is checked here against emptiness rather than by marshmallow's "missing key" rule.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from contextvars import ContextVar
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation, localcontext
from types import MappingProxyType
from typing import Any

from marshmallow import ValidationError, fields, missing

from app.forms import messages as msg
from app.forms.feel import lookup
from app.forms.model import FormField
from app.forms.patterns import MAX_PATTERN_INPUT, PatternTimeout, full_match, is_email, is_phone

MAX_TEXT_LENGTH = 100_000  # applies when the form sets no maxLength
MAX_ITEMS = 1000  # checklist / taglist entries
MAX_NUMBER_TEXT = 40  # characters in a numeric string

# The validation context (usually process data) of the current `validate` call; a ContextVar keeps
# concurrent requests apart while the schema itself stays shared.
validation_context: ContextVar[Mapping[str, Any]] = ContextVar(
    "form_validation_context", default=MappingProxyType({})
)


class FormValue(fields.Field[Any]):
    """Base field: an empty value passes unless required; other values go to `_deserialize`."""

    required_message = msg.REQUIRED

    def __init__(self, spec: FormField, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.spec = spec

    def is_empty(self, value: Any) -> bool:
        return value is None or (isinstance(value, str) and not value.strip())

    def empty(self) -> Any:
        return None

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if value is not missing and self.is_empty(value):
            if self.spec.required:
                raise ValidationError(self.required_message)
            return self.empty()
        return super().deserialize(value, attr, data, **kwargs)


class Text(FormValue):
    """textfield / textarea: length, pattern (full match) and email/phone checks."""

    def empty(self) -> str:
        return ""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str):
            raise ValidationError(msg.NOT_TEXT)
        rules = self.spec.rules
        limit = MAX_TEXT_LENGTH if rules.max_length is None else rules.max_length
        if len(value) > limit:
            raise ValidationError(msg.TOO_LONG.format(n=limit))
        if rules.min_length is not None and len(value) < rules.min_length:
            raise ValidationError(msg.TOO_SHORT.format(n=rules.min_length))
        errors = self._format_errors(value)
        if errors:
            raise ValidationError(errors)
        return value

    def _format_errors(self, value: str) -> list[str]:
        rules = self.spec.rules
        if rules.pattern is None and rules.validation_type is None:
            return []
        if len(value) > MAX_PATTERN_INPUT:  # bounds regex backtracking time
            return [msg.TOO_LONG_TO_CHECK.format(n=MAX_PATTERN_INPUT)]
        errors = []
        if rules.pattern is not None:
            try:
                if not full_match(rules.pattern, value):
                    errors.append(msg.PATTERN)
            except PatternTimeout:
                errors.append(msg.PATTERN_TIMEOUT)
        if rules.validation_type == "email" and not is_email(value):
            errors.append(msg.EMAIL)
        if rules.validation_type == "phone" and not is_phone(value):
            errors.append(msg.PHONE)
        return errors


_NUMERIC = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def format_decimal(number: Decimal) -> str:
    """Plain notation without trailing zeros: Decimal("1E+2") -> "100"."""
    return format(number.normalize(), "f")


class Number(FormValue):
    """number: int, float or numeric string; min, max, decimalDigits, increment, serializeToString."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int | float | str:
        number, integral = self._parse(value)
        rules = self.spec.rules
        decimals = max(0, -int(number.normalize().as_tuple().exponent))
        errors = []
        if rules.min is not None and number < rules.min:
            errors.append(msg.TOO_SMALL.format(n=format_decimal(rules.min)))
        if rules.max is not None and number > rules.max:
            errors.append(msg.TOO_LARGE.format(n=format_decimal(rules.max)))
        if rules.decimal_digits is not None and decimals > rules.decimal_digits:
            errors.append(msg.DECIMALS.format(n=rules.decimal_digits))
        if rules.increment is not None and not _is_multiple(number, rules.increment):
            errors.append(msg.STEP.format(n=format_decimal(rules.increment)))
        if errors:
            raise ValidationError(errors)
        if rules.serialize_to_string:
            return format_decimal(number)
        if decimals == 0 and (integral or rules.decimal_digits == 0):
            return int(number)
        return float(number)

    @staticmethod
    def _parse(value: Any) -> tuple[Decimal, bool]:
        """The value as a Decimal, and whether it was written as an integer."""
        if isinstance(value, bool):  # bool is an int subclass, but True is not a number here
            raise ValidationError(msg.NOT_NUMBER)
        if isinstance(value, int):
            return Decimal(value), True
        if isinstance(value, float) and math.isfinite(value):
            return Decimal(repr(value)), False
        if isinstance(value, str):
            text = value.strip()
            if len(text) <= MAX_NUMBER_TEXT and _NUMERIC.fullmatch(text):
                return Decimal(text), "." not in text
        raise ValidationError(msg.NOT_NUMBER)


def _is_multiple(number: Decimal, step: Decimal) -> bool:
    with localcontext(prec=100):  # 40-digit inputs would overflow the default 28-digit precision
        try:
            return number % step == 0
        except InvalidOperation:
            return False


_TRUE_FALSE = {True: True, False: False, "true": True, "false": False}


class Checkbox(FormValue):
    """checkbox: a boolean; `required` means it must be ticked."""

    required_message = msg.MUST_CHECK

    def is_empty(self, value: Any) -> bool:
        return value is None or value is False or value == "" or value == "false"

    def empty(self) -> bool:
        return False

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        key = value.strip().lower() if isinstance(value, str) else value
        if not isinstance(key, bool | str) or key not in _TRUE_FALSE:
            raise ValidationError(msg.NOT_BOOL)
        return _TRUE_FALSE[key]


def option_key(value: Any) -> str | None:
    """A comparable key so that "1" matches an option 1 and "true" an option True."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    return None


def options_map(values: Any) -> dict[str, Any]:
    """Allowed values keyed by `option_key`, from a list of values or of {"label", "value"} dicts."""
    if not isinstance(values, list | tuple):
        return {}
    allowed: dict[str, Any] = {}
    for item in values:
        value = item.get("value") if isinstance(item, Mapping) else item
        key = option_key(value)
        if key is not None:
            allowed.setdefault(key, value)
    return allowed


def _shown(value: Any) -> str:
    """A short echo of a rejected value; containers are not repr'd (they may be huge)."""
    if value is None or isinstance(value, str | int | float | bool):
        return repr(value)[:40]
    return f"<{type(value).__name__}>"


class _Options(FormValue):
    def __init__(self, spec: FormField, **kwargs: Any) -> None:
        super().__init__(spec, **kwargs)
        self._static = options_map(spec.options) if spec.values_key is None else None

    def allowed(self) -> dict[str, Any]:
        if self._static is not None:
            return self._static
        key = self.spec.values_key or ""
        return options_map(lookup([validation_context.get()], tuple(key.split("."))))

    def not_allowed(self, allowed: dict[str, Any], bad: list[Any]) -> ValidationError:
        if not allowed:
            return ValidationError(msg.NO_OPTIONS)
        shown = ", ".join(_shown(v) for v in bad[:5])
        return ValidationError(f"{msg.NOT_ALLOWED}: {shown}")


class Choice(_Options):
    """radio / select: one allowed value, returned as the option's own value."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        allowed = self.allowed()
        key = option_key(value)
        if key is None or key not in allowed:
            raise self.not_allowed(allowed, [value])
        return allowed[key]


class MultiChoice(_Options):
    """checklist / taglist: a list of distinct allowed values."""

    def is_empty(self, value: Any) -> bool:
        return super().is_empty(value) or value == []

    def empty(self) -> list[Any]:
        return []

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValidationError(msg.NOT_LIST)
        if len(value) > MAX_ITEMS:
            raise ValidationError(msg.TOO_MANY_ITEMS.format(n=MAX_ITEMS))
        allowed = self.allowed()
        chosen: dict[str, Any] = {}
        bad = []
        for item in value:
            key = option_key(item)
            if key is None or key not in allowed:
                bad.append(item)
            else:
                chosen.setdefault(key, allowed[key])
        if bad:
            raise self.not_allowed(allowed, bad)
        return list(chosen.values())


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})?"
_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]" + _TIME)
_TIME_ONLY = re.compile(_TIME)


class Temporal(FormValue):
    """datetime: subtype date (YYYY-MM-DD), datetime (ISO 8601) or time; returns the ISO string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        subtype = self.spec.subtype or "date"
        text = value.strip() if isinstance(value, str) else ""
        try:
            if subtype == "time":
                if not _TIME_ONLY.fullmatch(text):
                    raise ValueError
                time.fromisoformat(text)
                return text
            if subtype == "datetime":
                if not _DATETIME.fullmatch(text):
                    raise ValueError
                self._check_not_past(datetime.fromisoformat(text))
                return text
            if not _DATE.fullmatch(text):
                raise ValueError
            self._check_not_past(date.fromisoformat(text))
            return text
        except ValueError as exc:
            message = {"time": msg.TIME, "datetime": msg.DATETIME}.get(subtype, msg.DATE)
            raise ValidationError(message) from exc

    def _check_not_past(self, moment: date | datetime) -> None:
        if not self.spec.rules.disallow_passed_dates:
            return
        if isinstance(moment, datetime):
            moment = moment.date() if moment.tzinfo is None else moment.astimezone().date()
        if moment < date.today():
            raise ValidationError(msg.PAST_DATE)


# Rows one dynamiclist may have, whatever its form says: 9 999 rows took 9.9 s to check and a 15 MB page.
MAX_ROWS = 200


class Rows(fields.List[Any]):
    """dynamiclist: a list of row objects; `validate.min`/`max` bound the number of rows."""

    def __init__(self, spec: FormField, row: fields.Field[Any], **kwargs: Any) -> None:
        super().__init__(row, **kwargs)
        self.spec = spec

    def deserialize(self, value: Any, attr: str | None = None, data: Any = None, **kwargs: Any) -> Any:
        if value is None:
            value = []
        return super().deserialize(value, attr, data, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> list[Any]:
        if not isinstance(value, list):
            raise ValidationError(msg.NOT_LIST)
        rules = self.spec.rules
        upper = MAX_ROWS if rules.max is None else min(int(rules.max), MAX_ROWS)
        if len(value) > upper:
            raise ValidationError(msg.MAX_ROWS.format(n=upper))
        if self.spec.required and not value:
            raise ValidationError(msg.REQUIRED)
        if rules.min is not None and len(value) < rules.min:
            raise ValidationError(msg.MIN_ROWS.format(n=int(rules.min)))
        return super()._deserialize(value, attr, data, **kwargs)
