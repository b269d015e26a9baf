"""Real-name identity of applicants: resident ID numbers (GB 11643-1999), unified social credit codes
(GB 32100-2015), mobile numbers; online registration and the accounts window clerks open for walk-ins."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.clock import CHINA_TZ
from app.errors import DuplicateName, ErrorDetail, Forbidden, InvalidInput
from app.models import User
from app.services.context import ServiceContext
from app.services.identity.auth import hash_password
from app.services.identity.principal import Principal

KINDS = ("person", "company")

# GB 11643-1999: weights 2^(18-i) mod 11 for the first 17 characters; the remainder indexes the check.
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"[1-9]\d{5}(\d{4})(\d{2})(\d{2})\d{3}[0-9X]")

# GB 32100-2015: 31 characters (no I, O, Z, S, V); weights 3^(i-1) mod 31; check = 31 - sum mod 31.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_SHAPE = re.compile(r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}")

_MOBILE = re.compile(r"1[3-9]\d{9}")
_USERNAME = re.compile(r"[A-Za-z0-9_.\-]{3,64}")


def normalize_id(number: str | None) -> str:
    """Upper case without spaces: a lower-case `x` check character is the same number."""
    return re.sub(r"\s+", "", number or "").upper()


def normalize_mobile(phone: str | None) -> str:
    """Digits only, without the +86 country prefix."""
    digits = re.sub(r"[\s\-()]", "", phone or "")
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix):]
    return digits


def resident_id_check(first17: str) -> str:
    """The check character of a resident ID number's first 17 digits (ISO 7064 MOD 11-2)."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def valid_resident_id(number: str, today: date | None = None) -> bool:
    """An 18-character resident ID number: region, a real birth date not after `today`, the check."""
    number = normalize_id(number)
    match = _ID_SHAPE.fullmatch(number)
    if match is None:
        return False
    try:
        born = date(*(int(g) for g in match.groups()))
    except ValueError:
        return False
    if born.year < 1900 or (today is not None and born > today):
        return False
    return number[17] == resident_id_check(number[:17])


