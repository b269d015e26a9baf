"""Database engine and sessions.

One `Database` per app. SQLite gets WAL, foreign keys and a busy timeout; a unit of work that will write
asks for `BEGIN IMMEDIATE` so SQLite serializes writers at the start of the transaction instead of
failing later with "database is locked" when a reader tries to upgrade. PostgreSQL uses row locks
(`SELECT ... FOR UPDATE`) taken by the services.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

IMMEDIATE = "banjian_sqlite_immediate"


class Database:
    """Holds the engine and the session factory for one database URL."""

    def __init__(self, url: str, echo: bool = False) -> None:
        self.url = url
        self.engine = _make_engine(url, echo)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        self.is_postgres = self.engine.dialect.name == "postgresql"
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, autoflush=True)

    def session(self, write: bool = False) -> Session:
        """A new session; `write=True` takes SQLite's write lock when the transaction begins."""
        session = self._sessions()
        if write and self.is_sqlite:
            session.connection(execution_options={IMMEDIATE: True})
        return session

    def dispose(self) -> None:
        self.engine.dispose()


def _make_engine(url: str, echo: bool) -> Engine:
    kwargs: dict[str, Any] = {"echo": echo}
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            # One shared connection, so every session sees the same in-memory database.
            kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
        else:
            _ensure_parent(url)
            kwargs.update(connect_args={"check_same_thread": False, "timeout": 30})
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=20)
    return create_engine(url, **kwargs)


def _ensure_parent(url: str) -> None:
    path = url.split("///", 1)[-1]
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Take transaction control away from the driver so BEGIN is ours to issue.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(IMMEDIATE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
