"""Building a `FormView` from a form-js form, its values and its field errors; outcome buttons;
the small Markdown of text components; a completed form's answers as label/value pairs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from flask_babel import gettext as _
from markupsafe import Markup, escape

from app.forms import FormDefinition, FormField
from app.forms.feel import Condition, lookup
from app.forms.fields import option_key

from .messages import localized
from .model import FieldView, FormView, Option, Outcome, RowView

_DANGER = {"refuse", "reject", "deny"}


def outcome_fields(form: FormDefinition) -> list[dict[str, Any]]:
    """The raw components marked as outcomes (radio/select with properties.outcome = "true")."""
    found: list[dict[str, Any]] = []

    def walk(components: Any) -> None:
        for comp in components if isinstance(components, list) else []:
            if not isinstance(comp, dict):
                continue
            props = comp.get("properties") if isinstance(comp.get("properties"), dict) else {}
            if comp.get("type") in ("radio", "select") and str(props.get("outcome", "")).lower() == "true":
                found.append(comp)
            elif comp.get("type") == "group":
                walk(comp.get("components"))

    walk(form.raw.get("components"))
    return found


def outcome_buttons(form: FormDefinition, context: Mapping[str, Any] | None = None) -> list[Outcome]:
    """The buttons of the form's outcome field (the first one marked), in form order."""
    comps = outcome_fields(form)
    if not comps:
        return []
    comp = comps[0]
    spec = form.get_field(str(comp.get("key", "")))
    if spec is None:
        return []
    options = _options(spec, comp, context or {}, None)
    return [Outcome(spec.key, o.value, o.label, "danger" if o.value in _DANGER else ("primary" if i == 0 else ""))
            for i, o in enumerate(options)]


def _options(spec: FormField, comp: Mapping[str, Any], context: Mapping[str, Any], value: Any) -> list[Option]:
    if spec.values_key:
        raw = lookup([context], tuple(spec.values_key.split(".")))
    else:
        raw = comp.get("values")
    chosen = {option_key(v) for v in (value if isinstance(value, list) else [value]) if v is not None}
    options = []
    for item in raw if isinstance(raw, list | tuple) else []:
        value_ = item.get("value") if isinstance(item, Mapping) else item
        label = item.get("label") if isinstance(item, Mapping) else None
        key = option_key(value_)
        if key is not None:
            options.append(Option(key, str(label if label not in (None, "") else value_), key in chosen))
    return options


def form_view(form: FormDefinition, values: Mapping[str, Any] | None = None,
              errors: Mapping[str, list[str]] | None = None, context: Mapping[str, Any] | None = None
              ) -> FormView:
    """What `render_form` shows: every component with its value and its error messages.

    `values`: nested data to show (a failed submission, or the process data to prefill);
    `errors`: `InvalidForm.field_errors`; `context`: server-side values (valuesKey options).
    """
    builder = _Builder(form, values or {}, errors or {}, context or {})
    fields = builder.nodes(form.raw.get("components"), (), "", "", [])
    outcome_key = builder.outcome_key
    outcome = outcome_fields(form)
    return FormView(
        id=_html_id(form.id or form.key), fields=fields,
        outcomes=outcome_buttons(form, context), outcome_key=outcome_key,
        outcome_label=str(outcome[0].get("label") or "") if outcome else "",
        outcome_errors=[localized(m) for m in builder.errors.get(outcome_key or "", [])],
        summary=builder.summary,
        form_errors=[localized(m) for m in builder.errors.get("_form", [])],
        outcome_chosen=next((o.label for o in outcome_buttons(form, context)
                             if outcome_key and option_key((values or {}).get(outcome_key)) == o.value), ""),
    )


