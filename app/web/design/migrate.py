"""The migration page: move running cases of one process version to another (preview first).

GET shows the versions to choose from and the running cases of the `from` version (paginated, with
checkboxes); POST previews or migrates all of them or the ones ticked, and shows the result per case
on the same page.
"""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.errors import DomainError, NotFound
from app.services.casework import migration, processes

from ..formjs import localized
from ..session import ctx, principal, roles_required
from . import bp

designer_required = roles_required("designer")
PER_PAGE = 50
# What the engine says about a task that cannot move, in the page's language (the engine writes English).
TASK_REASONS = {
    "it was removed in the target version": _l("it was removed in the target version"),
    "boundary events were added to it while it waits": _l("boundary events were added to it while it waits"),
    "its boundary events were removed in the target version": _l("its boundary events were removed in the target version"),
}


@bp.get("/processes/<key>/migrate")
@designer_required
def migrate(key: str) -> Any:
    chosen = _versions(key, request.args.get("from"), request.args.get("to"))
    return _page(key, *chosen, page=request.args.get("page", 1, type=int))


@bp.post("/processes/<key>/migrate")
@designer_required
def run_migration(key: str) -> Any:
    form = request.form
    versions, source, target = _versions(key, form.get("from"), form.get("to"))
    page = form.get("page", 1, type=int)
    action = form.get("action")
    chosen = None if form.get("scope", "all") == "all" else form.getlist("cases")
    if source is None or target is None or action not in ("preview", "migrate"):
        return _page(key, versions, source, target, page, error=_("Choose the version to move from and to.")), 400
    if chosen is not None and not chosen:
        return _page(key, versions, source, target, page, error=_("Tick at least one case, or choose all cases.")), 400
    run = migration.preview_cases if action == "preview" else migration.migrate_cases
    try:
        results = run(ctx(), principal(), key, source, target, chosen)
    except DomainError as error:
        message = "; ".join(localized(d["message"]) for d in error.as_errors())
        return _page(key, versions, source, target, page, error=message, chosen=chosen), error.status
    return _page(key, versions, source, target, page, chosen=chosen, action=action, results=results)


def _versions(key: str, source: str | None, target: str | None) -> tuple[list[Any], int | None, int | None]:
    """The process's versions (newest first) and the chosen ones; `to` defaults to the latest."""
    try:
        versions = processes.list_versions(ctx(), principal(), key)
    except NotFound:
        abort(404)
    known = {v.version for v in versions}
    chosen_to = _int(target) if target else versions[0].version
    return versions, _known(_int(source), known), _known(chosen_to, known)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None


def _known(version: int | None, known: set[int]) -> int | None:
    return version if version in known else None


def _page(key: str, versions: list[Any], source: int | None, target: int | None, page: int = 1, *,
          error: str | None = None, chosen: list[str] | None = None, action: str | None = None,
          results: list[Any] | None = None) -> Any:
    cases = None
    if source is not None:
        cases = migration.running_cases(ctx(), principal(), key, source, page, PER_PAGE)
    same = source is not None and source == target
    return render_template(
        "design/migrate.html", key=key, versions=versions, source=source, target=target, cases=cases,
        chosen=set(chosen or []), scope="all" if chosen is None else "selected", action=action, results=results,
        error=error or (_("The target version must differ from the version the cases run on.") if same else None),
        task_reason=_task_reason, task_note=_task_note, reason_text=_reason_text)


def _task_reason(reason: str) -> str:
    text = TASK_REASONS.get(reason)
    return str(text) if text is not None else reason


def _task_note(note: str) -> str:
    """What the migration adds around a task ("boundary events added: deadline")."""
    prefix = "boundary events added: "
    if note.startswith(prefix):
        return _("boundary events added: %(events)s", events=note[len(prefix):])
    return note


def _reason_text(reason: str | None) -> str:
    """A case's reason: the service's bilingual refusals in the page's language, the engine's as written."""
    return localized(reason) if reason else ""
