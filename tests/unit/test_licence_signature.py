"""The signed bytes of an e-licence: canonical JSON that does not depend on key order or on how Chinese
text is escaped, Ed25519 over it, and old signatures that still verify after a key rotation."""

from __future__ import annotations

import json

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from app.services.licensing.canonical import b64, canonical_json, digest, short_signature, sign, verify
from app.services.licensing.settings import settings_of

FACTS = {"number": "JY14201020260001", "holder_name": "武汉市江岸区老街坊餐饮店", "version": 1,
         "content": {"经营场所": "武汉市江岸区沿江大道100号", "面积": 85}, "valid_to": None}


def _public(key: Ed25519PrivateKey) -> str:
    return b64(key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw))


def test_canonical_json_is_stable_across_key_order_and_unicode_escaping():
    reordered = json.loads(json.dumps(dict(reversed(list(FACTS.items()))), ensure_ascii=True))
    reordered["content"] = dict(reversed(list(reordered["content"].items())))
    assert canonical_json(reordered) == canonical_json(FACTS)
    text = canonical_json(FACTS).decode("utf-8")
    assert "武汉市" in text and "\\u" not in text and " " not in text.replace("沿江大道100号", "")
    assert text.startswith('{"content":{"经营场所"')  # keys sorted (code point order)
    assert digest(canonical_json(FACTS)) == digest(canonical_json(reordered))


def test_signature_covers_every_fact():
    key = Ed25519PrivateKey.generate()
    signature = sign(key, canonical_json(FACTS))
    assert verify(_public(key), canonical_json(FACTS), signature)
    altered = {**FACTS, "holder_name": "冒名公司"}
    assert not verify(_public(key), canonical_json(altered), signature)
    nested = {**FACTS, "content": {**FACTS["content"], "面积": 86}}
    assert not verify(_public(key), canonical_json(nested), signature)
    assert not verify(_public(key), canonical_json(FACTS), "not-a-signature")
    assert not verify("garbage", canonical_json(FACTS), signature)
    assert short_signature(signature) == signature[:16]


def test_rotation_keeps_old_licences_verifiable():
    old, new = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    before = sign(old, canonical_json({**FACTS, "key_id": "old"}))
    after = sign(new, canonical_json({**FACTS, "key_id": "new"}))
    published = {"old": _public(old), "new": _public(new)}  # a retired key stays published
    assert verify(published["old"], canonical_json({**FACTS, "key_id": "old"}), before)
    assert verify(published["new"], canonical_json({**FACTS, "key_id": "new"}), after)
    assert not verify(published["new"], canonical_json({**FACTS, "key_id": "old"}), before)


def test_item_licence_settings_from_the_guide():
    conf = settings_of({"licence": {"type": "食品经营许可证", "validity_years": 5, "holder_name": "business_name",
                                    "fields": {"经营场所": "business_address"}}}, "食品经营许可", {})
    assert conf.issues and conf.licence_type == "食品经营许可证" and conf.holder_name == ("business_name",)
    assert dict(conf.fields) == {"经营场所": "business_address"}
    assert not settings_of({}, "x", {}).issues and settings_of({}, "x", {"licence_no": "A1"}).issues
    assert not settings_of({"licence": {"issues": False}}, "x", {"licence_no": "A1"}).issues