class _Builder:
    def __init__(self, form: FormDefinition, values: Mapping[str, Any], errors: Mapping[str, list[str]],
                 context: Mapping[str, Any]) -> None:
        self.form = form
        self.values = values
        self.errors = errors
        self.context = context
        outcomes = outcome_fields(form)
        self.outcome_key = str(outcomes[0].get("key")) if outcomes else None
        self.outcome_labels = {o.value: o.label for o in outcome_buttons(form, context)}
        self.summary: list[tuple[str, str, str]] = []
        self.seen_ids: set[str] = set()

    def nodes(self, components: Any, path: tuple[str, ...], name_prefix: str, key_prefix: str,
              specs: list[FormField]) -> list[FieldView]:
        """`path`: enclosing group path inside the container; `specs`: the row's fields, [] at top."""
        out = []
        for index, comp in enumerate(components if isinstance(components, list) else []):
            if isinstance(comp, dict):
                view = self.node(comp, index, path, name_prefix, key_prefix, specs)
                if view is not None:
                    out.append(view)
        return out

    def node(self, comp: dict[str, Any], index: int, path: tuple[str, ...], name_prefix: str,
             key_prefix: str, specs: list[FormField]) -> FieldView | None:
        kind = str(comp.get("type", ""))
        base = self.unique_id(name_prefix + str(comp.get("key") or comp.get("path") or comp.get("id") or
                                                 f"{kind}{index}"))
        hide = self.hide_info(comp)
        if kind == "text":
            return FieldView(kind, base, html=markdown(str(comp.get("text", ""))), **hide)
        if kind in ("spacer", "separator"):
            return FieldView(kind, base, **hide)
        if kind == "button":
            return FieldView(kind, base, label=str(comp.get("label") or _("Submit")),
                             attrs={"action": comp.get("action", "submit")}, **hide)
        if kind == "group":
            own = tuple(str(comp["path"]).split(".")) if comp.get("path") else ()
            return FieldView(kind, base, label=str(comp.get("label") or ""), attrs={
                "outline": bool(comp.get("showOutline"))}, **hide,
                children=self.nodes(comp.get("components"), path + own, name_prefix, key_prefix, specs))
        dotted = ".".join(path + tuple(str(comp.get("path") if kind == "dynamiclist" else comp.get("key", ""))
                                       .split(".")))
        spec = next((f for f in specs if f.key == dotted), None) if specs else self.form.get_field(dotted)
        if spec is None:  # html, image, iframe, table...: display-only components we do not render
            return None
        if spec.key == self.outcome_key and not specs:
            return None  # shown as the outcome buttons
        self.seen_ids.discard(base)
        view = FieldView(kind, self.unique_id(name_prefix + dotted), name=name_prefix + dotted, key=key_prefix + dotted,
                         label=str(comp.get("label") or comp.get("dateLabel") or comp.get("timeLabel") or ""),
                         description=str(comp.get("description") or ""),
                         required=spec.required or (kind == "dynamiclist" and (spec.rules.min or 0) >= 1),
                         readonly=spec.ignores_input, subtype=spec.subtype, **hide)
        view.errors = [localized(m) for m in self.errors.get(view.key, [])]
        for message in view.errors:
            self.summary.append((view.label or view.name, message, view.id))
        value = self.value(key_prefix, dotted)
        if kind == "dynamiclist":
            self.dynamiclist(view, comp, spec, value)
        else:
            self.input(view, comp, spec, value)
        return view

    def input(self, view: FieldView, comp: dict[str, Any], spec: FormField, value: Any) -> None:
        if spec.type in ("radio", "select", "checklist", "taglist"):
            view.options = _options(spec, comp, self.context, value)
            known = {o.value for o in view.options}
            for missing in (value if isinstance(value, list) else [value]):
                key = option_key(missing)
                if key is not None and key != "" and key not in known:  # keep showing what was there
                    view.options.append(Option(key, str(missing), True))
            view.value = [o.value for o in view.options if o.selected]
        elif spec.type == "checkbox":
            view.value = value is True or (isinstance(value, str) and value.lower() in ("true", "on", "1"))
        else:
            view.value = _text(value)
        rules = spec.rules
        if rules.max_length is not None:
            view.attrs["maxlength"] = rules.max_length
        if spec.type == "number":
            view.attrs["inputmode"] = "decimal" if rules.decimal_digits != 0 else "numeric"
        if spec.type == "datetime":
            view.attrs["input_type"] = {"date": "date", "time": "time"}.get(spec.subtype or "date", "datetime-local")

    def dynamiclist(self, view: FieldView, comp: dict[str, Any], spec: FormField, value: Any) -> None:
        rows = [r if isinstance(r, Mapping) else {} for r in value] if isinstance(value, list) else []
        addable = bool(comp.get("allowAddRemove", True)) and not spec.ignores_input
        high = int(spec.rules.max) if spec.rules.max is not None else None
        if high is not None:
            rows = rows[:high]  # never render more rows than a list may have (a posted 9 999 rows, say)
        if addable and (high is None or len(rows) < high):
            rows.append({})  # the spare row: fill it in, or leave it empty (empty rows are dropped)
            view.attrs["spare"] = True
        elif not rows:
            rows = [{} for _ in range(max(int(comp.get("defaultRepetitions") or 1), 1))]
        view.can_add = addable and (high is None or len(rows) < high)
        saved = self.values
        row_specs = list(spec.row_fields())
        for i, row in enumerate(rows):
            self.values = {**saved, "__row__": row}
            prefix = f"{view.name}-{i}-"
            children = self.nodes(comp.get("components"), (), prefix, f"{view.key}.{i}.", row_specs)
            view.rows.append(RowView(i, prefix, children, removable=addable and len(rows) > 1))
        self.values = saved

    def value(self, key_prefix: str, dotted: str) -> Any:
        source: Any = self.values.get("__row__", {}) if key_prefix else self.values
        for part in dotted.split("."):
            if not isinstance(source, Mapping) or part not in source:
                return None
            source = source[part]
        return source

    def hide_info(self, comp: dict[str, Any]) -> dict[str, Any]:
        conditional = comp.get("conditional") if isinstance(comp.get("conditional"), dict) else {}
        source = conditional.get("hide") if isinstance(conditional.get("hide"), str) else None
        if not source or not source.strip():
            return {}
        names = _condition_names(source)
        dependent = bool(self.outcome_key) and any(n.split(".")[0] == self.outcome_key for n in names)
        return {"hide": source, "outcome_dependent": dependent,
                "applies_to": self.applies_to(source) if dependent else ""}

    def applies_to(self, source: str) -> str:
        match = re.fullmatch(r'\s*=\s*(\w+)\s*(!=|=)\s*"([^"]*)"\s*', source)
        if not match or match.group(1) != self.outcome_key:
            return _("Needed only for some outcomes.")
        label = self.outcome_labels.get(match.group(3), match.group(3))
        if match.group(2) == "!=":
            return _("Needed only when you choose “%(outcome)s”.", outcome=label)
        return _("Not needed when you choose “%(outcome)s”.", outcome=label)

    def unique_id(self, raw: str) -> str:
        base = "f-" + _html_id(raw)
        candidate, n = base, 2
        while candidate in self.seen_ids:
            candidate, n = f"{base}-{n}", n + 1
        self.seen_ids.add(candidate)
        return candidate


