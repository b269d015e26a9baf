"""Uploaded materials: stored outside the web root by content hash, typed by their bytes, served only
after checking who asks (a file URL is not a capability)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, union_all
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.models import FINAL_STATUSES, Case, CaseFile, Draft
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal

MB = 1024 * 1024
MAX_FILE_BYTES = 20 * MB
QUOTA_BYTES = 200 * MB  # per applicant: their drafts and open cases together
FILES_PER_DRAFT = 30
CHUNK = MB
TEMP_PREFIX = ".upload-"  # an upload being written; the clean-up job removes ones a killed process left
# Accepted types, recognised by their first bytes (the browser's Content-Type and the file name are
# only what the uploader claims).
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
# The extensions a name may keep for each type; any other gets the type's own appended on download.
EXTENSIONS = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg", ".jpe")}
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg"}


class FileNotFound(NotFound):
    pass


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class FileView:
    id: int
    material: str
    filename: str
    content_type: str
    size: int
    sha256: str
    round: int
    uploaded_at: datetime
    uploaded_by: str
    superseded: bool
    inline: bool

    @property
    def download_name(self) -> str:
        return download_name(self.filename, self.content_type)


class FileStore:
    """Content-addressed files under `root` (instance/uploads), never inside app/static, with the upload
    limits that apply to them: the size of one file, each applicant's total (quota) and the files one
    application may carry."""

    def __init__(self, root: Path, max_bytes: int = MAX_FILE_BYTES, *, quota_bytes: int = QUOTA_BYTES,
                 files_per_draft: int = FILES_PER_DRAFT) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self.quota_bytes = quota_bytes
        self.files_per_draft = files_per_draft

    @classmethod
    def from_settings(cls, root: Path, config: Mapping[str, Any]) -> FileStore:
        """The store with UPLOAD_MAX_BYTES, UPLOAD_QUOTA_MB and UPLOAD_FILES_PER_DRAFT applied."""
        return cls(root, int(config.get("UPLOAD_MAX_BYTES") or MAX_FILE_BYTES),
                   quota_bytes=int(float(config.get("UPLOAD_QUOTA_MB") or QUOTA_BYTES // MB) * MB),
                   files_per_draft=int(config.get("UPLOAD_FILES_PER_DRAFT") or FILES_PER_DRAFT))

    def put(self, stream: IO[bytes], field: str = "file", *, budget: int | None = None,
            written_at: datetime | None = None) -> StoredFile:
        """Store an upload; the bytes decide its type. `budget`: what is left of the uploader's quota.
        `written_at` becomes the file's mtime, the age the clean-up job reads, even when the same
        bytes were stored before: an upload that re-uses them keeps them from being swept.

        :raises InvalidInput: empty, larger than the file limit or the budget, or not a PDF, PNG or JPEG.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=TEMP_PREFIX)
        try:
            with os.fdopen(fd, "wb") as out:
                head = b""
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    self.check_size(size, budget, field)
                    head = head or chunk[:16]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise InvalidInput("empty file", [{"field": field, "message": "文件为空 / empty file"}])
            content_type = sniff(head)
            if content_type is None:
                raise InvalidInput("unsupported file type", [{"field": field, "message":
                                   "只接受 PDF、PNG、JPEG 文件 / only PDF, PNG and JPEG files"}])
            if written_at is not None:
                os.utime(tmp_name, (written_at.timestamp(), written_at.timestamp()))
            target = self.path(digest.hexdigest())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)  # atomic: a killed upload never leaves half a file under a real name
            return StoredFile(digest.hexdigest(), size, content_type)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def check_size(self, size: int, budget: int | None, field: str) -> None:
        """:raises InvalidInput: `size` bytes exceed the file limit or the uploader's remaining quota."""
        if size > self.max_bytes:
            raise InvalidInput("file too large", [{"field": field, "message":
                               f"文件不能超过 {self.max_bytes // MB} MB / file too large"}])
        if budget is not None and size > budget:
            raise InvalidInput("upload quota reached", [{"field": field, "message": quota_message(self.quota_bytes)}])

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256


