"""What a rendered form is made of: options, outcome buttons, fields, dynamiclist rows, the form."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    selected: bool = False


@dataclass(frozen=True)
class Outcome:
    """One outcome button: `<button name=key value=value>label</button>`."""

    key: str
    value: str
    label: str
    style: str = ""  # "primary" | "danger" | ""


@dataclass
class FieldView:
    """One rendered component; `kind` is the form-js type."""

    kind: str
    id: str
    name: str = ""  # HTML name
    key: str = ""  # error key
    label: str = ""
    description: str = ""
    required: bool = False
    readonly: bool = False
    value: Any = None  # str for inputs, bool for checkbox, list[str] for multi
    options: list[Option] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    hide: str | None = None  # the FEEL source, for formjs.js
    outcome_dependent: bool = False  # the condition names an outcome field: the button decides
    applies_to: str = ""  # e.g. "Only when you choose “需补正”"
    subtype: str | None = None
    attrs: dict[str, Any] = field(default_factory=dict)
    children: list[FieldView] = field(default_factory=list)  # group
    rows: list[RowView] = field(default_factory=list)  # dynamiclist
    can_add: bool = False
    html: Markup | None = None  # text component

    @property
    def described_by(self) -> str:
        ids = ([f"{self.id}-hint"] if self.description or self.applies_to else []) \
            + ([f"{self.id}-error"] if self.errors else [])
        return " ".join(ids)


@dataclass
class RowView:
    index: int
    prefix: str  # HTML name prefix of the row's fields, "deficiencies-0-"
    children: list[FieldView]
    removable: bool = False


@dataclass
class FormView:
    id: str
    fields: list[FieldView]
    outcomes: list[Outcome]
    outcome_key: str | None
    outcome_label: str
    outcome_errors: list[str]
    summary: list[tuple[str, str, str]]  # (label, message, anchor id), for the error summary
    form_errors: list[str]  # problems with the data as a whole ("_form")
    outcome_chosen: str = ""  # the label of the outcome in `values`, if any

    @property
    def has_errors(self) -> bool:
        return bool(self.summary or self.form_errors)
