"""Atlassian Document Format (Jira Cloud's rich text) to and from pandoc's document tree.

Jira Cloud's REST v3 gives and takes descriptions and comments as ADF documents
(``{"type": "doc", "version": 1, "content": [...]}``); the replica carries Jira wiki
markup, as Jira Server's would. Both formats are trees, so the conversion is one tree
to another: ADF to pandoc's JSON AST (the tree ``domain/markup.py`` works on), which
pandoc writes as wiki markup, and the tree pandoc reads from wiki markup back to ADF.
No text is parsed here: pandoc reads and writes the text (``trackers/jira/adf.py``).

==============================  ==============================================
ADF                             pandoc (and so wiki markup)
==============================  ==============================================
paragraph, heading, rule        Para, Header, HorizontalRule
bulletList / orderedList        BulletList / OrderedList (``order`` its start)
codeBlock (language)            CodeBlock with the language as its class
blockquote                      BlockQuote
table (tableHeader, tableCell)  Table (a first row of header cells its head)
panel / expand / nestedExpand   a quote whose first line is its type or title
                                in bold (as ``domain/markup.py`` writes a
                                Jira panel)
taskList / decisionList         a bullet list, each task "☐ " or "☑ " first
mediaSingle / mediaGroup        an image of the file's name (its ``alt``)
strong em strike underline      Strong Emph Strikeout Underline
code, subsup                    Code, Superscript / Subscript
link mark, inlineCard, card     Link
mention                         a mention of its account id, ``[~ID]`` (the
                                replica's user name of a Cloud user is its
                                account id; ``[~accountid:ID]`` reads alike)
hardBreak                       LineBreak
emoji, status, date             their text (an emoji's character or short
                                name, a status's label, a date's ISO day)
textColor, backgroundColor      the text, without its colour
anything else                   its content, or its text
==============================  ==============================================

Back to ADF, what ADF does not allow where it stands is written as what it allows:
a heading or a table inside a quote or a list item becomes paragraphs, a code mark
keeps no other mark but a link, and an image that is not a URL is the file's name
(an ADF media node needs an id from Atlassian's media service, which the REST API
does not give for an attachment).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

from issuesync.domain.markup import MENTION_CLASS, mention

Node = dict[str, Any]

ACCOUNT_PREFIX: Final = "accountid:"
TASK_MARKS: Final = {"DONE": "☑ ", "DECIDED": "☑ "}
TASK_OPEN: Final = "☐ "
# ADF's marks in a stable order (Jira Cloud writes them in this order).
MARK_ORDER: Final = ("link", "strong", "em", "strike", "underline", "subsup", "code")
# pandoc inline wrappers and the ADF mark each stands for.
WRAPPERS: Final[dict[str, Node]] = {
    "Strong": {"type": "strong"},
    "Emph": {"type": "em"},
    "Strikeout": {"type": "strike"},
    "Underline": {"type": "underline"},
    "Superscript": {"type": "subsup", "attrs": {"type": "sup"}},
    "Subscript": {"type": "subsup", "attrs": {"type": "sub"}},
}
MARK_WRAPPERS: Final = {"strong": "Strong", "em": "Emph", "strike": "Strikeout"}
# What ADF lets each container hold (blocks of other types are rewritten to fit).
IN_QUOTE: Final = frozenset({"paragraph", "bulletList", "orderedList", "codeBlock"})
IN_ITEM: Final = frozenset({"paragraph", "bulletList", "orderedList", "codeBlock"})


def _no_attr() -> list[Any]:
    return ["", [], []]


# -- ADF -> pandoc --------------------------------------------------------------------------


def adf_to_blocks(document: Mapping[str, Any]) -> list[Node]:
    """The pandoc blocks of an ADF document."""
    return _blocks(_children(document))


def _children(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    content = node.get("content")
    return [c for c in content if isinstance(c, Mapping)] if isinstance(content, list) else []


def _attrs(node: Mapping[str, Any]) -> Mapping[str, Any]:
    attrs = node.get("attrs")
    return attrs if isinstance(attrs, Mapping) else {}


def _blocks(nodes: Sequence[Mapping[str, Any]]) -> list[Node]:
    out: list[Node] = []
    inline_run: list[Mapping[str, Any]] = []
    for node in nodes:
        if _is_inline(node):  # inline nodes where blocks belong: one paragraph
            inline_run.append(node)
            continue
        if inline_run:
            out.append({"t": "Para", "c": _inlines(inline_run)})
            inline_run = []
        out.extend(_block(node))
    if inline_run:
        out.append({"t": "Para", "c": _inlines(inline_run)})
    return out


def _block(node: Mapping[str, Any]) -> list[Node]:
    kind = str(node.get("type"))
    convert = BLOCKS.get(kind)
    if convert is not None:
        return convert(node)
    return _blocks(_children(node))  # layouts, extensions, ...: their content


def _paragraph(node: Mapping[str, Any]) -> list[Node]:
    inlines = _inlines(_children(node))
    return [{"t": "Para", "c": inlines}] if inlines else []


def _heading(node: Mapping[str, Any]) -> list[Node]:
    level = _attrs(node).get("level")
    level = level if isinstance(level, int) and 1 <= level <= 6 else 1  # noqa: PLR2004 - h1..h6
    return [{"t": "Header", "c": [level, _no_attr(), _inlines(_children(node))]}]


def _code_block(node: Mapping[str, Any]) -> list[Node]:
    language = _attrs(node).get("language")
    classes = [language] if isinstance(language, str) and language else []
    return [{"t": "CodeBlock", "c": [["", classes, []], _plain(node)]}]


def _list(node: Mapping[str, Any]) -> list[Node]:
    items = [_blocks(_children(item)) for item in _children(node)]
    items = [_tight(item) for item in items]
    if node.get("type") == "orderedList":
        start = _attrs(node).get("order")
        start = start if isinstance(start, int) and start >= 0 else 1
        attrs = [start, {"t": "DefaultStyle"}, {"t": "DefaultDelim"}]
        return [{"t": "OrderedList", "c": [attrs, items]}]
    return [{"t": "BulletList", "c": items}]


def _tight(blocks: list[Node]) -> list[Node]:
    # An item of one paragraph (perhaps with a nested list) is one line, as the
    # normalised tree of wiki markup has it (domain/markup.py's _item).
    if blocks and blocks[0]["t"] == "Para" and all(b["t"] != "Para" for b in blocks[1:]):
        return [{"t": "Plain", "c": blocks[0]["c"]}, *blocks[1:]]
    return blocks


def _tasks(node: Mapping[str, Any]) -> list[Node]:
    items: list[list[Node]] = []
    for item in _children(node):
        if item.get("type") in {"taskList", "decisionList"}:
            items.append(_tasks(item))  # a nested list of tasks
            continue
        state = str(_attrs(item).get("state") or "")
        mark = {"t": "Str", "c": TASK_MARKS.get(state, TASK_OPEN).strip()}
        inlines = _inlines(_children(item))
        items.append([{"t": "Plain", "c": [mark, {"t": "Space"}, *inlines]}])
    return [{"t": "BulletList", "c": items}] if items else []


def _titled(node: Mapping[str, Any]) -> list[Node]:
    """A panel or an expand: a quote, its type or title first in bold."""
    attrs = _attrs(node)
    title = attrs.get("title") if node.get("type") != "panel" else attrs.get("panelType")
    heading: list[Node] = []
    if isinstance(title, str) and title.strip():
        words = _words(title.strip().capitalize() if node.get("type") == "panel" else title)
        heading = [{"t": "Para", "c": [{"t": "Strong", "c": words}]}]
    return [{"t": "BlockQuote", "c": heading + _blocks(_children(node))}]


def _media(node: Mapping[str, Any]) -> list[Node]:
    images = [i for i in (_image(m) for m in _media_nodes(node)) if i is not None]
    if not images:
        return []
    inlines: list[Node] = []
    for image in images:
        inlines.extend([*([{"t": "Space"}] if inlines else []), image])
    return [{"t": "Para", "c": inlines}]


def _media_nodes(node: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    for child in _children(node):
        if child.get("type") in {"media", "mediaInline"}:
            yield child
        else:
            yield from _media_nodes(child)


def _image(node: Mapping[str, Any]) -> Node | None:
    attrs = _attrs(node)
    name = attrs.get("alt") or attrs.get("url")
    if not isinstance(name, str) or not name:
        return None
    return {"t": "Image", "c": [_no_attr(), [], [name, ""]]}


def _table(node: Mapping[str, Any]) -> list[Node]:
    rows = [r for r in _children(node) if r.get("type") == "tableRow"]
    if not rows:
        return []
    width = max(sum(_span(c, "colspan") for c in _children(r)) for r in rows)
    if width == 0:
        return []
    head_rows: list[Any] = []
    if all(c.get("type") == "tableHeader" for c in _children(rows[0])):
        head_rows = [_row(rows[0])]
        rows = rows[1:]
    colspecs = [[{"t": "AlignDefault"}, {"t": "ColWidthDefault"}] for _ in range(width)]
    body = [_no_attr(), 0, [], [_row(r) for r in rows]]
    table = [_no_attr(), [None, []], colspecs, [_no_attr(), head_rows], [body], [_no_attr(), []]]
    return [{"t": "Table", "c": table}]


def _row(row: Mapping[str, Any]) -> list[Any]:
    cells = []
    for cell in _children(row):
        blocks = [
            {"t": "Plain", "c": b["c"]} if b["t"] == "Para" else b for b in _blocks(_children(cell))
        ]
        rowspan, colspan = _span(cell, "rowspan"), _span(cell, "colspan")
        cells.append([_no_attr(), {"t": "AlignDefault"}, rowspan, colspan, blocks])
    return [_no_attr(), cells]


def _span(cell: Mapping[str, Any], name: str) -> int:
    value = _attrs(cell).get(name)
    return value if isinstance(value, int) and value > 0 else 1


BLOCKS: Final[dict[str, Callable[[Mapping[str, Any]], list[Node]]]] = {
    "paragraph": _paragraph,
    "heading": _heading,
    "codeBlock": _code_block,
    "bulletList": _list,
    "orderedList": _list,
    "blockquote": lambda node: [{"t": "BlockQuote", "c": _blocks(_children(node))}],
    "rule": lambda _node: [{"t": "HorizontalRule"}],
    "panel": _titled,
    "expand": _titled,
    "nestedExpand": _titled,
    "taskList": _tasks,
    "decisionList": _tasks,
    "mediaSingle": _media,
    "mediaGroup": _media,
    "table": _table,
    "blockCard": lambda node: [{"t": "Para", "c": [_link_to(_attrs(node).get("url"))]}],
    "embedCard": lambda node: [{"t": "Para", "c": [_link_to(_attrs(node).get("url"))]}],
}


def _is_inline(node: Mapping[str, Any]) -> bool:
    return str(node.get("type")) in INLINES or node.get("type") in {"text", "mediaInline"}


def _inlines(nodes: Sequence[Mapping[str, Any]]) -> list[Node]:
    out: list[Node] = []
    for node in nodes:
        out.extend(_inline(node))
    return out


def _inline(node: Mapping[str, Any]) -> list[Node]:
    kind = str(node.get("type"))
    if kind == "text":
        return _marked(_words(str(node.get("text") or "")), node.get("marks"))
    if kind == "mediaInline":
        image = _image(node)
        return [image] if image is not None else []
    convert = INLINES.get(kind)
    if convert is not None:
        return convert(node)
    return _words(_plain(node))


def _marked(inlines: list[Node], marks: object) -> list[Node]:
    if not isinstance(marks, list) or not inlines:
        return inlines
    # Spaces at a marked text's ends stand outside the mark: "* bold*" is no bold in
    # wiki markup (nor "** " in Markdown), "*bold*" is.
    start, end = 0, len(inlines)
    while start < end and inlines[start]["t"] == "Space":
        start += 1
    while end > start and inlines[end - 1]["t"] == "Space":
        end -= 1
    if start == end:
        return inlines
    return [*inlines[:start], *_marked_words(inlines[start:end], marks), *inlines[end:]]


def _marked_words(inlines: list[Node], marks: list[Any]) -> list[Node]:
    kinds = {str(m.get("type")): m for m in marks if isinstance(m, Mapping)}
    if "code" in kinds:
        text = "".join(n["c"] if n["t"] == "Str" else " " for n in inlines)
        inlines = [{"t": "Code", "c": [_no_attr(), text]}]
    for kind in reversed(MARK_ORDER):  # the first in MARK_ORDER ends up outermost
        mark = kinds.get(kind)
        if mark is None or kind == "code":
            continue
        if kind == "link":
            href = _attrs(mark).get("href")
            if isinstance(href, str) and href:
                inlines = [{"t": "Link", "c": [_no_attr(), inlines, [href, ""]]}]
        elif kind == "subsup":
            wrapper = "Subscript" if _attrs(mark).get("type") == "sub" else "Superscript"
            inlines = [{"t": wrapper, "c": inlines}]
        else:
            inlines = [{"t": MARK_WRAPPERS.get(kind, "Underline"), "c": inlines}]
    return inlines


def _words(text: str) -> list[Node]:
    """pandoc's inlines of plain text: words, spaces and line ends."""
    out: list[Node] = []
    for index, line in enumerate(text.split("\n")):
        if index:
            out.append({"t": "LineBreak"})
        for position, word in enumerate(line.split(" ")):
            if position:
                out.append({"t": "Space"})
            if word:
                out.append({"t": "Str", "c": word})
    return _collapse_spaces(out)


