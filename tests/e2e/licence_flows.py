"""Licences as their users meet them: the company's food licence issued on its granted case, an
administrator naming licence types on an item's materials (减材料), and the public check of a PDF."""

from __future__ import annotations

import io
import re
from typing import Any

from .flows import ACCEPT, APPROVE, FOOD, FOOD_APPLY, GRANT, INSTANT, ISSUE, PASS, apply, complete

LICENCE = ISSUE["licence_no"]
FOOD_LICENCE = "食品经营许可证"
ORIGINAL = "原食品经营许可证"  # the material the reissue item gains: index 4
ITEM_FIELDS = ("name", "type_code", "department", "legal_basis", "case_kind", "statutory_limit", "promised_limit",
               "limit_unit", "joint", "departments", "fees", "process_key", "form_key", "case_prefix",
               "yellow_ratio", "yellow_days")


def issue_food_licence(api: Any) -> str:
    """The company's food licence, issued on its own granted case; the case number."""
    case_no = str(apply(api, FOOD, FOOD_APPLY)["case_no"])
    complete(api, case_no, "preview", "market_clerk", PASS)
    complete(api, case_no, "acceptance", "market_clerk", ACCEPT)
    complete(api, case_no, "review", "market_approver", APPROVE)
    complete(api, case_no, "decision", "market_head", GRANT)
    complete(api, case_no, "issue_licence", "center_clerk", ISSUE)
    assert api.get(f"/licences/{LICENCE}", "company").get_json()["state"] == "valid"
    return case_no


def name_licence_types(api: Any, code: str, types: dict[int, str], extra: list[dict[str, Any]] | None = None) -> None:
    """An administrator gives materials of `code` a licence type (and adds `extra` materials), published at once."""
    item = api.get(f"/items/{code}", "admin").get_json()
    materials = [{k: m.get(k) for k in ("name", "required", "description", "template", "sample", "licence_type")}
                 for m in item["materials"]] + list(extra or [])
    for index, licence_type in types.items():
        materials[index]["licence_type"] = licence_type
    resp = api.put(f"/items/{code}", "admin", json={**{k: item[k] for k in ITEM_FIELDS}, "materials": materials})
    assert resp.status_code == 200, resp.get_json()


def reissue_needs_the_original(api: Any) -> None:
    """The reissue item (补办) asks for the original licence as a required material, index 4."""
    name_licence_types(api, INSTANT, {}, [{"name": ORIGINAL, "required": True, "description": "",
                                           "licence_type": FOOD_LICENCE}])


def verdict_of_pdf(client: Any, pdf: bytes) -> str:
    """The public verification page's verdict (data-status) on an uploaded licence PDF."""
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/verify").get_data(as_text=True))
    assert token
    resp = client.post("/verify", data={"csrf_token": token.group(1), "file": (io.BytesIO(pdf), "licence.pdf")},
                       content_type="multipart/form-data")
    match = re.search(r'data-status="(\w+)"', resp.get_data(as_text=True))
    assert match, resp.get_data(as_text=True)
    return match.group(1)
