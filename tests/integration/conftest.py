"""Databases that several processes open at once: a SQLite file, and PostgreSQL when configured."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from tests.conftest import PG_SKIP, PG_URL, demo_app, pg_schema_url


@pytest.fixture(params=["sqlite-file", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that two processes can open (not an in-memory one)."""
    if request.param == "postgres":
        if not PG_URL:
            pytest.skip(PG_SKIP)
        return pg_schema_url()
    return f"sqlite:///{tmp_path / 'shared.sqlite3'}"


@pytest.fixture
def shared_app(shared_url: str, clock) -> Iterator[Flask]:
    with demo_app(shared_url, clock) as app:
        yield app
