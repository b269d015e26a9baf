"""Shared fixtures: an app per test on SQLite and (when TEST_DATABASE_URL is set) PostgreSQL, a manual
clock, the demo data, and an API client that signs in as a named user."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text

from app import create_app
from app.cli.db import upgrade_database
from app.clock import ManualClock
from app.models import Base
from app.services.admin import calendar_admin
from app.services.context import ServiceContext
from app.services.demo import load_demo
from app.web.i18n import compile_catalogs
from config import TestConfig

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
    app = create_app(make_config(url, **overrides), clock=clock)
    with app.app_context():
        upgrade_database()
    truncate(app)  # whatever an interrupted earlier run left behind
    return app


def truncate(app: Flask, reseed: bool = True) -> None:
    """Empty every table: PostgreSQL schemas outlive a test (in-memory SQLite does not)."""
    ctx: ServiceContext = app.extensions["banjian"]
    if not ctx.db.is_postgres:
        return
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with ctx.db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    if reseed:  # the calendar is reference data every test counts on
        calendar_admin.seed(ctx, START)


def wipe(app: Flask) -> None:
    truncate(app, reseed=False)
    app.extensions["banjian"].db.dispose()


@contextmanager
def demo_app(url: str, clock: ManualClock) -> Iterator[Flask]:
    """An app on `url` with the demo data, wiped afterwards."""
    app = build_app(url, clock)
    load_demo(app.extensions["banjian"])
    try:
        yield app
    finally:
        wipe(app)


@pytest.fixture
def app(db_url: str, clock: ManualClock) -> Iterator[Flask]:
    app = build_app(db_url, clock)
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
    load_demo(ctx)
    return ctx


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
