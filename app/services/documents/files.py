"""Uploaded materials: stored outside the web root by content hash, typed by their bytes, served only
after checking who asks (a file URL is not a capability)."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.models import Case, CaseFile, Draft
from app.services.context import ServiceContext
from app.services.identity.access import can_see_case
from app.services.identity.principal import Principal

MAX_FILE_BYTES = 20 * 1024 * 1024
CHUNK = 1024 * 1024
# Accepted types, recognised by their first bytes (the browser's Content-Type and the file name are
# only what the uploader claims).
SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
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


class FileStore:
    """Content-addressed files under `root` (instance/uploads), never inside app/static."""

    def __init__(self, root: Path, max_bytes: int = MAX_FILE_BYTES) -> None:
        self.root = root
        self.max_bytes = max_bytes

    def put(self, stream: IO[bytes], field: str = "file") -> StoredFile:
        """Store an upload; the bytes decide its type.

        :raises InvalidInput: empty, too large, or not a PDF, PNG or JPEG.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        digest, size = hashlib.sha256(), 0
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                head = b""
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise InvalidInput("file too large", [{"field": field, "message":
                                           f"文件不能超过 {self.max_bytes // 1024 // 1024} MB / file too large"}])
                    head = head or chunk[:16]
                    digest.update(chunk)
                    out.write(chunk)
            if size == 0:
                raise InvalidInput("empty file", [{"field": field, "message": "文件为空 / empty file"}])
            content_type = sniff(head)
            if content_type is None:
                raise InvalidInput("unsupported file type", [{"field": field, "message":
                                   "只接受 PDF、PNG、JPEG 文件 / only PDF, PNG and JPEG files"}])
            target = self.path(digest.hexdigest())
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)  # atomic: a killed upload never leaves half a file under a real name
            return StoredFile(digest.hexdigest(), size, content_type)
        finally:
            if os.path.exists(tmp_name):
                os.unlink(tmp_name)

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def discard(self, sha256: str) -> None:
        """Remove stored bytes; the caller has made sure that no record refers to them any more."""
        self.path(sha256).unlink(missing_ok=True)


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


def discard_unreferenced(ctx: ServiceContext, store: FileStore, hashes: Iterable[str]) -> list[str]:
    """Remove the stored bytes of those `hashes` that no draft or case file refers to any more (one
    stored file serves every record with the same content). Returns the hashes removed."""
    wanted = set(hashes)
    if not wanted:
        return []
    with ctx.uow() as uow:
        used = set(uow.session.scalars(select(CaseFile.sha256).where(CaseFile.sha256.in_(wanted)).distinct()))
    gone = sorted(wanted - used)
    for sha256 in gone:
        store.discard(sha256)
    return gone


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


def _clean_name(filename: str) -> str:
    """The name to show and offer on download: no path, no control characters."""
    name = os.path.basename(filename.replace("\\", "/")).strip() or "file"
    return "".join(ch for ch in name if ch.isprintable())[:255]


def store_for(ctx: ServiceContext) -> FileStore:
    return FileStore(ctx.upload_dir)

