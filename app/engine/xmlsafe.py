"""Parse uploaded XML without entity expansion, DTD loading or network access; read BPMN files in
the encodings designers' tools save, and keep only the elements BPMN and its known extensions define.

A document with a DOCTYPE is refused outright: BPMN never needs one, and it is how XXE and
"billion laughs" attacks arrive.
"""

from __future__ import annotations

import codecs
import re

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


class XmlEncodingError(UnsafeXml):
    """The bytes are not in an encoding the file names (or, naming none, not UTF-8), or it names one we
    do not read."""


# Declared encodings we read, by Python codec name: what Chinese and Western modelling tools save.
# GB2312 files from Windows tools usually hold GBK characters too, so GB2312 is read as GBK (its
# superset), as Windows does.
SUPPORTED_ENCODINGS = {"utf-8": "utf-8", "ascii": "utf-8", "utf-16": "utf-16", "utf-16-le": "utf-16",
                       "utf-16-be": "utf-16", "gbk": "gbk", "gb2312": "gbk", "gb18030": "gb18030",
                       "iso8859-1": "iso8859-1", "cp1252": "cp1252"}
SUPPORTED_TEXT = "UTF-8, UTF-16 (with a byte-order mark), GBK, GB2312, GB18030, ISO-8859-1 or windows-1252"
_DECLARED = re.compile(rb"""<\?xml\s[^>]*?\bencoding\s*=\s*["']([A-Za-z][A-Za-z0-9._-]*)["']""")
_DECLARED_TEXT = re.compile(r"""^(\ufeff?<\?xml\s[^>]*?\bencoding\s*=\s*)(["'])[A-Za-z][A-Za-z0-9._-]*\2""")
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def decode_xml(data: bytes) -> str:
    """The document as text, read as its byte-order mark or XML declaration says (UTF-8 if neither),
    without the mark and with the declaration naming UTF-8, so that `text.encode()` parses the same.

    :raises XmlEncodingError: an unsupported or undeclared encoding, or bytes not in the named one.
    """
    bom = next((name for mark, name in _BOMS if data.startswith(mark)), None)
    head = data[:4096]
    if bom == "utf-16":  # the declaration is itself UTF-16
        head = data[:8192].decode("utf-16", errors="replace").encode("ascii", errors="replace")
    match = _DECLARED.match(head.lstrip(codecs.BOM_UTF8))
    declared = match.group(1).decode("ascii") if match else None
    codec = _codec(bom, declared, data)
    try:
        text = data.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as exc:
        raise XmlEncodingError(_undecodable(declared or (bom and bom.upper()), exc)) from exc
    return _DECLARED_TEXT.sub(r"\1\2UTF-8\2", text.lstrip("\ufeff"), count=1)


def _codec(bom: str | None, declared: str | None, data: bytes) -> str:
    named = _codec_name(declared) if declared else None
    if bom == "utf-32" or (declared and named not in SUPPORTED_ENCODINGS):
        raise XmlEncodingError(f"unsupported encoding '{declared or 'UTF-32'}': save the file as {SUPPORTED_TEXT}")
    if bom is None and data[:2] in (b"<\x00", b"\x00<"):
        raise XmlEncodingError("UTF-16 without a byte-order mark: save it with the mark, or as UTF-8")
    codec = SUPPORTED_ENCODINGS[named] if named else None
    if bom and codec and codec != bom:
        raise XmlEncodingError(f"the byte-order mark says {bom.upper()} but the declaration says '{declared}'")
    if codec == "utf-16" and not bom:
        raise XmlEncodingError("the declaration says UTF-16 but the file has no UTF-16 byte-order mark")
    return bom or codec or "utf-8"


def _codec_name(declared: str) -> str | None:
    try:
        return codecs.lookup(declared).name
    except LookupError:
        return None


def _undecodable(named: str | None, exc: UnicodeDecodeError) -> str:
    if named is None:
        return (f"the file declares no encoding and is not UTF-8 (byte {exc.start}): save it as UTF-8, or "
                f'declare its encoding, e.g. <?xml version="1.0" encoding="GBK"?>')
    return f"the file is not valid {named} (byte {exc.start})"


# Elements of these namespaces may stay in a deployed file: BPMN 2.0 model and diagram interchange,
# and the modelling tools' extensions we know. Anything else (an XHTML <script>, say) is dropped at
# deploy: a browser opening the stored XML would run it.
BPMN_NAMESPACES = frozenset({
    "http://www.omg.org/spec/BPMN/20100524/MODEL",
    "http://www.omg.org/spec/BPMN/20100524/DI",
    "http://www.omg.org/spec/DD/20100524/DC",
    "http://www.omg.org/spec/DD/20100524/DI",
    "http://camunda.org/schema/1.0/bpmn",
    "http://camunda.org/schema/zeebe/1.0",
    "http://spiffworkflow.org/bpmn/schema/1.0/core",
    "http://bpmn.io/schema/bpmn/biocolor/1.0",
    "http://www.omg.org/spec/BPMN/non-normative/color/1.0",
})


def clean_bpmn(data: bytes) -> bytes:
    """The BPMN file as UTF-8 (see `decode_xml`) without elements of foreign namespaces and without
    processing instructions. A file that does not parse comes back only re-encoded, for the validator
    to report.

    :raises XmlEncodingError: see `decode_xml`.
    """
    text = decode_xml(data)
    try:
        tree = parse_xml(text)
    except UnsafeXml:
        return text.encode("utf-8")
    root = tree.getroot()
    foreign = [e for e in root.iterdescendants()
               if _foreign(e) and not any(_foreign(a) for a in e.iterancestors())]
    outside = [*root.itersiblings(preceding=True), *root.itersiblings()]
    if not foreign and not any(_foreign(e) for e in outside):
        return text.encode("utf-8")  # unchanged, so an unchanged file keeps its content hash
    for element in foreign:
        _remove(element)
    declaration = re.match(r"<\?xml[^>]*\?>", text)
    kept = [*reversed(list(root.itersiblings(preceding=True))), root, *root.itersiblings()]
    parts = [declaration.group(0)] if declaration else []
    parts += [etree.tostring(e, encoding="unicode", with_tail=False) for e in kept if not _foreign(e)]
    return ("\n".join(parts) + "\n").encode("utf-8")


def _foreign(element: etree._Element) -> bool:
    if isinstance(element, etree._ProcessingInstruction):
        return True
    if not isinstance(element.tag, str):  # comments
        return False
    return etree.QName(element).namespace not in BPMN_NAMESPACES


def _remove(element: etree._Element) -> None:
    """Take an element out, keeping the text that followed it."""
    parent = element.getparent()
    if parent is None:  # the root is never dropped: the validator refuses a foreign root instead
        return
    previous = element.getprevious()
    if element.tail:
        if previous is not None:
            previous.tail = (previous.tail or "") + element.tail
        else:
            parent.text = (parent.text or "") + element.tail
    parent.remove(element)
