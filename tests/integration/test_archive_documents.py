"""Every issued document in the archive package as the document a person reads: each notice as the page
the counter prints (self-contained: styles inlined, no site chrome, no script), beside its data; the
e-licence as its PDF with the signed facts; all of it in the manifest; a case that really went through
the counter (correction, acceptance, decision, issuance) (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update

from app.models import Case, EngineTimer, HumanTask, Licence, Notice
from app.services.archive import builder
from app.services.archive.package import check_zip
from app.services.licensing.pdf import read_embedded
from tests.web.test_documents_pages import full_case

pytestmark = pytest.mark.usefixtures("demo")


def _close(app, case_no: str) -> None:
    """Whatever the issued case still waits for (a pickup, a rating reminder) is over."""
    ctx = app.extensions["banjian"]
    with ctx.uow(write=True) as uow:
        s = uow.session
        case = s.scalars(select(Case).where(Case.case_no == case_no)).one()
        s.execute(update(Case).where(Case.id == case.id).values(status="issued", closed_at=ctx.clock.now()))
        for model in (HumanTask, EngineTimer):
            for row in s.scalars(select(model).where(model.case_id == case.id)):
                s.delete(row)
        uow.commit()


def test_notices_are_pages_and_the_licence_a_pdf_in_the_manifest(app, api):
    case_no = full_case(api)
    _close(app, case_no)
    ctx = app.extensions["banjian"]
    app.config["PUBLIC_URL"] = "https://zwfw.example.gov.cn"
    assert builder.run_archive(ctx).built == 1
    with ctx.uow() as uow:
        s = uow.session
        case_id = s.scalar(select(Case.id).where(Case.case_no == case_no))
        issued = {n.number: n.kind for n in s.scalars(select(Notice).where(Notice.case_id == case_id))}
        licences = list(s.scalars(select(Licence.number).where(Licence.case_id == case_id)))
    assert {"receipt", "correction", "acceptance", "decision"} <= set(issued.values())
    path = builder.archive_dir(ctx) / f"{case_no}.zip"
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))["files"]
        meta = json.loads(zf.read("metadata.json"))
        pages = {number: zf.read(f"notices/{number}.html").decode() for number in issued}
        pdfs = {number: zf.read(f"licences/{number}.pdf") for number in licences}
        signed = {number: json.loads(zf.read(f"licences/{number}.licence.json")) for number in licences}
    assert set(manifest) == names - {"manifest.json"}  # every document is in the manifest
    for number, _kind in issued.items():
        page = pages[number]
        assert number in page and case_no in page and page.startswith("<!doctype html>")
        assert "<style>" in page and 'rel="stylesheet"' not in page  # the styles travel with it
        assert "<script" not in page and 'class="site-header' not in page and "打印" not in page  # no chrome, no button
        assert f"notices/{number}.json" in names  # its data beside it
    decision = next(n for n, k in issued.items() if k == "decision")
    assert "行政许可决定书" in pages[decision] and "准予" in pages[decision]
    correction = next(n for n, k in issued.items() if k == "correction")
    assert "请补充法定代表人签字" in pages[correction]  # the one notice lists what to correct
    assert sorted(d["number"] for d in meta["documents"]) == sorted(issued)
    assert licences and [entry["number"] for entry in meta["licences"]] == licences
    for number in licences:
        assert pdfs[number].startswith(b"%PDF")
        assert read_embedded(pdfs[number]) == signed[number]  # the PDF carries the same signed facts
        assert signed[number]["facts"]["number"] == number
        assert _qr(pdfs[number]).startswith(f"https://zwfw.example.gov.cn/verify/{number}?sig=")  # leads to the site
    [package] = builder_rows(app)
    assert check_zip(path, package).intact


def _qr(pdf_bytes: bytes) -> str:
    zxingcpp = pytest.importorskip("zxingcpp")
    images = [image.image for page in PdfReader(io.BytesIO(pdf_bytes)).pages for image in page.images]
    [code] = [c.text for image in images for c in zxingcpp.read_barcodes(image)
              if c.format == zxingcpp.BarcodeFormat.QRCode]  # a seal image can decode as a 1D barcode
    return str(code)


def builder_rows(app) -> list[str | None]:
    from app.models import ArchivePackage

    with app.extensions["banjian"].uow() as uow:
        return list(uow.session.scalars(select(ArchivePackage.sha256)))


def test_without_a_renderer_the_package_waits_rather_than_being_built_without_its_documents(app, api):
    case_no = full_case(api)
    _close(app, case_no)
    ctx = app.extensions["banjian"]
    ctx.documents, renderer = None, ctx.documents
    try:
        result = builder.run_archive(ctx)
    finally:
        ctx.documents = renderer
    assert (result.built, result.failed) == (0, 1)
    assert not (builder.archive_dir(ctx) / f"{case_no}.zip").exists()
