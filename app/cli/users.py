"""`flask users create NAME --password P --role R [--group G]...`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.models import ROLES
from app.services.identity import users

from .common import ctx, one_line_errors

users_cli = AppGroup("users", help="User accounts.")


@users_cli.command("create")
@click.argument("username")
@click.option("--password", required=True, help="At least 8 characters.")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--group", "groups", multiple=True, help="e.g. market.approver; created if missing. Repeatable.")
@click.option("--full-name", default="", help="Real name shown to applicants and in the history.")
@click.option("--staff-no", default=None, help="Staff number (工号).")
@click.option("--department", default=None, help="Department code.")
def create(username: str, password: str, role: str, groups: tuple[str, ...], full_name: str,
           staff_no: str | None, department: str | None) -> None:
    """Create a user."""
    with one_line_errors():
        user = users.create_user(ctx(), username, password, role, list(groups), full_name=full_name,
                                 staff_no=staff_no, department=department)
    click.echo(f"created {user.username} ({user.role}) groups: {', '.join(sorted(user.groups)) or '-'}")