def _collapse_spaces(inlines: list[Node]) -> list[Node]:
    out: list[Node] = []
    for node in inlines:
        if node["t"] == "Space" and out and out[-1]["t"] == "Space":
            continue
        out.append(node)
    return out


def _link_to(url: object) -> Node:
    href = url if isinstance(url, str) else ""
    return {"t": "Link", "c": [_no_attr(), [{"t": "Str", "c": href}], [href, ""]]}


def _mention(node: Mapping[str, Any]) -> list[Node]:
    account = _attrs(node).get("id")
    if not isinstance(account, str) or not account:
        return _words(str(_attrs(node).get("text") or ""))
    return [mention(account)]


def _emoji(node: Mapping[str, Any]) -> list[Node]:
    attrs = _attrs(node)
    return _words(str(attrs.get("text") or attrs.get("shortName") or ""))


def _date(node: Mapping[str, Any]) -> list[Node]:
    stamp = _attrs(node).get("timestamp")
    try:
        day = dt.datetime.fromtimestamp(int(str(stamp)) / 1000, tz=dt.UTC).date()
    except (TypeError, ValueError, OverflowError, OSError):
        return []
    return _words(day.isoformat())


INLINES: Final[dict[str, Callable[[Mapping[str, Any]], list[Node]]]] = {
    "hardBreak": lambda _node: [{"t": "LineBreak"}],
    "mention": _mention,
    "inlineCard": lambda node: [_link_to(_attrs(node).get("url"))],
    "emoji": _emoji,
    "status": lambda node: _words(str(_attrs(node).get("text") or "")),
    "date": _date,
    "placeholder": lambda _node: [],
}


