"""Display names for codes (roles, case statuses, stages, notice kinds), translated per request."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ROLE_NAMES = {
    "applicant": _l("Applicant"), "clerk": _l("Window clerk"), "approver": _l("Approver"),
    "head": _l("Department head"), "supervisor": _l("Supervisor"), "admin": _l("Administrator"),
    "designer": _l("Process designer"), "archivist": _l("Archivist"),
}
STATUS_NAMES = {
    "draft": _l("Draft"), "submitted": _l("Submitted"), "correction": _l("Awaiting correction"),
    "accepted": _l("Accepted"), "in_review": _l("Under review"), "decided": _l("Decided"),
    "issued": _l("Completed (issued)"), "closed": _l("Closed"), "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
}
STAGE_NAMES = {
    "preview": _l("Preview"), "correction": _l("Correction"), "acceptance": _l("Acceptance"),
    "review": _l("Review"), "decision": _l("Decision"), "issuance": _l("Issuance"),
}
NOTICE_NAMES = {
    "receipt": _l("Receipt of application"), "correction": _l("Correction notice"),
    "acceptance": _l("Acceptance notice"), "refusal": _l("Notice of refusal to accept"),
    "decision": _l("Decision"), "pickup": _l("Licence pickup receipt"),
    "suspension": _l("Notice of special procedure"), "extension": _l("Notice of extended review period"),
}


def label(table: dict[str, object], code: str | None) -> str:
    return str(table.get(code or "", code or ""))
