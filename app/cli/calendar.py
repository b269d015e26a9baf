"""`flask calendar import FILE | show YEAR | seed`: the working-day calendar (工作日历)."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from app.services.admin import calendar_admin
from app.services.admin.calendar_files import parse_arrangement

from .common import ctx, one_line_errors

calendar_cli = AppGroup("calendar", help="The working-day calendar (holidays and make-up working days).")
KIND_TEXT = {"holiday": "休 holiday", "workday": "班 workday"}


@calendar_cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--year", type=int, default=None, help="The year the file must be for.")
def import_file(file: Path, year: int | None) -> None:
    """Import a year's arrangement from JSON or CSV (date,kind,name) and mark the year published."""
    with one_line_errors():
        try:
            content = file.read_bytes()
        except OSError as exc:
            raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from exc
        found, entries = parse_arrangement(content, year)
        result = calendar_admin.import_year(ctx(), None, found, entries, ctx().clock.now())
    click.echo(f"{result.year}: {result.days} days, published; {result.deadlines_moved} deadlines moved"
               + (f" ({result.kept_local} local days kept)" if result.kept_local else ""))


@calendar_cli.command("show")
@click.argument("year", type=int)
def show(year: int) -> None:
    """List a year's holidays and make-up working days."""
    with one_line_errors():
        view = calendar_admin.calendar_year_view(ctx(), year)
    state = "published" if view["published"] else "NOT published: statutory festivals only, deadlines provisional"
    click.echo(f"{year}: {state}; {view['working_days']} working days")
    for day in view["days"]:
        click.echo(f"{day['date']}  {day['date'].strftime('%a')}  {KIND_TEXT[day['kind']]:<10}  "
                   f"{day['name'] or '-'}  [{day['source']}]")


@calendar_cli.command("seed")
def seed() -> None:
    """Add the chinesecalendar package's arrangements for the years the table lacks (idempotent)."""
    added = calendar_admin.seed(ctx())
    click.echo(f"calendar: {added} year(s) added")
