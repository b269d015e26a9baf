"""Reading the item page's form: the fields the API takes (checked by the same schema, ItemBody), the
materials as numbered rows with their template and sample files, and field messages for the page."""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from marshmallow import ValidationError
from werkzeug.datastructures import FileStorage, ImmutableMultiDict

from app.api.schemas import ItemBody
from app.errors import InvalidInput
from app.models import GUIDE_FIELDS
from app.services.admin import item_catalogue as catalogue
from app.services.identity.principal import Principal

from ..formjs import localized
from ..session import ctx

TEXT_FIELDS = ("code", "name", "type_code", "department", "legal_basis", "case_kind", "limit_unit", "fees",
               "process_key", "form_key", "case_prefix", *GUIDE_FIELDS)
NUMBER_FIELDS = ("statutory_limit", "promised_limit", "yellow_ratio", "yellow_days")
OPTIONAL = {"statutory_limit", "yellow_ratio", "yellow_days", "form_key"}  # empty means "none / the default"
ROW = re.compile(r"^m-(\d{1,3})-name$")
FILE_KINDS = ("template", "sample")


def parse(form: ImmutableMultiDict[str, str], files: ImmutableMultiDict[str, FileStorage], principal: Principal,
          code: str | None) -> tuple[dict[str, Any], dict[str, str]]:
    """The data to save and the messages by field (`materials.0.template`, `promised_limit`, ...).
    Files chosen in the form are stored first, so a page shown again with errors keeps them."""
    errors: dict[str, str] = {}
    raw: dict[str, Any] = {f: form.get(f, "").strip() for f in TEXT_FIELDS}
    raw["code"] = code or raw["code"]
    for f in NUMBER_FIELDS:
        raw[f] = form.get(f, "").strip()
    raw["joint"] = form.get("joint") == "1"
    raw["departments"] = [d for d in form.getlist("departments") if d]
    raw["materials"] = _materials(form, files, principal, errors)
    raw["result_sample_file"] = _file(form, files, "result_sample_file", principal, errors)
    data = {k: (None if v == "" and k in OPTIONAL else v) for k, v in raw.items()}
    try:
        loaded = ItemBody().load({k: v for k, v in data.items() if k != "active"})
    except ValidationError as exc:
        errors.update(_flatten(exc.messages))
        return data, errors
    return loaded, errors


def field_errors(error: InvalidInput) -> dict[str, str]:
    """A service's messages by field, in the page's language; messages without a field under ''."""
    out: dict[str, str] = {}
    for detail in error.as_errors():
        key = str(detail.get("field") or "")
        text = localized(str(detail.get("message") or ""))
        out[key] = f"{out[key]}; {text}" if key in out else text
    return out


def blank() -> dict[str, Any]:
    return {"type_code": "01", "case_kind": "promised", "limit_unit": "wd", "fees": "不收费", "joint": False,
            "departments": [], "materials": [], "result_sample_file": None}


def _materials(form: ImmutableMultiDict[str, str], files: ImmutableMultiDict[str, FileStorage],
               principal: Principal, errors: dict[str, str]) -> list[dict[str, Any]]:
    rows = sorted(int(m.group(1)) for key in form if (m := ROW.match(key)))
    materials: list[dict[str, Any]] = []
    for row in rows:
        name = form.get(f"m-{row}-name", "").strip()
        if not name:  # an empty row is no material (the way to remove one without scripts)
            continue
        position = len(materials)
        material: dict[str, Any] = {"name": name, "description": form.get(f"m-{row}-description", "").strip(),
                                    "required": form.get(f"m-{row}-required") == "1",
                                    "licence_type": form.get(f"m-{row}-licence_type", "").strip() or None}
        for kind in FILE_KINDS:
            material[kind] = _file(form, files, f"m-{row}-{kind}", principal, errors, f"materials.{position}.{kind}")
        materials.append(material)
    return materials


def _file(form: ImmutableMultiDict[str, str], files: ImmutableMultiDict[str, FileStorage], name: str,
          principal: Principal, errors: dict[str, str], field: str | None = None) -> dict[str, Any] | None:
    """A newly chosen file (stored now), else the one kept from before unless its removal is ticked."""
    upload = files.get(name)
    if upload is not None and upload.filename:
        try:
            return catalogue.upload_file(ctx(), principal, upload.stream, upload.filename, field or name)
        except InvalidInput as exc:
            errors[field or name] = "; ".join(localized(d["message"]) for d in exc.as_errors())
            return None
    sha, filename = form.get(f"{name}-sha", ""), form.get(f"{name}-filename", "")
    if not sha or form.get(f"{name}-remove") == "1":
        return None
    return {"sha256": sha, "filename": filename or "file"}


def _flatten(messages: Any, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        out[prefix] = "; ".join(_message(m) for m in messages)
    return out


def _message(text: str) -> str:
    """marshmallow's English messages, as the page's language says them."""
    if text.startswith("Missing data"):
        return _("Please fill this in.")
    if text.startswith("Not a valid"):
        return _("Please enter a valid value.")
    if text.startswith("Must be one of"):
        return _("Please choose one of the options.")
    if text.startswith("Must be greater than or equal to") or text.startswith("Must be less than or equal to"):
        numbers = re.findall(r"-?\d+(?:\.\d+)?", text)
        return _("Must be between %(low)s and %(high)s.", low=numbers[0], high=numbers[1]) if len(numbers) == 2 \
            else _("Out of range.")
    if text.startswith("String does not match") or text.startswith("Shorter than") or text.startswith("Longer than"):
        return _("Not in the expected form.")
    return text

