"""The XML WeCom posts: the encrypted envelope and the flat message inside it."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

# WeCom's XML never declares a DTD; refusing one rules out entity-expansion attacks.
_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


class XmlError(Exception):
    """The body is not the XML WeCom sends."""


@dataclass(frozen=True, slots=True)
class Envelope:
    encrypted: str
    to_user: str
    agent_id: str


def _root(data: bytes) -> ET.Element:
    if _DTD.search(data):
        raise XmlError("dtd")
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        raise XmlError("malformed") from None
    if root.tag != "xml":
        raise XmlError("root")
    return root


def parse_envelope(body: bytes) -> Envelope:
    """The POST body: ToUserName, AgentID and the Encrypt field."""
    root = _root(body)
    encrypted = (root.findtext("Encrypt") or "").strip()
    if not encrypted:
        raise XmlError("no_encrypt")
    return Envelope(
        encrypted=encrypted,
        to_user=(root.findtext("ToUserName") or "").strip(),
        agent_id=(root.findtext("AgentID") or "").strip(),
    )


def parse_message(plaintext: str) -> dict[str, str]:
    """The decrypted message as {element: text} for the top-level elements."""
    root = _root(plaintext.encode("utf-8"))
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}
