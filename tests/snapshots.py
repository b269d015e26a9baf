"""Snapshots of test databases, so that a worker migrates (and loads the demo data) once, not per test.

A test still starts from exactly the rows, schema and sequence positions the real steps made: the first
test in a worker process to need a state runs the real steps (Alembic migrations, calendar seed,
load_demo) and keeps a copy; later tests get the copy. SQLite: the copy is an in-memory database,
restored with SQLite's backup API. PostgreSQL: the copy is a schema beside the worker's own holding the
non-empty tables, restored by emptying the tables written to and copying the rows back.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.pool import StaticPool

from app.db import Database
from app.models import Base

Key = tuple[Any, ...]

_SQLITE: dict[Key, sqlite3.Connection] = {}


def sqlite_restore(db: Database, key: Key | None, only_into_empty: bool = False) -> bool:
    """Copy snapshot `key` over the database; False if there is none (or, `only_into_empty`, the
    database has tables: a file database made earlier in the test is never overwritten)."""
    source = _SQLITE.get(key) if key and db.is_sqlite else None
    if source is None:
        return False
    raw = db.engine.raw_connection()
    try:
        target = raw.driver_connection
        if only_into_empty and target.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            return False
        source.backup(target)
        return True
    finally:
        raw.close()


def sqlite_save(db: Database, key: Key | None) -> None:
    """Keep a copy of the database as snapshot `key` (the first one made for a key stays)."""
    if key is None or key in _SQLITE or not db.is_sqlite:
        return
    copy = sqlite3.connect(":memory:", check_same_thread=False)
    raw = db.engine.raw_connection()
    try:
        raw.driver_connection.backup(copy)
    finally:
        raw.close()
    _SQLITE[key] = copy


def sqlite_changes(db: Database) -> int | None:
    """Rows changed so far in an in-memory SQLite database (through its one connection); None for a file
    database, whose pool may hold several connections."""
    if not isinstance(db.engine.pool, StaticPool):
        return None
    raw = db.engine.raw_connection()
    try:
        return int(raw.driver_connection.total_changes)
    finally:
        raw.close()


@dataclass(frozen=True)
class PgSnapshot:
    """Where a PostgreSQL snapshot's rows are kept, which tables had rows (in foreign-key order) and the
    sequences that had handed out values, with the last one."""

    schema: str
    tables: tuple[str, ...]
    sequences: tuple[tuple[str, int], ...]


_PG: dict[Key, PgSnapshot] = {}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tables() -> list[str]:
    return [t.name for t in Base.metadata.sorted_tables]


def _non_empty(conn: Connection) -> list[str]:
    """The model tables with rows, in foreign-key order (one query)."""
    probes = " UNION ALL ".join(f"SELECT {i} WHERE EXISTS (SELECT 1 FROM {_q(n)})" for i, n in enumerate(_tables()))
    found = set(conn.execute(text(probes)).scalars())
    return [n for i, n in enumerate(_tables()) if i in found]


def _used_sequences(conn: Connection) -> dict[str, int]:
    """The schema's sequences that have handed out a value, with their last value."""
    rows = conn.execute(text("SELECT sequencename, last_value FROM pg_sequences "
                             "WHERE schemaname = current_schema() AND last_value IS NOT NULL"))
    return {name: int(value) for name, value in rows}


def pg_empty(conn: Connection) -> None:
    """What `TRUNCATE <every table> RESTART IDENTITY CASCADE` leaves, but truncating only the tables with
    rows: PostgreSQL truncates each table named at a cost, empty or not, and most tests write few."""
    tables = _non_empty(conn)
    if tables:
        conn.execute(text(f"TRUNCATE {', '.join(map(_q, tables))} CASCADE"))
    used = _used_sequences(conn)
    if used:  # every sequence is a serial column's, starting at 1: as RESTART IDENTITY sets them
        conn.execute(text("SELECT setval(quote_ident(current_schema()) || '.' || quote_ident(s), 1, false) "
                          "FROM unnest(CAST(:names AS text[])) AS s"), {"names": list(used)})


def pg_save(conn: Connection, key: Key) -> None:
    """Keep the current rows and sequence positions as snapshot `key`, in a schema of its own."""
    if key in _PG:
        return
    schema = conn.execute(text("SELECT current_schema()")).scalar_one() + f"_snap{len(_PG)}"
    conn.execute(text(f"DROP SCHEMA IF EXISTS {_q(schema)} CASCADE"))
    conn.execute(text(f"CREATE SCHEMA {_q(schema)}"))
    tables = _non_empty(conn)
    for name in tables:
        conn.execute(text(f"CREATE TABLE {_q(schema)}.{_q(name)} AS SELECT * FROM {_q(name)}"))
    _PG[key] = PgSnapshot(schema, tuple(tables), tuple(sorted(_used_sequences(conn).items())))


def pg_restore(conn: Connection, key: Key | None) -> bool:
    """Make the tables hold exactly snapshot `key`'s rows and sequence positions; False if there is none."""
    snap = _PG.get(key) if key else None
    if snap is None:
        return False
    pg_empty(conn)
    for name in snap.tables:
        conn.execute(text(f"INSERT INTO {_q(name)} OVERRIDING SYSTEM VALUE SELECT * FROM {_q(snap.schema)}.{_q(name)}"))
    if snap.sequences:
        conn.execute(text("SELECT setval(quote_ident(current_schema()) || '.' || quote_ident(s), v, true) "
                          "FROM unnest(CAST(:names AS text[]), CAST(:values AS bigint[])) AS x(s, v)"),
                     {"names": [s for s, _ in snap.sequences], "values": [v for _, v in snap.sequences]})
    return True


def pg_matches(conn: Connection, key: Key | None) -> bool:
    """Whether the tables hold exactly snapshot `key`'s rows and sequence positions (False: no snapshot)."""
    snap = _PG.get(key) if key else None
    if snap is None or tuple(_non_empty(conn)) != snap.tables:
        return False
    if tuple(sorted(_used_sequences(conn).items())) != snap.sequences:
        return False
    if not snap.tables:
        return True
    differ = " OR ".join(
        f"EXISTS (SELECT * FROM {_q(n)} EXCEPT ALL SELECT * FROM {_q(snap.schema)}.{_q(n)}) "
        f"OR EXISTS (SELECT * FROM {_q(snap.schema)}.{_q(n)} EXCEPT ALL SELECT * FROM {_q(n)})" for n in snap.tables)
    return not conn.execute(text(f"SELECT {differ}")).scalar_one()
