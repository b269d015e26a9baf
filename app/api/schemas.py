"""marshmallow schemas of the API's request bodies and query strings."""

from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from app.models import CASE_KINDS, GUIDE_FIELDS, LIMIT_UNITS, TYPE_CODES
from app.services.casework.tasks import VIEWS
from app.services.paging import FIRST_DATE, LAST_DATE, MAX_PAGE, MAX_PER_PAGE


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Paging(Schema):
    """The query string of every paged list; other arguments a client adds are ignored."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(1, MAX_PAGE))
    per_page = fields.Integer(load_default=20, validate=validate.Range(1, MAX_PER_PAGE))


def bounded_date(**options: object) -> fields.Date:
    """A date field that takes only dates within FIRST_DATE..LAST_DATE (year 9999 has no next day)."""
    return fields.Date(validate=validate.Range(FIRST_DATE, LAST_DATE), **options)  # type: ignore[arg-type]


class TokenRequest(Strict):
    username = fields.String(required=True, validate=validate.Length(1, 64))
    password = fields.String(required=True, validate=validate.Length(1, 256))


class FileRef(Strict):
    """A template or sample file uploaded with POST /items/files: the stored bytes' hash and the name to
    offer (type and size are read again from the bytes)."""

    sha256 = fields.String(required=True, validate=validate.Regexp(r"^[0-9a-f]{64}$"))
    filename = fields.String(required=True, validate=validate.Length(1, 200))
    content_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 200))
    size = fields.Integer(load_default=None, allow_none=True)


class Material(Strict):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    required = fields.Boolean(load_default=True)
    description = fields.String(load_default="", validate=validate.Length(0, 2000))
    template = fields.Nested(FileRef, load_default=None, allow_none=True)  # 申请表单范本 / 空白表格
    sample = fields.Nested(FileRef, load_default=None, allow_none=True)  # 示范文本 (a filled-in example)
    # 可调取电子证照: a valid licence of this type the applicant holds may stand for the material (减材料)
    licence_type = fields.String(load_default=None, allow_none=True, validate=validate.Length(0, 200))


class _ItemFields(Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9_.-]{1,63}$"))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    type_code = fields.String(required=True, validate=validate.OneOf(list(TYPE_CODES)))
    department = fields.String(required=True, validate=validate.Length(1, 64))
    legal_basis = fields.String(load_default="", validate=validate.Length(0, 5000))
    case_kind = fields.String(required=True, validate=validate.OneOf(list(CASE_KINDS)))
    statutory_limit = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 3650))
    promised_limit = fields.Integer(required=True, validate=validate.Range(0, 3650))
    limit_unit = fields.String(load_default="wd", validate=validate.OneOf(list(LIMIT_UNITS)))
    joint = fields.Boolean(load_default=False)
    departments = fields.List(fields.String(validate=validate.Length(1, 64)), load_default=list)
    materials = fields.List(fields.Nested(Material), load_default=list)
    fees = fields.String(load_default="不收费", validate=validate.Length(0, 2000))
    process_key = fields.String(required=True, validate=validate.Length(1, 128))
    form_key = fields.String(load_default=None, allow_none=True, validate=validate.Length(1, 200))
    case_prefix = fields.String(required=True, validate=validate.Regexp(r"^[A-Z]{1,6}$"))
    active = fields.Boolean(load_default=True)
    # Alarm thresholds (电子监察); empty = the defaults: yellow at 80 % elapsed or 1 working day left.
    yellow_ratio = fields.Float(load_default=None, allow_none=True, validate=validate.Range(0.05, 1.0))
    yellow_days = fields.Integer(load_default=None, allow_none=True, validate=validate.Range(0, 60))
    result_sample_file = fields.Nested(FileRef, load_default=None, allow_none=True)  # 办理结果样本


# An item: the fields above plus the public guide fields, all free text.
ItemBody = type("ItemBody", (_ItemFields,), {
    name: fields.String(load_default="", validate=validate.Length(0, 5000)) for name in GUIDE_FIELDS})


def _reuse() -> fields.Dict:
    """{material index: licence number}: a licence the applicant holds stands for that material (减材料)."""
    return fields.Dict(keys=fields.String(validate=validate.Regexp(r"^\d{1,4}$",
                                                                   error="应为材料序号 / a material index")),
                       values=fields.String(validate=validate.Length(1, 64)), load_default=dict)


class CaseCreate(Strict):
    item_code = fields.String(required=True, validate=validate.Length(1, 64))
    data = fields.Dict(keys=fields.String(), load_default=dict)
    applicant = fields.String(load_default=None, allow_none=True)
    reuse = _reuse()


class Withdrawal(Strict):
    reason = fields.String(load_default="", validate=validate.Length(0, 2000))


class TaskComplete(Strict):
    data = fields.Dict(keys=fields.String(), load_default=dict)


class Resubmission(TaskComplete):
    reuse = _reuse()


class TaskQuery(Paging):
    view = fields.String(load_default="all", validate=validate.OneOf(VIEWS))
    item_code = fields.String(load_default=None)
    case_no = fields.String(load_default=None)
