"""Decode GPX/TCX bytes to text and refuse XML that declares a DTD, before any XML parser sees it."""

from __future__ import annotations

import re

_DECL_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']""")
_DOCTYPE = re.compile(r"<!DOCTYPE|<!ENTITY", re.IGNORECASE)


def decode_xml(data: bytes, warnings: list[str]) -> str:
    """Bytes -> str: BOM, then the declared encoding, then UTF-8; undecodable bytes become U+FFFD."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    encoding = "utf-8"
    match = _DECL_ENCODING.match(data[:200])
    if match:
        encoding = match.group(1).decode("ascii").lower()
    try:
        text = data.decode(encoding)
    except LookupError:
        warnings.append(f"unknown declared encoding {encoding!r}; read as UTF-8")
        text = data.decode("utf-8", errors="replace")
    except UnicodeDecodeError:
        warnings.append(f"bytes that are not valid {encoding}; replaced with U+FFFD")
        text = data.decode(encoding, errors="replace")
    # the text is now str: a stale encoding declaration would confuse nothing, but drop it so
    # parsers that re-encode (gpxpy with lxml) do not apply it twice
    return re.sub(r"^\s*<\?xml[^>]*\?>", "", text, count=1)


_ROOT = re.compile(r"<(?![?!])(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)")
_PROLOG_NOISE = re.compile(r"<\?.*?\?>|<!--.*?-->", re.DOTALL)


def root_name(head: str) -> str | None:
    """Local name of the document's first element ('gpx', 'TrainingCenterDatabase'), from its start."""
    m = _ROOT.search(_PROLOG_NOISE.sub("", head))
    return m.group(1) if m else None


def refuse_dtd(text: str) -> str | None:
    """A reason to refuse the document, or None. Activity files never need a DTD, and entity
    declarations are how XML bombs and external-entity reads work, whatever parser runs next."""
    if _DOCTYPE.search(text):
        return "XML declares a DOCTYPE/ENTITY, which activity files never need; refused"
    return None


def local_name(tag) -> str:
    """'{namespace}name' or 'prefix:name' -> 'name' (elements are matched by local name)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]


_TAG = re.compile(r"<(/?)([A-Za-z_][\w:.-]*)[^<>]*?(/?)>")


def close_truncated(text: str, last_complete: str) -> str | None:
    """Cut text after the last `</last_complete>` and close the elements still open there.

    Used when a file was cut short (a truncated .gz): the points before the cut become a
    well-formed document again. Returns None when there is nothing to keep.
    """
    end = text.rfind(f"</{last_complete}>")
    if end < 0:
        # prefixed element names: find '</prefix:last_complete>'
        closings = list(re.finditer(rf"</[\w.-]+:{re.escape(last_complete)}>", text))
        if not closings:
            return None
        cut = closings[-1].end()
    else:
        cut = end + len(last_complete) + 3
    head = text[:cut]
    # strip comments, CDATA and processing instructions before tracking open elements
    scan = re.sub(r"<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", "", head, flags=re.DOTALL)
    stack: list[str] = []
    for closing, name, selfclosing in _TAG.findall(scan):
        if selfclosing:
            continue
        if closing:
            if name in stack:
                while stack and stack.pop() != name:
                    pass
        else:
            stack.append(name)
    return head + "".join(f"</{name}>" for name in reversed(stack))
