"""`flask db upgrade|downgrade|current`: Alembic, configured from the app's DATABASE_URL."""

from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config
from flask import current_app
from flask.cli import AppGroup

from app.services.admin import calendar_admin

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"

db_cli = AppGroup("db", help="Database migrations.")


def alembic_config() -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", current_app.config["DATABASE_URL"].replace("%", "%%"))
    return config


def upgrade_database(revision: str = "heads") -> None:
    """Run migrations on the app's own engine (so an in-memory SQLite database is the same one); the
    default takes every branch to its newest revision."""
    config = alembic_config()
    with current_app.extensions["banjian"].db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    if revision in ("head", "heads"):
        seed_database_calendar()


def seed_database_calendar() -> int:
    """The package's holiday arrangements for years the calendar table lacks (idempotent)."""
    return calendar_admin.seed(current_app.extensions["banjian"])


@db_cli.command("upgrade")
@click.argument("revision", default="heads")
def upgrade(revision: str) -> None:
    """Upgrade the database schema (default: to the newest revision)."""
    upgrade_database(revision)
    click.echo(f"database at {revision}")


@db_cli.command("downgrade")
@click.argument("revision")
def downgrade(revision: str) -> None:
    """Downgrade the database schema to REVISION."""
    config = alembic_config()
    with current_app.extensions["banjian"].db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


@db_cli.command("current")
def current() -> None:
    """Show the current revision."""
    config = alembic_config()
    with current_app.extensions["banjian"].db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.current(config)