def _plain(node: Mapping[str, Any]) -> str:
    if node.get("type") == "text":
        return str(node.get("text") or "")
    return "".join(_plain(child) for child in _children(node))


# -- pandoc -> ADF --------------------------------------------------------------------------


def blocks_to_adf(blocks: Sequence[Node]) -> Node:
    """The ADF document of pandoc blocks."""
    return {"type": "doc", "version": 1, "content": _adf_blocks(blocks)}


def _adf_blocks(blocks: Sequence[Node]) -> list[Node]:
    out: list[Node] = []
    for block in blocks:
        out.extend(_adf_block(block))
    return out


def _adf_block(node: Node) -> list[Node]:
    convert = ADF_BLOCKS.get(node["t"])
    return convert(node.get("c")) if convert is not None else []


def _adf_paragraph(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    inlines = _adf_inlines(content)
    return [{"type": "paragraph", "content": inlines}] if inlines else []


def _adf_lines(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    joined: list[Node] = []
    for line in content:
        joined.extend([*([{"type": "hardBreak"}] if joined else []), *_adf_inlines(line)])
    return [{"type": "paragraph", "content": joined}] if joined else []


def _adf_heading(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    level, _attr, inlines = content
    return [{"type": "heading", "attrs": {"level": level}, "content": _adf_inlines(inlines)}]


def _adf_code(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    (_ident, classes, _kv), text = content
    block: Node = {"type": "codeBlock"}
    if classes:
        block["attrs"] = {"language": classes[0]}
    text = text.rstrip("\n")
    block["content"] = [{"type": "text", "text": text}] if text else []
    return [block]


def _adf_ordered(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    (start, _style, _delim), items = content
    listed: Node = {"type": "orderedList"}
    if start != 1:
        listed["attrs"] = {"order": start}
    listed["content"] = [_adf_item(item) for item in items]
    return [listed]


def _adf_raw(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    text = str(content[1]).strip()
    return [{"type": "paragraph", "content": [{"type": "text", "text": text}]}] if text else []


def _adf_item(blocks: Sequence[Node]) -> Node:
    content = _fit(_adf_blocks(blocks), IN_ITEM)
    if not content or content[0]["type"] != "paragraph":
        content.insert(0, {"type": "paragraph", "content": []})
    return {"type": "listItem", "content": content}


def _fit(blocks: list[Node], allowed: frozenset[str]) -> list[Node]:
    """``blocks`` as a container that holds only ``allowed`` types may: a heading as a
    paragraph in bold, a quote's or a table's paragraphs in its place, a rule left out."""
    out: list[Node] = []
    for block in blocks:
        kind = block["type"]
        if kind in allowed:
            out.append(block)
        elif kind == "heading":
            strong = [_with_mark(n, {"type": "strong"}) for n in block.get("content", [])]
            out.append({"type": "paragraph", "content": strong})
        elif kind != "rule":
            out.extend(_fit(_inner_blocks(block), allowed))
    return out


def _inner_blocks(block: Node) -> list[Node]:
    found: list[Node] = []
    for child in block.get("content", []):
        if child.get("type") in {"tableRow", "tableCell", "tableHeader"}:
            found.extend(_inner_blocks(child))
        else:
            found.append(child)
    return found


def _adf_table(content: list[Any]) -> list[Node]:
    _attr, _caption, _colspecs, (_hattr, head_rows), bodies, (_fattr, foot_rows) = content
    rows: list[Node] = [_adf_row(r, "tableHeader") for r in head_rows]
    for _battr, _heads, inter_head, body_rows in bodies:
        rows.extend(_adf_row(r, "tableHeader") for r in inter_head)
        rows.extend(_adf_row(r, "tableCell") for r in body_rows)
    rows.extend(_adf_row(r, "tableCell") for r in foot_rows)
    return [{"type": "table", "content": rows}] if rows else []


def _adf_row(row: list[Any], cell_type: str) -> Node:
    _attr, cells = row
    adf_cells: list[Node] = []
    for _cattr, _align, rowspan, colspan, blocks in cells:
        inner = _fit(_adf_blocks(blocks), IN_QUOTE | {"heading", "blockquote", "rule"})
        cell: Node = {"type": cell_type}
        spans = {k: v for k, v in (("colspan", colspan), ("rowspan", rowspan)) if v != 1}
        if spans:
            cell["attrs"] = spans
        cell["content"] = inner or [{"type": "paragraph", "content": []}]
        adf_cells.append(cell)
    return {"type": "tableRow", "content": adf_cells}


def _adf_definitions(content: list[Any]) -> list[Node]:
    items: list[Node] = []
    for term, definitions in content:
        blocks: list[Node] = [{"type": "paragraph", "content": _adf_inlines(term)}]
        for definition in definitions:
            blocks.extend(_fit(_adf_blocks(definition), IN_ITEM))
        items.append({"type": "listItem", "content": blocks})
    return [{"type": "bulletList", "content": items}] if items else []


ADF_BLOCKS: Final[dict[str, Callable[[Any], list[Node]]]] = {
    "Para": _adf_paragraph,
    "Plain": _adf_paragraph,
    "LineBlock": _adf_lines,
    "Header": _adf_heading,
    "CodeBlock": _adf_code,
    "BlockQuote": lambda c: [{"type": "blockquote", "content": _fit(_adf_blocks(c), IN_QUOTE)}],
    "BulletList": lambda c: [{"type": "bulletList", "content": [_adf_item(i) for i in c]}],
    "OrderedList": _adf_ordered,
    "HorizontalRule": lambda _c: [{"type": "rule"}],
    "Table": _adf_table,
    "Div": lambda c: _adf_blocks(c[1]),
    "DefinitionList": _adf_definitions,
    "RawBlock": _adf_raw,
    "Figure": lambda c: _adf_blocks(c[2]),
}


def _adf_inlines(inlines: Sequence[Node]) -> list[Node]:
    out: list[Node] = []
    for node in inlines:
        for piece in _adf_inline(node):
            _append(out, piece)
    return out


def _append(out: list[Node], piece: Node) -> None:
    """Add ``piece``; a text with the same marks as the last is one text with it."""
    if piece["type"] == "text" and not piece.get("text"):
        return
    last = out[-1] if out else None
    if (
        last is not None
        and piece["type"] == last["type"] == "text"
        and last.get("marks") == piece.get("marks")
    ):
        out[-1] = {**last, "text": last["text"] + piece["text"]}
        return
    out.append(piece)


def _adf_inline(node: Node) -> list[Node]:
    kind: str = node["t"]
    content: Any = node.get("c")
    if kind in WRAPPERS:
        return [_with_mark(n, WRAPPERS[kind]) for n in _adf_inlines(content)]
    convert = ADF_INLINES.get(kind)
    return convert(content) if convert is not None else []


def _adf_link(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    (_ident, classes, _kv), label, (url, _title) = content
    if MENTION_CLASS in classes:
        return [_adf_mention(str(url).removeprefix("~"))]
    link = {"type": "link", "attrs": {"href": url}}
    return [_with_mark(n, link) for n in _adf_inlines(label)]


def _adf_image(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    _attr, alt, (url, _title) = content
    if str(url).startswith(("http://", "https://")):
        words = _adf_inlines(alt) or [{"type": "text", "text": url}]
        link = {"type": "link", "attrs": {"href": url}}
        return [_with_mark(n, link) for n in words]
    return [{"type": "text", "text": str(url)}]  # an attachment's name (see the docstring)


def _adf_quoted(content: Any) -> list[Node]:  # noqa: ANN401 - pandoc JSON
    mark = '"' if content[0]["t"] == "DoubleQuote" else "'"
    quote = {"type": "text", "text": mark}
    return [quote, *_adf_inlines(content[1]), quote]


ADF_INLINES: Final[dict[str, Callable[[Any], list[Node]]]] = {
    "Str": lambda c: [{"type": "text", "text": c}],
    "Space": lambda _c: [{"type": "text", "text": " "}],
    "SoftBreak": lambda _c: [{"type": "hardBreak"}],
    "LineBreak": lambda _c: [{"type": "hardBreak"}],
    "Code": lambda c: [{"type": "text", "text": c[1], "marks": [{"type": "code"}]}],
    "Link": _adf_link,
    "Image": _adf_image,
    "Quoted": _adf_quoted,
    "Span": lambda c: _adf_inlines(c[1]),
    "SmallCaps": _adf_inlines,
    "Cite": lambda c: _adf_inlines(c[1]),
    "RawInline": lambda c: [{"type": "text", "text": str(c[1])}],
    "Math": lambda c: [{"type": "text", "text": str(c[1])}],
}


def _adf_mention(name: str) -> Node:
    account = name.removeprefix(ACCOUNT_PREFIX)
    return {"type": "mention", "attrs": {"id": account}}


def _with_mark(node: Node, mark: Node) -> Node:
    if node["type"] != "text":
        return node  # a mention, a break: ADF marks only text
    marks: list[Node] = list(node.get("marks") or [])
    kinds = {m["type"] for m in marks}
    if mark["type"] in kinds:
        return node
    if "code" in kinds and mark["type"] != "link":
        return node  # ADF: code combines with a link only
    if mark["type"] == "code":
        marks = [m for m in marks if m["type"] == "link"]
    marks.append(mark)
    marks.sort(key=lambda m: MARK_ORDER.index(m["type"]) if m["type"] in MARK_ORDER else 99)
    return {**node, "marks": marks}
