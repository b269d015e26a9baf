"""Department signing keys: generated and rotated by `flask licences keys ...`, private halves as PEM files
in the keys folder (BANJIAN_KEYS_DIR, outside the web root, mode 0600), public halves in department_keys
so verification needs no file and survives rotation.

A key file is named by its key id; a department's current key is its newest row not retired.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.errors import Conflict, NotFound
from app.models import Department, DepartmentKey
from app.services.context import ServiceContext

from .canonical import b64


class KeyMissing(Conflict):
    """The department has no usable signing key (none generated, or its private file is gone)."""


@dataclass(frozen=True)
class PublicKeyView:
    key_id: str
    department: str
    algorithm: str
    public_key: str
    created_at: datetime
    retired_at: datetime | None


def generate(ctx: ServiceContext, keys_dir: Path, department_code: str, rotate: bool = False) -> PublicKeyView:
    """A new key for the department; with `rotate` the current one is retired (its licences stay verifiable).

    :raises NotFound: no such department.
    :raises Conflict: the department has a key already and `rotate` was not asked.
    """
    with ctx.uow(write=True) as uow:
        s = uow.session
        dept = s.scalar(select(Department).where(Department.code == department_code))
        if dept is None:
            raise NotFound(f"部门不存在 / department '{department_code}' not found")
        current = current_key(s, dept.id)
        if current is not None and not rotate:
            raise Conflict(f"部门已有密钥 {current.key_id}，请用 rotate / department has a key; use rotate")
        now = ctx.clock.now()
        if current is not None:
            current.retired_at = now
        row = create_key(s, keys_dir, dept, now)
        view = _view(row, dept.code)
        uow.commit()
        return view


def create_key(s: Session, keys_dir: Path, dept: Department, now: datetime) -> DepartmentKey:
    """Write a fresh private key file and its public row (the caller commits)."""
    private = Ed25519PrivateKey.generate()
    key_id = f"{dept.code}-{now.strftime('%Y%m%d')}-{secrets.token_hex(4)}"
    _write_private(keys_dir, key_id, private)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    row = DepartmentKey(key_id=key_id, department_id=dept.id, algorithm="ed25519", public_key=b64(raw),
                        created_at=now)
    s.add(row)
    s.flush()
    return row


def current_key(s: Session, department_id: int) -> DepartmentKey | None:
    return s.scalar(select(DepartmentKey).where(DepartmentKey.department_id == department_id,
                                                DepartmentKey.retired_at.is_(None))
                    .order_by(DepartmentKey.id.desc()).limit(1))


def private_key(keys_dir: Path, key_id: str) -> Ed25519PrivateKey:
    """:raises KeyMissing: the file is absent or not an Ed25519 key."""
    try:
        loaded = serialization.load_pem_private_key((keys_dir / f"{key_id}.pem").read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise KeyMissing(f"签名私钥不可用 / private key {key_id} unavailable") from exc
    if not isinstance(loaded, Ed25519PrivateKey):
        raise KeyMissing(f"签名私钥类型不符 / key {key_id} is not Ed25519")
    return loaded


def published(ctx: ServiceContext) -> list[PublicKeyView]:
    """Every public key, retired ones too: a licence signed before a rotation verifies with its old key."""
    with ctx.uow() as uow:
        rows = uow.session.execute(select(DepartmentKey, Department.code)
                                   .join(Department, Department.id == DepartmentKey.department_id)
                                   .order_by(DepartmentKey.id))
        return [_view(k, code) for k, code in rows]


def _write_private(keys_dir: Path, key_id: str, private: Ed25519PrivateKey) -> None:
    keys_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    # O_EXCL: a key file is never overwritten; 0600: only the service account reads it.
    fd = os.open(keys_dir / f"{key_id}.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)


def _view(row: DepartmentKey, code: str) -> PublicKeyView:
    return PublicKeyView(key_id=row.key_id, department=code, algorithm=row.algorithm, public_key=row.public_key,
                         created_at=row.created_at, retired_at=row.retired_at)
