"""Parse uploaded XML without entity expansion, DTD loading or network access.

A document with a DOCTYPE is refused outright: BPMN never needs one, and it is how XXE and
"billion laughs" attacks arrive.
"""

from __future__ import annotations

from lxml import etree


class UnsafeXml(ValueError):
    """The XML is malformed or uses a forbidden construct; the message says which and where."""


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
        huge_tree=False, remove_comments=False,
    )


def parse_xml(content: bytes | str) -> etree._ElementTree:
    """Parse `content` safely and return the element tree.

    :raises UnsafeXml: malformed XML, a DOCTYPE, or entity declarations.
    """
    data = content.encode("utf-8") if isinstance(content, str) else content
    head = data[:4096].lower()
    if b"<!doctype" in head or b"<!entity" in data.lower():
        raise UnsafeXml("DOCTYPE and entity declarations are not allowed in BPMN files")
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        raise UnsafeXml(f"malformed XML: {exc.msg} (line {exc.lineno})") from exc
    tree = root.getroottree()
    if tree.docinfo.doctype:
        raise UnsafeXml("DOCTYPE declarations are not allowed in BPMN files")
    return tree
