"""A PostgreSQL schema of a benchmark run's own: dropped and recreated, so runs never share tables."""

from __future__ import annotations

from sqlalchemy import create_engine, text


def fresh_schema_url(url: str, schema: str) -> str | None:
    """`url` pointed at an empty schema `schema`; None (with a printed reason) if PostgreSQL is unreachable."""
    try:
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        engine.dispose()
    except Exception as exc:  # noqa: BLE001 - a report, not a test
        print(f"[PostgreSQL] skipped: {exc.__class__.__name__}: {exc}")
        return None
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"
