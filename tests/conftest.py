"""Shared fixtures: an app per test on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL, a manual
clock, the demo data, and an API client that signs in as a named user."""

from __future__ import annotations

import os
import tempfile
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.cli.db import alembic_config, upgrade_database
from app.clock import ManualClock
from app.db import Database
from app.services.admin import calendar_admin
from app.services.context import ServiceContext
from app.services.demo import load_demo
from app.web.i18n import compile_catalogs
from config import TestConfig

from . import snapshots

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
PG_SKIP = "PostgreSQL tests need TEST_DATABASE_URL (e.g. postgresql://postgres@127.0.0.1:5432/test)"
# Monday 2026-11-23 09:00 in Beijing.
START = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def pg_schema_url() -> str:
    """The PostgreSQL URL with a schema of this xdist worker's own, so workers never share tables."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    # A prefix of its own lets two test runs share one database without sharing tables.
    schema = f"{os.environ.get('TEST_SCHEMA_PREFIX', 'test')}_{worker}"
    from sqlalchemy import create_engine

    engine = create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


def make_config(url: str, **overrides: Any) -> type:
    upload_dir = Path(tempfile.mkdtemp(prefix="banjian-uploads-"))
    return type("Config", (TestConfig,), {"DATABASE_URL": url, "UPLOAD_DIR": upload_dir, **overrides})


@pytest.fixture(scope="session", autouse=True)
def _catalogues() -> None:
    """Compiled translations (make install does this too; pytest may be run without make)."""
    compile_catalogs()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        return pg_schema_url()
    return "sqlite://"


@pytest.fixture
def pg_url() -> str:
    """For tests that only make sense on PostgreSQL (concurrency)."""
    if not PG_URL:
        pytest.skip(PG_SKIP)
    return pg_schema_url()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


def build_app(url: str, clock: ManualClock, **overrides: Any) -> Flask:
    """An app on a migrated database, empty but for the calendar. The first build in a worker runs the
    migrations and the calendar seed; later ones start from a copy of what they made (tests/snapshots.py),
    which is much quicker. Tests that test the migrations call `upgrade_database` themselves."""
    app = create_app(make_config(url, **overrides), clock=clock)
    ctx: ServiceContext = app.extensions["banjian"]
    key = _base_key(ctx)
    if snapshots.sqlite_restore(ctx.db, key, only_into_empty=True):
        _as_if_seeded(ctx)
    elif not _at_heads(app):
        with app.app_context():
            upgrade_database()
        snapshots.sqlite_save(ctx.db, key)
    truncate(app)  # whatever an interrupted earlier run left behind
    if key is not None:
        _BUILT[ctx.db] = (snapshots.sqlite_changes(ctx.db), key)
    return app


# Each test database's snapshot key when built and, for in-memory SQLite, its count of changed rows then.
_BUILT: weakref.WeakKeyDictionary[Database, tuple[int | None, tuple[Any, ...]]] = weakref.WeakKeyDictionary()
_HEADS: list[set[str]] = []  # the migrations' heads, read once per worker


def _base_key(ctx: ServiceContext) -> tuple[Any, ...] | None:
    """What a freshly built database holds depends on: on SQLite the clock, which stamps the calendar
    seeded by `upgrade_database`; on PostgreSQL nothing (`truncate` seeds at START). None: no copy can
    stand in, for a clock that moves by itself."""
    if ctx.db.is_postgres:
        return ("base", ctx.db.url)
    if type(ctx.clock) is not ManualClock:
        return None
    return ("base", ctx.db.is_sqlite, ctx.clock.now())


def _as_if_seeded(ctx: ServiceContext) -> None:
    """Leave the process's calendar as seeding it does (loaded, then marked for a recheck): a copy
    skipped the seed, and an in-memory database cannot load it later inside a caller's transaction."""
    ctx.calendar.get()
    ctx.calendar.invalidate()


def _at_heads(app: Flask) -> bool:
    """Whether a PostgreSQL schema (which outlives a test) is already migrated to every head: then
    `upgrade_database` would change nothing, and reading its scripts costs a tenth of a second a test."""
    ctx: ServiceContext = app.extensions["banjian"]
    if not ctx.db.is_postgres:
        return False
    if not _HEADS:
        with app.app_context():
            _HEADS.append(set(ScriptDirectory.from_config(alembic_config()).get_heads()))
    with ctx.db.engine.connect() as conn:
        if conn.execute(text("SELECT to_regclass('alembic_version')")).scalar() is None:
            return False
        return set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) == _HEADS[0]


