"""What a service call runs with, and the unit of work that scopes its transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.clock import Clock
from app.db import Database
from app.engine.runtime import WorkflowEngine
from app.engine.specs import SpecCache
from app.errors import Conflict
from app.forms import FormRegistry
from app.services.calendar import CalendarHolder


@dataclass(frozen=True)
class StepHooks:
    """Who hears of an engine step, wired in `wiring.build_context` so that the step module
    (casework.steps) imports nothing above it.

    `deadlines(ctx, session, case, status_before, statuses_reached, opened_tasks, ended_task_ids, now)` settles
    the clocks before the task rows are written and returns each opened task's (deadline, yellow moment);
    each of `listeners(ctx, session, saved_step)` runs after the projections are written (notices, the
    decisions of clock-action tasks), in the step's transaction.
    """

    deadlines: Callable[..., dict[str, Any]]
    listeners: tuple[Callable[..., None], ...] = ()


@dataclass
class ServiceContext:
    """The app's long-lived collaborators: database, engine, caches, clock and settings."""

    db: Database
    engine: WorkflowEngine
    specs: SpecCache
    forms: FormRegistry
    clock: Clock
    secret_key: str
    token_max_age: int
    bpmn_dir: Path
    max_bpmn_bytes: int = 5 * 1024 * 1024
    password_method: str = "scrypt"
    upload_dir: Path = Path("instance/uploads")
    calendar: CalendarHolder = field(kw_only=True)  # the working-day calendar the process counts on
    step_hooks: StepHooks = field(kw_only=True)
    # Renders issued documents as people read them (`archive.documents.Renderer`): the pages' templates
    # belong to the web layer, which sets this at start-up; None where no pages are registered.
    documents: Any = field(default=None, kw_only=True)
    # The site's address as people outside reach it (BANJIAN_PUBLIC_URL): links in SMS and e-mail need it,
    # a message has no request to take it from. Empty: links stay site-relative.
    public_url: str = field(default="", kw_only=True)

    def uow(self, write: bool = False) -> UnitOfWork:
        return UnitOfWork(self.db, write)


class UnitOfWork:
    """`with ctx.uow(write=True) as uow:` ... `uow.commit()`; leaving without commit rolls back."""

    def __init__(self, db: Database, write: bool) -> None:
        self._db = db
        self._write = write
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.session(write=self._write)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            self.session.rollback()  # a no-op after commit
        finally:
            self.session.close()
        if isinstance(exc, StaleDataError):  # the optimistic version check behind the row locks
            raise Conflict("数据已被他人修改，请重试 / changed concurrently, retry") from exc

    def commit(self) -> None:
        self.session.commit()
