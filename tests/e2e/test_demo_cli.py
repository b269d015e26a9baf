"""`flask demo load` says what was new; the README lists the accounts it creates and, like docs/, links only
to files inside the repository."""

from __future__ import annotations

import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = json.loads((ROOT / "app" / "demo" / "data.json").read_text(encoding="utf-8"))


def test_demo_load_reports_what_was_new_each_time(app):
    cli = app.test_cli_runner()
    first = cli.invoke(args=["demo", "load"])
    assert (first.exit_code, first.output) == (0, "demo data: new: 6 departments, 19 users, 8 processes, 7 items\n")
    second = cli.invoke(args=["demo", "load"])
    assert (second.exit_code, second.output) == (
        0, "demo data: nothing new (0 departments, 0 users, 0 processes, 0 items)\n")


def test_the_readme_lists_every_demo_account_with_its_role_and_groups():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z_0-9]+)` \| (\w+) \| ([^|]*) \|", readme, re.M)
    listed = {name: (role, sorted(re.findall(r"`([^`]+)`", groups))) for name, role, groups in rows}
    assert listed == {u["username"]: (u["role"], sorted(u.get("groups", []))) for u in DATA["users"]}
    assert f"{len(DATA['users'])} demo accounts" in readme


def test_readme_and_docs_link_only_to_files_in_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    assert {p.name for p in pages} >= {"README.md", "architecture.md", "designing-processes.md", "expressions.md",
                                       "administration.md", "operations.md"}
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "../shared" not in text and "DESIGN.md" not in text, page
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text):
            assert (page.parent / target).resolve().is_file(), f"{page.name} links to {target}"
