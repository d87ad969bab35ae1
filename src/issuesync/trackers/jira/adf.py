"""Atlassian Document Format (Jira Cloud's REST v3 rich text) to and from the replica's text.

Jira Server's REST v2 gives descriptions and comments as wiki-markup text, and
that text is what replicas carry. Jira Cloud's REST v3 gives and takes ADF
documents (``{"type": "doc", "version": 1, "content": [...]}``). These pure
functions convert between the two, in wiki markup, so that a Cloud issue's
replica reads as the same issue's would on Jira Server:

==========================  ======================================
ADF                         text
==========================  ======================================
paragraph                   its lines; blocks are apart by a blank line
hardBreak                   a line break inside a paragraph
heading (level n)           ``hn. Title``
bulletList / orderedList    ``* item`` / ``# item``, nested ``** ``, ``#* ``
codeBlock (language)        ``{code:language}`` ... ``{code}``
blockquote                  ``{quote}`` ... ``{quote}``
rule                        ``----``
mention (accountId)         ``[~accountid:ID]``
text with a link mark       ``[text|url]``
inlineCard (url)            ``[url]``
==========================  ======================================

For that subset, text → ADF → text gives the text back, and ADF → text → ADF
the document (``tests/unit/test_adf.py`` holds both to it). Outside it the
conversion keeps the words and loses the form: other marks (bold, colour) are
dropped, an emoji becomes its short name, a table or panel its text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

Node = dict[str, Any]

HEADING: Final = re.compile(r"h([1-6])\. (.*)")
LIST_ITEM: Final = re.compile(r"([*#]+) (.*)")
CODE_START: Final = re.compile(r"\{code(?::([\w+#.-]+))?\}")
CODE_END: Final = "{code}"
QUOTE: Final = "{quote}"
RULE: Final = "----"
INLINE: Final = re.compile(
    r"\[~accountid:(?P<mention>[^\]\s]+)\]"
    r"|\[(?P<label>[^\]|\[]+)\|(?P<href>[^\]\s]+)\]"
    r"|\[(?P<card>[a-z][a-z0-9+.-]*://[^\]\s]+)\]"
    r"|(?P<newline>\n)"
)
LIST_TYPES: Final = {"*": "bulletList", "#": "orderedList"}
LIST_MARKS: Final = {kind: mark for mark, kind in LIST_TYPES.items()}


# -- ADF -> text ----------------------------------------------------------------------------


def adf_to_text(document: object) -> str | None:
    """The wiki-markup text of an ADF document; None for none (a plain string stays as it is)."""
    if document is None:
        return None
    if isinstance(document, str):
        return document
    if not isinstance(document, Mapping):
        return ""
    return "\n\n".join(_block(node) for node in _children(document))


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = node.get("content")
    return [c for c in content if isinstance(c, Mapping)] if isinstance(content, list) else []


def _attrs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _code(node: Mapping[str, Any]) -> str:
    language = _attrs(node).get("language")
    start = f"{{code:{language}}}" if language else "{code}"
    return f"{start}\n{_plain(node)}\n{CODE_END}"


def _quote(node: Mapping[str, Any]) -> str:
    inner = "\n\n".join(_block(child) for child in _children(node))
    return f"{QUOTE}\n{inner}\n{QUOTE}"


BLOCKS: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "paragraph": lambda node: _inline(_children(node)),
    "heading": lambda node: f"h{_attrs(node).get('level', 1)}. {_inline(_children(node))}",
    "bulletList": lambda node: "\n".join(_list_lines(node, "")),
    "orderedList": lambda node: "\n".join(_list_lines(node, "")),
    "codeBlock": _code,
    "blockquote": _quote,
    "rule": lambda _node: RULE,
}


def _block(node: Mapping[str, Any]) -> str:
    write = BLOCKS.get(str(node.get("type")))
    if write is not None:
        return write(node)
    # Anything else (table, panel, media, ...): its words, block by block.
    children = _children(node)
    if children and all(_is_inline(c) for c in children):
        return _inline(children)
    return "\n\n".join(_block(child) for child in children)


def _list_lines(node: Mapping[str, Any], marks: str) -> Iterator[str]:
    mark = marks + LIST_MARKS.get(str(node.get("type")), "*")
    for item in _children(node):
        parts = _children(item)
        first = parts[0] if parts and parts[0].get("type") == "paragraph" else None
        if first is not None:
            yield f"{mark} {_inline(_children(first))}"
        for part in parts[1 if first else 0 :]:
            if part.get("type") in LIST_MARKS:
                yield from _list_lines(part, mark)
            else:
                yield f"{mark} {_block(part)}"


def _is_inline(node: Mapping[str, Any]) -> bool:
    return node.get("type") in INLINES or node.get("type") == "date"


def _inline(nodes: Sequence[Mapping[str, Any]]) -> str:
    return "".join(_inline_one(node) for node in nodes)


def _text(node: Mapping[str, Any]) -> str:
    text = str(node.get("text") or "")
    for mark in node.get("marks") or []:
        if isinstance(mark, Mapping) and mark.get("type") == "link":
            href = _attrs(mark).get("href")
            if href:
                return f"[{text}|{href}]"
    return text


INLINES: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "text": _text,
    "hardBreak": lambda _node: "\n",
    "mention": lambda node: f"[~accountid:{_attrs(node).get('id', '')}]",
    "inlineCard": lambda node: f"[{_attrs(node).get('url', '')}]",
    "emoji": lambda node: str(_attrs(node).get("text") or _attrs(node).get("shortName") or ""),
}


def _inline_one(node: Mapping[str, Any]) -> str:
    write = INLINES.get(str(node.get("type")))
    return write(node) if write is not None else _plain(node)


def _plain(node: Mapping[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text") or "")
    return "".join(_plain(child) for child in _children(node))


# -- text -> ADF ----------------------------------------------------------------------------


def text_to_adf(text: str | None) -> Node | None:
    """An ADF document of wiki-markup text (None stays None; an empty text is an empty doc)."""
    if text is None:
        return None
    return {"type": "doc", "version": 1, "content": _blocks(text.split("\n"))}


def _blocks(lines: list[str]) -> list[Node]:
    blocks: list[Node] = []
    at = 0
    while at < len(lines):
        line = lines[at]
        if not line:
            at += 1
            continue
        if code := CODE_START.fullmatch(line):
            end = _closing(lines, at + 1, CODE_END)
            body = "\n".join(lines[at + 1 : end])
            block: Node = {"type": "codeBlock"}
            if code.group(1):
                block["attrs"] = {"language": code.group(1)}
            block["content"] = [{"type": "text", "text": body}] if body else []
            blocks.append(block)
            at = end + 1
        elif line == QUOTE:
            end = _closing(lines, at + 1, QUOTE)
            blocks.append({"type": "blockquote", "content": _blocks(lines[at + 1 : end])})
            at = end + 1
        elif line == RULE:
            blocks.append({"type": "rule"})
            at += 1
        elif heading := HEADING.fullmatch(line):
            level = int(heading.group(1))
            content = _inlines(heading.group(2))
            blocks.append({"type": "heading", "attrs": {"level": level}, "content": content})
            at += 1
        elif LIST_ITEM.fullmatch(line):
            end = at
            while end < len(lines) and LIST_ITEM.fullmatch(lines[end]):
                end += 1
            blocks.append(_list([_list_entry(x) for x in lines[at:end]], 0))
            at = end
        else:
            end = at
            while end < len(lines) and lines[end] and not _starts_block(lines[end]):
                end += 1
            blocks.append({"type": "paragraph", "content": _inlines("\n".join(lines[at:end]))})
            at = end
    return blocks


def _closing(lines: list[str], start: int, marker: str) -> int:
    """The index of the line ``marker`` from ``start``; the end when it is missing."""
    for index in range(start, len(lines)):
        if lines[index] == marker:
            return index
    return len(lines)


def _starts_block(line: str) -> bool:
    return bool(
        line in (QUOTE, RULE)
        or CODE_START.fullmatch(line)
        or HEADING.fullmatch(line)
        or LIST_ITEM.fullmatch(line)
    )


def _list_entry(line: str) -> tuple[str, str]:
    found = LIST_ITEM.fullmatch(line)
    assert found is not None  # only list lines come here
    return found.group(1), found.group(2)


def _list(entries: list[tuple[str, str]], depth: int) -> Node:
    """A list of the entries at ``depth`` (their marks' length - 1); deeper ones nest."""
    kind = LIST_TYPES[entries[0][0][depth]]
    items: list[Node] = []
    at = 0
    while at < len(entries):
        marks, text = entries[at]
        end = at + 1
        while end < len(entries) and len(entries[end][0]) > depth + 1:
            end += 1
        item: Node = {"type": "listItem", "content": []}
        if len(marks) == depth + 1:
            item["content"].append({"type": "paragraph", "content": _inlines(text)})
            nested = entries[at + 1 : end]
        else:  # a deeper line with no item of its own above it
            nested = entries[at:end]
        if nested:
            item["content"].append(_list(nested, depth + 1))
        items.append(item)
        at = end
    return {"type": kind, "content": items}


def _inlines(text: str) -> list[Node]:
    nodes: list[Node] = []
    at = 0
    for found in INLINE.finditer(text):
        if found.start() > at:
            nodes.append({"type": "text", "text": text[at : found.start()]})
        if found.group("mention"):
            nodes.append({"type": "mention", "attrs": {"id": found.group("mention")}})
        elif found.group("label"):
            mark = {"type": "link", "attrs": {"href": found.group("href")}}
            nodes.append({"type": "text", "text": found.group("label"), "marks": [mark]})
        elif found.group("card"):
            nodes.append({"type": "inlineCard", "attrs": {"url": found.group("card")}})
        else:
            nodes.append({"type": "hardBreak"})
        at = found.end()
    if at < len(text):
        nodes.append({"type": "text", "text": text[at:]})
    return nodes