def _condition_names(source: str) -> set[str]:
    from app.forms.feel import parse_condition

    try:
        condition: Condition = parse_condition(source)
    except ValueError:
        return set()
    names: set[str] = set()

    def walk(expr: Any) -> None:
        if hasattr(expr, "path"):
            names.add(".".join(expr.path))
        for child in [getattr(expr, "operand", None), *getattr(expr, "operands", ())]:
            if child is not None:
                walk(child)

    walk(condition.expr)
    return names


def _html_id(raw: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", raw).strip("-") or "field"


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return str(value)


_BOLD = re.compile(r"\*\*(.+?)\*\*")


_LIST = re.compile(r"^\s*(?:[-*]|\d+[.)])\s+")


def markdown(text: str) -> Markup:
    """A small, escaped markdown subset for form-js text components: headings, paragraphs, lists, bold."""
    out: list[str] = []
    items: list[str] = []
    ordered = False

    def inline(line: str) -> str:
        return _BOLD.sub(r"<strong>\1</strong>", str(escape(line.strip())))

    def flush() -> None:
        if items:
            tag = "ol" if ordered else "ul"
            out.append(f"<{tag}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{tag}>")
            items.clear()

    for line in text.splitlines():
        if _LIST.match(line):
            ordered = bool(re.match(r"^\s*\d", line))
            items.append(inline(_LIST.sub("", line, count=1)))
            continue
        flush()
        heading = re.match(r"^(#{1,6})\s+(.*)$", line)
        if heading:
            level = 3 if len(heading.group(1)) <= 2 else 4
            out.append(f'<h{level} class="form-heading">{inline(heading.group(2))}</h{level}>')
        elif line.strip():
            out.append(f"<p>{inline(line)}</p>")
    flush()
    return Markup("".join(out))


def answers(view: FormView) -> list[tuple[str, str]]:
    """(label, shown value) for every filled field of a view, in form order: a read-only summary of
    submitted data (option labels instead of codes; dynamiclist rows numbered)."""
    out: list[tuple[str, str]] = [(view.outcome_label, view.outcome_chosen)] if view.outcome_chosen else []

    def walk(fields: list[FieldView], prefix: str) -> None:
        for f in fields:
            if f.kind == "group":
                walk(f.children, prefix)
            elif f.kind == "dynamiclist":
                for row in f.rows[:-1] if f.attrs.get("spare") else f.rows:
                    walk(row.children, f"{prefix}{f.label} {row.index + 1} · ")
            elif f.options:
                chosen = [o.label for o in f.options if o.selected]
                if chosen:
                    out.append((prefix + f.label, "、".join(chosen)))
            elif f.kind == "checkbox":
                if f.value:
                    out.append((prefix + f.label, _("Yes")))
            elif f.name and f.value not in (None, ""):
                out.append((prefix + f.label, str(f.value)))

    walk(view.fields, "")
    return out
