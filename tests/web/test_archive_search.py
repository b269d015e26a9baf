"""The archive pages as an archivist uses them: search by case number, item, department and closing date
with paging (filters kept from page to page); a package's page lists the issued documents it holds; the
check names the member whose byte changed, and says so when the hash recorded at build time no longer
matches the file; an archivist sees no case-handling menus and cannot open those pages."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select, update

from app.models import ArchivePackage, Case, Department, Item
from app.services.archive import builder
from app.services.identity.users import create_user
from tests.integration.test_archive_documents import _close
from tests.integration.test_archive_packages import close_cases
from tests.web.test_documents_pages import full_case

from .staff_helpers import Browser, main_text, text

pytestmark = pytest.mark.usefixtures("demo")
ROW = re.compile(r'<tr id="package-([A-Z0-9]+)">')


@pytest.fixture
def keeper(app) -> Browser:
    create_user(app.extensions["banjian"], "keeper", "demo1234", "archivist", full_name="档案员乙")
    return Browser(app, "keeper")


def rows(resp) -> list[str]:
    assert resp.status_code == 200
    return ROW.findall(resp.get_data(as_text=True))


def _other_item(app, case_nos: list[str]) -> tuple[str, str, str]:
    """Move `case_nos` to an item of another department; returns that item's code, name and department code."""
    with app.extensions["banjian"].uow(write=True) as uow:
        s = uow.session
        first = s.scalar(select(Case).where(Case.case_no == case_nos[0]))
        assert first is not None
        other = s.scalars(select(Item).where(Item.department_id != first.item.department_id).order_by(Item.id)).first()
        assert other is not None
        s.execute(update(Case).where(Case.case_no.in_(case_nos)).values(item_id=other.id))
        code, name = other.code, other.name
        dept = s.get_one(Department, other.department_id).code
        uow.commit()
    return code, name, dept


def test_filters_and_paging(app, keeper):
    cases = close_cases(app, 25)
    code, name, dept = _other_item(app, cases[:3])
    assert builder.run_archive(app.extensions["banjian"]).built == 25

    first = rows(keeper.get("/archive/"))
    second = rows(keeper.get("/archive/?page=2"))
    assert len(first) == 20 and len(second) == 5 and set(first) | set(second) == set(cases)

    assert sorted(rows(keeper.get(f"/archive/?department={dept}"))) == cases[:3]
    assert sorted(rows(keeper.get(f"/archive/?item={code}"))) == cases[:3]
    assert sorted(rows(keeper.get(f"/archive/?item={name[1:4]}"))) == cases[:3]  # part of the name
    assert rows(keeper.get(f"/archive/?case_no={cases[7]}")) == [cases[7]]

    day = "/archive/?from=2026-11-20&to=2026-11-20"
    page = keeper.get(day)
    assert len(rows(page)) == 20
    nxt = re.search(r'<a href="([^"]+)" rel="next">', page.get_data(as_text=True))
    assert nxt is not None
    link = nxt.group(1).replace("&amp;", "&")
    assert "from=2026-11-20" in link and "to=2026-11-20" in link  # the filters stay on the next page
    assert len(rows(keeper.get(link))) == 5
    assert rows(keeper.get("/archive/?from=2026-11-21")) == []
    assert rows(keeper.get("/archive/?to=2026-11-19")) == []
    bad = keeper.get("/archive/?from=2026-02-30")
    assert bad.status_code == 400 and "YYYY-MM-DD" in text(bad)  # a readable message, not an error page
    assert rows(keeper.get("/archive/?page=999999999999")) == []  # far past the end: empty, not an error


def test_an_archivist_sees_no_case_handling_menus(app, keeper):
    page = text(keeper.get("/archive/"))
    assert "电子档案" in page
    for menu in ("待办", "窗口收件", "事项目录", "电子监察", "服务指南", "我的办件"):
        assert menu not in page, menu
    for url in ("/staff/", "/staff/cases", "/intake/", "/supervision/", "/admin/items"):
        assert keeper.get(url).status_code in (403, 404), url


def _package(app, case_no: str) -> tuple[Path, ArchivePackage]:
    with app.extensions["banjian"].uow() as uow:
        package = uow.session.scalars(select(ArchivePackage).where(ArchivePackage.path == f"{case_no}.zip")).one()
        uow.session.expunge(package)
    return builder.archive_dir(app.extensions["banjian"]) / f"{case_no}.zip", package


def test_the_package_page_lists_the_issued_documents_and_the_check_names_a_changed_one(app, api, keeper):
    case_no = full_case(api)
    _close(app, case_no)
    assert builder.run_archive(app.extensions["banjian"]).built == 1
    page = text(keeper.get(f"/archive/packages/{case_no}"))
    for title in ("收件回执", "补正告知书", "受理通知书", "行政许可决定书", "电子证照"):
        assert title in page, title
    assert re.search(r"notices/[A-Z0-9-]+\.html", page) and re.search(r"licences/[^ ]+\.pdf", page)
    assert "档案包完整" in text(keeper.post(f"/archive/packages/{case_no}/check"))

    path, _ = _package(app, case_no)
    with zipfile.ZipFile(path) as zf:
        [decision] = [n for n in zf.namelist() if n.startswith("notices/JD") and n.endswith(".html")]
        info = zf.getinfo(decision)
    data = bytearray(path.read_bytes())
    data[info.header_offset + 30 + len(info.filename.encode()) + 10] ^= 0x01  # one byte inside the page
    path.write_bytes(bytes(data))
    page = main_text(keeper.post(f"/archive/packages/{case_no}/check"))
    assert "档案包已被改动" in page
    assert re.findall(r"已改动：\s*(\S+)", page) == [decision]  # the check names the changed page, only it


def test_the_check_says_when_the_recorded_hash_no_longer_matches(app, keeper):
    [case_no] = close_cases(app, 1)
    assert builder.run_archive(app.extensions["banjian"]).built == 1
    assert "档案包完整" in text(keeper.post(f"/archive/packages/{case_no}/check"))
    with app.extensions["banjian"].uow(write=True) as uow:  # someone rewrites the hash recorded at build time
        uow.session.execute(update(ArchivePackage).where(ArchivePackage.path == f"{case_no}.zip")
                            .values(sha256="0" * 64))
        uow.commit()
    page = main_text(keeper.post(f"/archive/packages/{case_no}/check"))
    assert "档案包已被改动" in page and "SHA-256 与生成时记录的不一致" in page
    assert re.findall(r"已改动：\s*(\S+)", page) == []  # every member still matches its manifest
