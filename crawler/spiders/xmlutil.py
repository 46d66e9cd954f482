"""Safe, namespace-agnostic reading of the XML that feeds and sitemaps are made of."""

from __future__ import annotations

import gzip
import io

from lxml import etree

GZIP_MAGIC = b"\x1f\x8b"


class XmlError(ValueError):
    """The body is not XML we can read; str() says why."""


def maybe_gunzip(body: bytes, limit: int) -> bytes:
    """Sitemaps are often served as .xml.gz; inflate at most `limit` bytes so a zip bomb cannot hurt."""
    if not body.startswith(GZIP_MAGIC):
        return body
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(body)) as handle:
            data = handle.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise XmlError(f"broken gzip data: {exc}") from None
    if len(data) > limit:
        raise XmlError(f"inflates to more than {limit} bytes")
    return data


def parse_xml(body: bytes) -> etree._Element:
    parser = etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(body.lstrip(), parser=parser)
    except etree.XMLSyntaxError as exc:
        raise XmlError(f"not XML: {exc}") from None
    if root is None:
        raise XmlError("not XML: empty document")
    return root


def local(tag: object) -> str:
    """Tag name without its namespace ("{ns}item" -> "item"); comments and PIs give ""."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if local(child.tag) == name]


def child_text(element: etree._Element, *names: str) -> str | None:
    """Text of the first direct child with one of these local names, in the order given."""
    for name in names:
        for child in element:
            if local(child.tag) == name:
                text = "".join(child.itertext()).strip()
                if text:
                    return text
    return None
