"""The licence PDF for whoever may see the licence (its applicant, staff who may see its case)."""

from __future__ import annotations

from app.services.context import ServiceContext
from app.services.identity.principal import Principal

from . import pdf, records


def licence_pdf(ctx: ServiceContext, principal: Principal, number: str, verify_url: str,
                version: int | None = None) -> bytes:
    """The PDF of a version (the latest by default). `verify_url`: where the QR leads (the caller knows
    the site's address); `{sig}` in it is replaced by the short signature, which names the version.

    :raises LicenceNotFound:
    :raises PdfUnavailable:
    """
    view = records.get(ctx, principal, number, version)
    seal = pdf.seal_of(ctx.upload_dir, str(view.facts["department_code"]))
    return pdf.licence_pdf(view.facts, view.signature, view.algorithm,
                           verify_url.replace("%7Bsig%7D", view.short_signature).replace("{sig}", view.short_signature),
                           seal)
