"""What the portal and window-intake pages share: the upload store, reading material uploads from the
request, splitting a service's field errors into form, material and applicant messages, dates."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, request
from flask_babel import lazy_gettext as _l

from app.clock import CHINA_TZ
from app.errors import DomainError
from app.services.documents.files import MAX_FILE_BYTES, FileStore
from app.services.portal import APPLICANT, MATERIAL, Upload

from ..formjs import localized
from ..session import ctx

# The inputs accept what the store accepts; the store still decides by the bytes.
ACCEPT = ".pdf,.png,.jpg,.jpeg,application/pdf,image/png,image/jpeg"


def upload_store() -> FileStore:
    """The file store with the configured limits (file size, the applicant's quota, files per draft)."""
    return FileStore.from_settings(ctx().upload_dir, current_app.config)


def max_upload_mb() -> int:
    return max(int(current_app.config.get("UPLOAD_MAX_BYTES") or MAX_FILE_BYTES) // (1024 * 1024), 1)


def material_uploads(materials: list[dict[str, Any]]) -> list[Upload]:
    """The files posted for each material (inputs named `material-<index>`); empty inputs are skipped."""
    uploads = []
    for m in materials:
        for file in request.files.getlist(f"material-{m['index']}"):
            if file and file.filename:
                uploads.append(Upload(m["name"], file.filename, file.stream))
    return uploads


def reuse_choices(materials: list[dict[str, Any]]) -> dict[str, str]:
    """The licence chosen for each material that may take one (`reuse-<index>`: a number, or "" for files)."""
    return {str(m["index"]): request.form.get(f"reuse-{m['index']}", "").strip()[:64]
            for m in materials if m.get("licence_type")}


@dataclass
class Errors:
    """A service's field errors, localized and sorted to where the page shows them."""

    form: dict[str, list[str]] = field(default_factory=dict)
    materials: dict[int, list[str]] = field(default_factory=dict)
    applicant: dict[str, list[str]] = field(default_factory=dict)
    general: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.form or self.materials or self.applicant or self.general)


def split_errors(field_errors: Mapping[str, list[str]]) -> Errors:
    out = Errors()
    for key, messages in field_errors.items():
        texts = [localized(m) for m in messages]
        head, _, rest = key.partition(".")
        if head == MATERIAL and rest.isdigit():
            out.materials.setdefault(int(rest), []).extend(texts)
        elif head == MATERIAL:
            out.general.extend(texts)
        elif head == APPLICANT:
            out.applicant.setdefault(rest, []).extend(texts)
        else:
            out.form.setdefault(key, []).extend(texts)
    return out


def detail_errors(error: DomainError) -> dict[str, list[str]]:
    """An InvalidInput's details as {field: [messages]} (a message without a field under "_form")."""
    found: dict[str, list[str]] = {}
    for detail in error.as_errors():
        found.setdefault(str(detail.get("field") or "_form"), []).append(str(detail.get("message", "")))
    return found


def china_time(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.astimezone(CHINA_TZ).strftime(fmt) if value else ""


TYPE_LABELS = {
    "01": _l("Administrative licensing"), "02": _l("Administrative penalty"), "03": _l("Administrative coercion"),
    "04": _l("Administrative levy"), "05": _l("Administrative payment"), "06": _l("Administrative inspection"),
    "07": _l("Administrative confirmation"), "08": _l("Administrative reward"),
    "09": _l("Administrative adjudication"), "10": _l("Other administrative power"), "20": _l("Public service"),
}
KIND_LABELS = {"instant": _l("Done on the spot"), "promised": _l("Done within the promised time")}
UNIT_LABELS = {"wd": _l("working days"), "d": _l("calendar days")}


def item_labels() -> dict[str, Any]:
    """Template functions naming an item's type, kind of case and time-limit unit in the page's language."""
    return {
        "item_type_name": lambda code: str(TYPE_LABELS.get(code, code)),
        "case_kind_name": lambda code: str(KIND_LABELS.get(code, code)),
        "limit_unit_name": lambda code: str(UNIT_LABELS.get(code, code)),
    }
