"""What archivists and administrators do with the packages: search, open one, download it, check it,
and see the ones past their retention period (listed for disposal; deleting is their decision, made
outside this system)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Row, Select, func, select
from sqlalchemy.orm import Session

from app.errors import Forbidden, NotFound
from app.models import ArchivePackage, Case, Department, Item
from app.services.context import ServiceContext
from app.services.identity.principal import Principal
from app.services.paging import Page, offset, on_days, window

from .builder import archive_dir
from .package import CheckReport, check_zip, read_json_member

ROLES = ("archivist", "admin")
PER_PAGE = 20


class PackageNotFound(NotFound):
    pass


@dataclass(frozen=True)
class Filters:
    case_no: str = ""
    item: str = ""  # item code or part of its name
    department: str = ""  # department code
    closed_from: date | None = None
    closed_to: date | None = None


@dataclass(frozen=True)
class PackageView:
    id: int
    case_no: str
    item_code: str
    item_name: str
    department: str
    closed_at: datetime | None
    state: str
    sha256: str | None
    size: int | None
    built_at: datetime | None
    retention_years: int
    retention_until: datetime
    disposal_listed_at: datetime | None
    error: str | None


def _allow(principal: Principal) -> None:
    if not principal.has(*ROLES):
        raise Forbidden("档案仅限档案管理员和管理员 / archivists and administrators only")


def _query() -> Select[tuple[ArchivePackage, Case, Item, Department]]:
    return (select(ArchivePackage, Case, Item, Department).join(Case, Case.id == ArchivePackage.case_id)
            .join(Item, Item.id == Case.item_id).join(Department, Department.id == Item.department_id))


def _view(row: Row[tuple[ArchivePackage, Case, Item, Department]]) -> PackageView:
    p, case, item, dept = row
    return PackageView(p.id, case.case_no, item.code, item.name, dept.name, case.closed_at, p.state, p.sha256,
                       p.size, p.built_at, p.retention_years, p.retention_until, p.disposal_listed_at, p.error)


def search(ctx: ServiceContext, principal: Principal, filters: Filters, page: int = 1) -> Page[PackageView]:
    """Packages by case number, item, department and closing date, newest first.

    :raises Forbidden: not an archivist or administrator.
    """
    _allow(principal)
    page, per_page = window(page, PER_PAGE)
    query = _query()
    if filters.case_no:
        query = query.where(Case.case_no == filters.case_no.strip())
    if filters.item:
        text = filters.item.strip()
        query = query.where((Item.code == text) | Item.name.contains(text, autoescape=True))
    if filters.department:
        query = query.where(Department.code == filters.department)
    query = query.where(*on_days(Case.closed_at, filters.closed_from, filters.closed_to))
    with ctx.uow() as uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.execute(query.order_by(Case.closed_at.desc(), ArchivePackage.id.desc())
                                   .offset(offset(page, per_page)).limit(per_page))
        return Page([_view(r) for r in rows], page, per_page, total)


def departments(ctx: ServiceContext) -> list[tuple[str, str]]:
    """(code, name) of every department, for the search form."""
    with ctx.uow() as uow:
        return [(c, n) for c, n in uow.session.execute(select(Department.code, Department.name)
                                                       .order_by(Department.code))]


def _one(s: Session, case_no: str) -> Row[tuple[ArchivePackage, Case, Item, Department]]:
    row = s.execute(_query().where(Case.case_no == case_no)).first()
    if row is None:
        raise PackageNotFound(f"没有该办件的档案 / no archive package for {case_no}")
    return row


def get(ctx: ServiceContext, principal: Principal, case_no: str) -> PackageView:
    """:raises Forbidden: not an archivist or administrator. :raises PackageNotFound: no package."""
    _allow(principal)
    with ctx.uow() as uow:
        return _view(_one(uow.session, case_no))


def package_file(ctx: ServiceContext, principal: Principal, case_no: str) -> tuple[Path, str]:
    """The built package's file and its download name.

    :raises Forbidden: not an archivist or administrator. :raises PackageNotFound: not built, or its
    file is gone (the check page says which).
    """
    _allow(principal)
    with ctx.uow() as uow:
        package = _one(uow.session, case_no)[0]
        path = archive_dir(ctx) / str(package.path) if package.state == "built" and package.path else None
    if path is None or not path.is_file():
        raise PackageNotFound(f"档案包不存在 / the package of {case_no} is not there")
    return path, path.name


def check(ctx: ServiceContext, principal: Principal, case_no: str) -> CheckReport:
    """Recompute the package's hash and its manifest.

    :raises Forbidden: not an archivist or administrator. :raises PackageNotFound: no built package.
    """
    _allow(principal)
    with ctx.uow() as uow:
        package = _one(uow.session, case_no)[0]
        if package.state != "built" or not package.path:
            raise PackageNotFound(f"档案包尚未生成 / the package of {case_no} is not built yet")
        path, recorded = archive_dir(ctx) / package.path, package.sha256
    return check_zip(path, recorded)


@dataclass(frozen=True)
class Document:
    """An issued document the package holds: a notice's printed page, or an e-licence's PDF."""

    kind: str  # the notice kind, or "licence"
    title: str
    number: str
    file: str  # its member in the zip
    data: str | None  # the member beside it: the notice's data, the licence's signed facts


def documents(ctx: ServiceContext, principal: Principal, case_no: str) -> list[Document]:
    """The issued documents in the built package, as its metadata lists them; empty when it is not built
    or its metadata cannot be read (the check says why).

    :raises Forbidden: not an archivist or administrator. :raises PackageNotFound: no package.
    """
    _allow(principal)
    with ctx.uow() as uow:
        package = _one(uow.session, case_no)[0]
        path = archive_dir(ctx) / package.path if package.state == "built" and package.path else None
    meta = read_json_member(path, "metadata.json") if path is not None else None
    if not isinstance(meta, dict):
        return []
    found = [Document(str(d.get("kind")), str(d.get("title")), str(d.get("number")), str(d.get("file")),
                      d.get("data")) for d in meta.get("documents") or [] if isinstance(d, dict)]
    found += [Document("licence", str(lic.get("licence_type")), str(lic.get("number")), str(lic.get("file")),
                       lic.get("facts")) for lic in meta.get("licences") or [] if isinstance(lic, dict)]
    return found


def due_for_disposal(ctx: ServiceContext, principal: Principal, page: int = 1) -> Page[PackageView]:
    """Packages past their retention period, oldest first; they stay until an archivist disposes of them.

    :raises Forbidden: not an archivist or administrator.
    """
    _allow(principal)
    page, per_page = window(page, PER_PAGE)
    now = ctx.clock.now()
    query = _query().where(ArchivePackage.state == "built", ArchivePackage.retention_until <= now)
    with ctx.uow() as uow:
        total = uow.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = uow.session.execute(query.order_by(ArchivePackage.retention_until, ArchivePackage.id)
                                   .offset(offset(page, per_page)).limit(per_page))
        return Page([_view(r) for r in rows], page, per_page, total)