def credit_code_check(first17: str) -> str:
    """The check character of a credit code's first 17 characters."""
    total = sum(CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def valid_credit_code(code: str) -> bool:
    """An 18-character unified social credit code from the allowed alphabet with a correct check."""
    code = normalize_id(code)
    if _CREDIT_SHAPE.fullmatch(code) is None:
        return False
    return code[17] == credit_code_check(code[:17])


def valid_mobile(phone: str) -> bool:
    """A mainland mobile number: 11 digits starting 13-19."""
    return _MOBILE.fullmatch(normalize_mobile(phone)) is not None


@dataclass(frozen=True)
class Registration:
    """What an applicant gives to register. `name` is the person's name or the company's name;
    `contact_name` is the company's contact person."""

    kind: str
    username: str
    password: str
    name: str
    id_number: str
    phone: str
    contact_name: str = ""


def register_applicant(ctx: ServiceContext, form: Registration) -> Principal:
    """Open an applicant account under a checked real-name identity.

    :raises InvalidInput: a field is missing or invalid (details name every bad field at once).
    :raises DuplicateName: the user name or the identity number is already registered.
    """
    id_number, phone = normalize_id(form.id_number), normalize_mobile(form.phone)
    errors = _registration_errors(form, id_number, phone, _today(ctx))
    if errors:
        raise InvalidInput("注册信息有误 / invalid registration", errors)
    with ctx.uow(write=True) as uow:
        s = uow.session
        taken = []
        if s.scalar(select(User.id).where(User.username == form.username)) is not None:
            taken.append({"field": "username", "message": "用户名已被使用 / this user name is taken"})
        if _by_identity(s, id_number) is not None:
            # No more than needed: not whose account, nor whether it was opened online or at a window;
            # registrations refused are rate-limited per address by the pages.
            taken.append({"field": "id_number", "message": "该证件号码已注册或不能在线注册，如是本人请登录或到窗口办理 / "
                          "this number cannot be registered online: if it is yours, sign in or ask at a window"})
        if taken:
            raise DuplicateName("已注册 / already registered", taken)
        user = User(username=form.username, password_hash=hash_password(form.password, ctx.password_method),
                    role="applicant", full_name=form.name.strip(), phone=phone, id_kind=form.kind,
                    id_number=id_number, contact_name=_contact(form.kind, form.contact_name),
                    created_at=ctx.clock.now())
        s.add(user)
        s.flush()
        principal = Principal.of(user)
        uow.commit()
        return principal


def find_or_create_walk_in(ctx: ServiceContext, clerk: Principal, *, kind: str, id_number: str,
                           name: str = "", phone: str = "", contact_name: str = "", checked: bool = False) -> str:
    """The user name of the applicant with this identity, for window intake: an existing account (only
    its blank fields filled: what the applicant registered is theirs), or a new one that cannot sign
    in (a random password nobody knows) until the applicant registers it at a window. `checked`: the
    caller has just run `walk_in_errors` and found nothing.

    :raises Forbidden: not a window clerk. :raises InvalidInput: what `walk_in_errors` finds; nothing is changed.
    """
    if not clerk.has("clerk", "admin"):
        raise Forbidden("只有窗口人员可以代为申请 / only window clerks may apply on behalf of someone")
    errors = [] if checked else walk_in_errors(ctx, kind, id_number, name, phone, contact_name)
    number, phone = normalize_id(id_number), normalize_mobile(phone)
    if errors:
        raise InvalidInput("申请人信息有误 / invalid applicant identity", errors)
    with ctx.uow(write=True) as uow:
        s = uow.session
        user = _by_identity(s, number)
        # The account may have been opened or renamed since the check: the same rule on the row read here.
        errors = _account_errors(user, name)
        if errors:
            raise InvalidInput("申请人信息有误 / invalid applicant identity", errors)
        if user is None:
            user = User(username=_free_username(s, number), role="applicant", id_kind=kind, id_number=number,
                        password_hash=hash_password(secrets.token_urlsafe(32), ctx.password_method),
                        full_name=name.strip(), phone=phone or None, contact_name=_contact(kind, contact_name),
                        created_at=ctx.clock.now())
            s.add(user)
        else:
            _fill_blanks(user, name, phone, contact_name)
        s.flush()
        username = user.username
        uow.commit()
        return username


def _fill_blanks(user: User, name: str, phone: str, contact_name: str) -> None:
    """Window intake for an existing account: fill what it lacks, never overwrite what it has."""
    user.full_name = user.full_name or name.strip()
    user.phone = user.phone or phone or None
    user.contact_name = user.contact_name or _contact(user.id_kind or "", contact_name)


def _contact(kind: str, contact_name: str) -> str | None:
    """A company's contact person (a person is their own contact)."""
    return (contact_name.strip()[:100] or None) if kind == "company" else None


def _registration_errors(form: Registration, id_number: str, phone: str, today: date) -> list[ErrorDetail]:
    errors = _identity_errors(form.kind, id_number, today)
    if not _USERNAME.fullmatch(form.username or ""):
        errors.append({"field": "username", "message": "3-64 个字母、数字或 _.- / 3-64 letters, digits or _.-"})
    if len(form.password or "") < 8:
        errors.append({"field": "password", "message": "密码至少 8 位 / at least 8 characters"})
    if not form.name.strip() or len(form.name.strip()) > 100:
        errors.append({"field": "name", "message": "必填，最多 100 字 / required, at most 100 characters"})
    if form.kind == "company" and not form.contact_name.strip():
        errors.append({"field": "contact_name", "message": "必填 / required"})
    if not valid_mobile(phone):
        errors.append({"field": "phone", "message": "手机号码无效 / not a valid mobile number"})
    return errors


def _identity_errors(kind: str, number: str, today: date) -> list[ErrorDetail]:
    if kind not in KINDS:
        return [{"field": "kind", "message": "个人或法人 / person or company"}]
    if kind == "person" and not valid_resident_id(number, today):
        return [{"field": "id_number", "message": "身份证号码无效（长度、出生日期或校验位） / not a valid resident "
                 "ID number (length, birth date or check character)"}]
    if kind == "company" and not valid_credit_code(number):
        return [{"field": "id_number", "message": "统一社会信用代码无效（字符或校验位） / not a valid unified "
                 "social credit code (characters or check character)"}]
    return []


def walk_in_errors(ctx: ServiceContext, kind: str, id_number: str, name: str, phone: str,
                   contact_name: str = "") -> list[ErrorDetail]:
    """What is wrong with a walk-in applicant's identity (empty list: nothing): the fields, and for a valid
    number the account it already has (a staff account; another name) or, without one, a missing name.
    Reads only: run it before anything is stored."""
    phone, number = normalize_mobile(phone), normalize_id(id_number)
    errors = _identity_errors(kind, number, _today(ctx))
    if not errors:
        with ctx.uow() as uow:
            errors = _account_errors(_by_identity(uow.session, number), name)
    if len(name.strip()) > 100:
        errors.append({"field": "name", "message": "最多 100 字 / at most 100 characters"})
    if len(contact_name.strip()) > 100:
        errors.append({"field": "contact_name", "message": "最多 100 字 / at most 100 characters"})
    if phone and not valid_mobile(phone):
        errors.append({"field": "phone", "message": "手机号码无效 / not a valid mobile number"})
    return errors


def _account_errors(user: User | None, name: str) -> list[ErrorDetail]:
    """Window intake against the account a number already has, or the account it would open."""
    if user is None:
        return [] if name.strip() else [{"field": "name", "message": "新申请人需填写名称 / a new applicant needs a name"}]
    if user.role != "applicant":
        return [{"field": "id_number", "message": "该证件号码不属于申请人账号 / this number belongs to a staff account"}]
    if name.strip() and user.full_name and " ".join(name.split()) != " ".join(user.full_name.split()):
        return [{"field": "name", "message": "该证件号码已登记在另一名称下，请核对证件号码和名称 / this ID number is "
                 "registered under another name; please check the number and the name"}]
    return []


def _by_identity(s: Session, number: str) -> User | None:
    return s.scalars(select(User).where(User.id_number == number).order_by(User.id).limit(1)).first()


def _free_username(s: Session, number: str) -> str:
    """`w` + the number in lower case; someone may have registered that name, so add a counter."""
    base = f"w{number.lower()}"
    name, n = base, 1
    while s.scalar(select(User.id).where(User.username == name)) is not None:
        n += 1
        name = f"{base}-{n}"
    return name


def _today(ctx: ServiceContext) -> date:
    return ctx.clock.now().astimezone(CHINA_TZ).date()
