"""Bytes to text: byte-order marks, declared charsets, and the cp1252 of old French sites."""

from __future__ import annotations

import codecs
import re

__all__ = ["decode_html", "decode_text", "looks_binary"]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9._:-]+)""", re.I)
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
# What browsers do (WHATWG Encoding): these labels all mean windows-1252.
_WINDOWS_1252 = {"iso-8859-1", "iso8859-1", "latin-1", "latin1", "l1", "ascii", "us-ascii",
                 "iso-8859-15", "iso8859-15", "latin-9", "cp819", "windows-1252", "cp1252"}


def _bom(data: bytes) -> tuple[str, int] | None:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding, len(bom)
    return None


def _normalise(label: str) -> str | None:
    label = label.strip().lower()
    if label in _WINDOWS_1252:
        return "cp1252"
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def looks_binary(data: bytes) -> bool:
    """True when the start of `data` is not text in any encoding Furet reads."""
    head = data[:8192]
    if _bom(head):
        return False
    # Text with a stray NUL or control character here and there is still text.
    controls = sum(1 for b in head if b < 9 or 13 < b < 32)
    return controls > len(head) // 20 + 1 or head.count(b"\x00") > len(head) // 100 + 1


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Decode: BOM first, then the declared charset, then UTF-8, then cp1252."""
    found = _bom(data)
    if found:
        encoding, skip = found
        return data[skip:].decode(encoding, "replace")
    encoding = _normalise(declared) if declared else None
    if encoding and encoding.startswith(("utf-16", "utf-32")):
        encoding = None  # a declaration readable as ASCII cannot be UTF-16 (WHATWG: UTF-8)
    if encoding == "cp1252" and _is_utf8(data):
        # Sites moved to UTF-8 and kept their old latin-1 header; valid multi-byte UTF-8
        # is almost never what cp1252 text looks like.
        encoding = "utf-8"
    if encoding:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            pass  # a wrong declaration is common; try what the bytes say
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Mostly UTF-8 with a few broken bytes stays UTF-8; otherwise it is an old cp1252 page.
    valid = len(_UTF8_SEQUENCE.findall(data))
    broken = len(data.decode("utf-8", "replace")) - len(data.decode("utf-8", "ignore"))
    if valid >= broken:
        return data.decode("utf-8", "replace")
    return data.decode("cp1252", "replace")


def _is_utf8(data: bytes) -> bool:
    """True for non-ASCII bytes that are all valid UTF-8."""
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def decode_html(data: bytes) -> str:
    """Decode an HTML or XML document using its BOM or its declared charset."""
    head = data[:8192]
    match = _XML_ENCODING.search(head) or _META_CHARSET.search(head)
    declared = match.group(1).decode("ascii") if match else None
    return decode_text(data, declared)
