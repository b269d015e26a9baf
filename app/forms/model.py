"""The typed model of a parsed form-js form: its data fields and groups."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.forms.feel import Condition


class FormDefinitionError(ValueError):
    """A form file is unreadable or malformed; the message names the file and the component."""

    def __init__(self, message: str, *, form_key: str | None = None, component: str | None = None) -> None:
        where = ": ".join(
            part for part in (form_key, f"component {component}" if component else None) if part
        )
        super().__init__(f"{where}: {message}" if where else message)
        self.form_key = form_key
        self.component = component
        self.reason = message


@dataclass(frozen=True)
class FieldRules:
    """Constraints on a field's value, from `validate` and from type-specific properties."""

    min_length: int | None = None
    max_length: int | None = None
    pattern: Any = None  # a compiled `regex` pattern (forms.patterns), matched with a time limit
    min: Decimal | None = None  # numbers: the value; dynamiclist: the number of rows
    max: Decimal | None = None
    validation_type: str | None = None  # "email" | "phone"
    decimal_digits: int | None = None
    increment: Decimal | None = None
    serialize_to_string: bool = False
    disallow_passed_dates: bool = False


@dataclass(frozen=True)
class FormField:
    """One component that carries data; `key` is its dotted path inside its form or dynamiclist row."""

    key: str
    type: str
    label: str = ""
    required: bool = False
    id: str = ""
    default: Any = field(default=None, hash=False)  # may be a list
    has_default: bool = False
    readonly: bool = False
    disabled: bool = False
    hide: Condition | None = None
    options: tuple[Any, ...] | None = None  # static allowed values, in form order
    values_key: str | None = None  # allowed values come from the validation context instead
    subtype: str | None = None  # datetime: "date" | "datetime" | "time"
    rules: FieldRules = field(default_factory=FieldRules)
    children: tuple[FormNode, ...] = ()  # dynamiclist: the components of one row

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.key.split("."))

    @property
    def ignores_input(self) -> bool:
        """Readonly and disabled fields take their value from the server, never from the client."""
        return self.readonly or self.disabled

    def row_fields(self) -> tuple[FormField, ...]:
        """The data fields of one dynamiclist row (empty for other types)."""
        return tuple(iter_fields(self.children))


@dataclass(frozen=True)
class FormGroup:
    """A group component: lays out children; with a path, the children's values nest under it."""

    id: str
    path: tuple[str, ...] = ()
    hide: Condition | None = None
    children: tuple[FormNode, ...] = ()


FormNode = FormField | FormGroup


def iter_fields(nodes: tuple[FormNode, ...]) -> Iterator[FormField]:
    """Data fields of a container (form or row) in document order, looking through groups."""
    for node in nodes:
        if isinstance(node, FormGroup):
            yield from iter_fields(node.children)
        else:
            yield node
