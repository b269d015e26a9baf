"""`flask users create NAME --password P --role R [--group G]...`; `flask users disable|enable|reset-password
NAME` (an administrator locked out can be let in again from the server)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from app.models import ROLES
from app.services.admin import users_admin
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


@users_cli.command("disable")
@click.argument("username")
def disable(username: str) -> None:
    """Disable a user: sign-in refused, sessions and API tokens end at once."""
    with one_line_errors():
        users_admin.set_active(ctx(), None, users_admin.user_id_by_name(ctx(), username), False)
    click.echo(f"disabled {username}")


@users_cli.command("enable")
@click.argument("username")
def enable(username: str) -> None:
    """Enable a disabled user again."""
    with one_line_errors():
        users_admin.set_active(ctx(), None, users_admin.user_id_by_name(ctx(), username), True)
    click.echo(f"enabled {username}")


@users_cli.command("reset-password")
@click.argument("username")
def reset_password(username: str) -> None:
    """Print a temporary password (shown once); the user must change it at the next sign-in."""
    with one_line_errors():
        result = users_admin.reset_password(ctx(), None, users_admin.user_id_by_name(ctx(), username))
    click.echo(f"temporary password for {username}: {result.password}")