def quota_message(quota_bytes: int) -> str:
    mb = f"{quota_bytes / MB:g}"
    return (f"已超出上传总量 {mb} MB，请先删除不再需要的暂存件或文件 / "
            f"upload quota of {mb} MB reached: delete drafts or files you no longer need")


def files_cap_message(limit: int) -> str:
    return f"每份申请最多上传 {limit} 个文件 / at most {limit} files per application"


def sniff(head: bytes) -> str | None:
    for magic, content_type, _ext in SIGNATURES:
        if head.startswith(magic):
            return content_type
    return None


def attach(s: Session, stored: StoredFile, *, material: str, filename: str, uploaded_by: int, now: datetime,
           case_id: int | None = None, draft_id: int | None = None, round_no: int = 0) -> CaseFile:
    """Record a stored upload on a case or a draft (inside the caller's unit of work)."""
    row = CaseFile(case_id=case_id, draft_id=draft_id, material=material[:200], filename=_clean_name(filename),
                   content_type=stored.content_type, size=stored.size, sha256=stored.sha256, round=round_no,
                   uploaded_by_id=uploaded_by, uploaded_at=now)
    s.add(row)
    return row


def stored_bytes(s: Session, applicant_id: int) -> int:
    """What counts against an applicant's quota: the files on their drafts and on their open cases."""
    on_drafts = select(CaseFile.size).join(Draft, Draft.id == CaseFile.draft_id).where(
        Draft.applicant_id == applicant_id)
    on_cases = select(CaseFile.size).join(Case, Case.id == CaseFile.case_id).where(
        Case.applicant_id == applicant_id, Case.status.not_in(FINAL_STATUSES))
    sizes = union_all(on_drafts, on_cases).subquery()
    return int(s.scalar(select(func.coalesce(func.sum(sizes.c.size), 0))) or 0)


def case_files(s: Session, case_id: int) -> list[FileView]:
    rows = s.scalars(select(CaseFile).where(CaseFile.case_id == case_id).order_by(CaseFile.material, CaseFile.id))
    return [view(r) for r in rows]


def view(row: CaseFile) -> FileView:
    return FileView(row.id, row.material, row.filename, row.content_type, row.size, row.sha256, row.round,
                    row.uploaded_at, row.uploaded_by.full_name or row.uploaded_by.username,
                    row.superseded_at is not None, row.content_type in INLINE_TYPES)


def open_file(ctx: ServiceContext, principal: Principal, file_id: int, store: FileStore) -> tuple[FileView, Path]:
    """A file's record and path, if `principal` may see it: the owner of its draft, or anyone who may
    see its case.

    :raises FileNotFound: unknown, or not visible to this user (no hint which).
    """
    with ctx.uow() as uow:
        s = uow.session
        row = s.get(CaseFile, file_id)
        if row is None or not _may_see(s, principal, row):
            raise FileNotFound("文件不存在 / file not found")
        path = store.path(row.sha256)
        if not path.is_file():
            raise FileNotFound("文件不存在 / file not found")
        return view(row), path


def _may_see(s: Session, principal: Principal, row: CaseFile) -> bool:
    if row.case_id is not None:
        case = s.get(Case, row.case_id)
        return case is not None and can_see_case(s, principal, case)
    if row.draft_id is not None:
        draft = s.get(Draft, row.draft_id)
        return draft is not None and draft.applicant_id == principal.id
    return False


def download_name(filename: str, content_type: str) -> str:
    """The name offered on download ends with the extension of the type its bytes showed (`x.html`
    holding a PDF is offered as `x.html.pdf`), so a saved file opens as what it is, not as a page."""
    allowed = EXTENSIONS.get(content_type, ())
    if not allowed or os.path.splitext(filename)[1].lower() in allowed:
        return filename
    return filename[: 255 - len(allowed[0])] + allowed[0]


def _clean_name(filename: str) -> str:
    """The name to show and offer on download: no path, no control characters."""
    name = os.path.basename(filename.replace("\\", "/")).strip() or "file"
    return "".join(ch for ch in name if ch.isprintable())[:255]


def store_for(ctx: ServiceContext) -> FileStore:
    return FileStore(ctx.upload_dir)