def with_demo(ctx: ServiceContext, just_built: bool = False) -> ServiceContext:
    """The demo data loaded into a test database: copied from the worker's snapshot when the database
    still holds what `build_app` made (the caller may know it was `just_built`), else loaded. The key
    names what load_demo's rows depend on, so an app with other BPMN, forms or clock gets its own."""
    changes, base = _BUILT.get(ctx.db, (None, None))
    key = None
    if base is not None and type(ctx.clock) is ManualClock:
        key = (base, "demo", ctx.clock.now(), ctx.bpmn_dir, ctx.forms.forms_dir, ctx.password_method,
               ctx.max_bpmn_bytes)
    if ctx.db.is_postgres:
        with ctx.db.engine.begin() as conn:
            untouched = key is not None and (just_built or snapshots.pg_matches(conn, base))
            if untouched and snapshots.pg_restore(conn, key):
                return ctx
        load_demo(ctx)
        if untouched:
            with ctx.db.engine.begin() as conn:
                snapshots.pg_save(conn, key)
        return ctx
    untouched = just_built or (changes is not None and changes == snapshots.sqlite_changes(ctx.db))
    if not (untouched and snapshots.sqlite_restore(ctx.db, key)):
        load_demo(ctx)
        snapshots.sqlite_save(ctx.db, key if untouched else None)
    return ctx


def truncate(app: Flask, reseed: bool = True) -> None:
    """Empty every table, then seed the calendar (`reseed`): PostgreSQL schemas outlive a test (in-memory
    SQLite does not). Restores the worker's snapshot of this state once there is one."""
    ctx: ServiceContext = app.extensions["banjian"]
    if not ctx.db.is_postgres:
        return
    key = _base_key(ctx)
    with ctx.db.engine.begin() as conn:
        restored = reseed and snapshots.pg_restore(conn, key)
        if not restored:
            snapshots.pg_empty(conn)
    if restored:
        _as_if_seeded(ctx)
    elif reseed:  # the calendar is reference data every test counts on
        calendar_admin.seed(ctx, START)
        with ctx.db.engine.begin() as conn:
            snapshots.pg_save(conn, key)


def wipe(app: Flask) -> None:
    truncate(app, reseed=False)
    app.extensions["banjian"].db.dispose()


@contextmanager
def demo_app(url: str, clock: ManualClock) -> Iterator[Flask]:
    """An app on `url` with the demo data, wiped afterwards."""
    app = build_app(url, clock)
    with_demo(app.extensions["banjian"], just_built=True)
    try:
        yield app
    finally:
        wipe(app)


@pytest.fixture
def app(db_url: str, clock: ManualClock, tmp_path: Path) -> Iterator[Flask]:
    """Licence signing keys in a folder of the test's own: a test that lists or counts keys sees only its own."""
    app = build_app(db_url, clock, KEYS_DIR=tmp_path / "keys")
    try:
        yield app
    finally:
        wipe(app)


@pytest.fixture
def bare_app(clock: ManualClock) -> Flask:
    """An app for tests that render or parse and never touch the database: built once per test on
    in-memory SQLite, not once per database."""
    return create_app(make_config("sqlite://"), clock=clock)


@pytest.fixture
def ctx(app: Flask) -> ServiceContext:
    return app.extensions["banjian"]


@pytest.fixture
def demo(ctx: ServiceContext) -> ServiceContext:
    return with_demo(ctx)


class Api:
    """A test client that signs in as a user and speaks JSON."""

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str, password: str = "demo1234") -> str:
        if username not in self._tokens:
            resp = self.client.post("/api/v1/auth/token", json={"username": username, "password": password})
            assert resp.status_code == 200, resp.get_json()
            self._tokens[username] = resp.get_json()["token"]
        return self._tokens[username]

    def call(self, method: str, path: str, user: str | None = None, **kwargs: Any) -> Any:
        headers = kwargs.pop("headers", {})
        if user:
            headers["Authorization"] = f"Bearer {self.token(user)}"
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path: str, user: str | None = None, **kwargs: Any) -> Any:
        return self.call("GET", path, user, **kwargs)

    def post(self, path: str, user: str | None = None, **kwargs: Any) -> Any:
        return self.call("POST", path, user, **kwargs)

    def put(self, path: str, user: str | None = None, **kwargs: Any) -> Any:
        return self.call("PUT", path, user, **kwargs)


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app.test_client())
