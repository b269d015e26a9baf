"""`flask demo load` says what was new."""

from __future__ import annotations


def test_demo_load_reports_what_was_new_each_time(app):
    cli = app.test_cli_runner()
    first = cli.invoke(args=["demo", "load"])
    assert (first.exit_code, first.output) == (0, "demo data: new: 6 departments, 17 users, 4 processes, 3 items\n")
    second = cli.invoke(args=["demo", "load"])
    assert (second.exit_code, second.output) == (
        0, "demo data: nothing new (0 departments, 0 users, 0 processes, 0 items)\n")
