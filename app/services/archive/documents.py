"""The issued documents in a package as a person reads them: each notice (收件回执, 补正告知书, 受理通知书,
不予受理通知书, 行政许可决定书, 领证回执 ...) as the self-contained HTML page the counter prints, and each
e-licence of the case as its PDF with the signed facts beside it (`licence.json`, the same bytes the PDF
carries as its attachment), so the package can be checked against the licence record without this system.

Notices are HTML, not PDF: WeasyPrint took 7 to 11 s and about 280 KB (the embedded CJK font) per notice
here, against well under a second for the page; the page is the document as printed, and its data beside
it (`notices/<number>.json`) is what any later rendering needs. The licence is a PDF because it is issued
as one. The pages' templates belong to the web layer: a `Renderer` is handed in (ServiceContext.documents).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Case, Department, Item, Licence, Notice
from app.services.documents import notices as notice_views
from app.services.documents.notices import NoticeView
from app.services.licensing import pdf
from app.services.licensing.canonical import short_signature
from app.services.licensing.issue import facts


class Renderer(Protocol):
    def notice_html(self, notice: NoticeView) -> str: ...

    def licence_verify_url(self, number: str) -> str: ...  # `{sig}` stands for the short signature


class NoRenderer(RuntimeError):
    """No pages in this process to render the documents with: the package waits (an incident) rather
    than being built without them, since a package is built once."""


@dataclass(frozen=True)
class SignedLicence:
    number: str
    facts: dict[str, Any]
    signature: str
    algorithm: str
    key_id: str
    department_code: str


@dataclass
class Documents:
    """What to render, read inside the build's transaction; rendered after it (`render`), since the
    renderer may read the database itself."""

    notices: list[tuple[str, NoticeView]] = field(default_factory=list)  # (member name, view)
    licences: list[tuple[str, SignedLicence]] = field(default_factory=list)  # (member base name, licence)
    listed_notices: list[dict[str, Any]] = field(default_factory=list)  # for metadata.json
    listed_licences: list[dict[str, Any]] = field(default_factory=list)


def collect(s: Session, case: Case, notices: list[Notice], safe: Callable[[str], str]) -> Documents:
    docs = Documents()
    for n in notices:
        view = notice_views.notice_view(n, case.case_no)  # the view the printed page is rendered from
        name = f"notices/{safe(n.number)}.html"
        docs.notices.append((name, view))
        docs.listed_notices.append({"kind": n.kind, "number": n.number, "title": view.title,
                                    "issued_at": n.issued_at, "file": name, "data": f"notices/{safe(n.number)}.json"})
    for licence in s.scalars(select(Licence).where(Licence.case_id == case.id).order_by(Licence.id)):
        item, dept = s.get_one(Item, licence.item_id), s.get_one(Department, licence.department_id)
        base = f"licences/{safe(licence.number)}"
        docs.licences.append((base, SignedLicence(licence.number, facts(licence, item, dept), licence.signature,
                                                  licence.algorithm, licence.key_id, dept.code)))
        docs.listed_licences.append({"number": licence.number, "version": licence.version, "state": licence.state,
                                     "licence_type": licence.licence_type, "file": f"{base}.pdf",
                                     "facts": f"{base}.{pdf.ATTACHMENT}"})
    return docs


def render(renderer: Renderer | None, upload_dir: Path, docs: Documents) -> dict[str, bytes]:
    """`notices/<number>.html` for every notice, `licences/<number>.pdf` and `.licence.json` for every licence.

    :raises NoRenderer: there are documents and no renderer. :raises PdfUnavailable: WeasyPrint or its
        libraries are missing (the package is retried later).
    """
    if renderer is None:
        if docs.notices or docs.licences:
            raise NoRenderer("没有可用的文书渲染器 / no document renderer in this process")
        return {}
    entries = {name: renderer.notice_html(view).encode() for name, view in docs.notices}
    for base, lic in docs.licences:
        url = renderer.licence_verify_url(lic.number).replace("{sig}", short_signature(lic.signature))
        entries[f"{base}.pdf"] = pdf.licence_pdf(lic.facts, lic.signature, lic.algorithm, url,
                                                 pdf.seal_of(upload_dir, lic.department_code))
        entries[f"{base}.{pdf.ATTACHMENT}"] = pdf.embedded(lic.facts, lic.signature, lic.key_id)
    return entries
