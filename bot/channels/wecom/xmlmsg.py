"""The XML WeCom posts: the encrypted envelope and the flat message inside it.

The envelope arrives from anyone who can reach the callback URL, so it is never given to an
XML parser: the Encrypt field is found by a bounded scan (`encrypted_field`) and its
signature checked before anything else is done with the body. Only the decrypted message,
which WeCom signed, is parsed. WeCom sends UTF-8 and never a DTD: anything else is refused
before any parsing, whatever encoding the body claims.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

# WeCom's XML never declares a DTD; refusing one rules out entity-expansion attacks.
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
# The XML declaration's encoding, if it names one (it must then be UTF-8).
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([^"']{0,40})["']""")
_BASE64 = re.compile(rb"[A-Za-z0-9+/]+={0,2}")
OPEN, CLOSE, CDATA_OPEN, CDATA_CLOSE = b"<Encrypt>", b"</Encrypt>", b"<![CDATA[", b"]]>"


class XmlError(Exception):
    """The body is not the XML WeCom sends."""


def check_plain_utf8(data: bytes) -> None:
    """Refuse, without parsing, a body that is not UTF-8 or that carries a DTD.

    UTF-16 and UTF-32 (with or without a byte order mark) hold NUL bytes; another encoding
    named in the XML declaration is refused by name; a DTD is refused in any spelling that
    UTF-8 allows. Each check is one linear pass in C.
    """
    if b"\x00" in data or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise XmlError("encoding")
    declared = _DECLARED.match(data)
    if declared and declared[1].lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        raise XmlError("encoding")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise XmlError("encoding") from None
    if _DTD.search(data):
        raise XmlError("dtd")


def encrypted_field(body: bytes) -> str:
    """The Encrypt field of a callback body, found by a bounded scan, never an XML parser."""
    check_plain_utf8(body)
    start = body.find(OPEN)
    if start < 0:
        raise XmlError("no_encrypt")
    end = body.find(CLOSE, start)
    if end < 0 or body.find(OPEN, start + len(OPEN)) >= 0:
        raise XmlError("no_encrypt")  # unclosed, or two of them: not WeCom's envelope
    value = body[start + len(OPEN) : end].strip()
    if value.startswith(CDATA_OPEN) and value.endswith(CDATA_CLOSE):
        value = value[len(CDATA_OPEN) : -len(CDATA_CLOSE)].strip()
    if not _BASE64.fullmatch(value):
        raise XmlError("no_encrypt")
    return value.decode("ascii")


def _root(data: bytes) -> ET.Element:
    check_plain_utf8(data)
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise XmlError("malformed") from None
    if root.tag != "xml":
        raise XmlError("root")
    return root


def parse_message(plaintext: str) -> dict[str, str]:
    """The decrypted message as {element: text} for the top-level elements."""
    root = _root(plaintext.encode("utf-8"))
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
