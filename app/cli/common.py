"""Shared helpers for commands: the service context and one-line errors."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import click
from flask import current_app

from app.errors import DomainError
from app.services.context import ServiceContext


def ctx() -> ServiceContext:
    context: ServiceContext = current_app.extensions["banjian"]
    return context


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn a domain error into `Error: ...` on stderr and exit status 1."""
    try:
        yield
    except DomainError as exc:
        details = "; ".join(f"{d.get('field') or d.get('element_id') or ''}: {d['message']}".lstrip(": ")
                            for d in exc.details)
        raise click.ClickException(f"{exc.message}" + (f" ({details})" if details else "")) from exc


def wrap(func: Callable[..., Any]) -> Callable[..., Any]:
    def run(*args: Any, **kwargs: Any) -> Any:
        with one_line_errors():
            return func(*args, **kwargs)

    run.__name__ = func.__name__
    run.__doc__ = func.__doc__
    return run
