"""Markup dialects and the pure rules that carry rich text between them.

A tracker's descriptions and comments are text in one markup dialect. Conversion
reads the text into a document tree (pandoc's JSON AST: ``{"blocks": [...]}`` whose
nodes are ``{"t": type, "c": content}``), rewrites the tree with the rules below,
and writes it in the other dialect. Reading and writing are pandoc's
(``issuesync.markup``, which runs it); everything here is pure: dicts in, dicts or
text out, so the rules are tested without a subprocess.

What a dialect cannot express is kept readable, never dropped:

==============================  ==============================================
construct                       becomes, in every dialect
==============================  ==============================================
Jira panel ``{panel:title=T}``  a quote whose first line is the title in bold
``{info}`` ``{note}`` ...       the same, the title (or the macro's name) first
``{color:red}text{color}``      the text, without its colour
``+underline+``                 the text, without the underline
a mention ``[~name]``           ``[~name]`` in Jira, ``@name`` elsewhere (and
                                ``@name`` reads back as a mention)
image attributes (thumbnail)    the image reference alone
in Textile: a quote of several  one paragraph, its paragraphs as lines
paragraphs
in Textile: a list nested in    a list of its parent's kind (pandoc's Textile
one of the other kind (``#*``)  reader does not read ``#*``)
raw HTML of another dialect     its text, shown as text
a text pandoc cannot read       the text as it is, in a code block (past
                                ``issuesync.markup.pandoc.TIMEOUT_S``)
Jira pandoc reads only in part  the same (an unclosed ``{code}``, ``{code}x{code}``
                                on one line: :func:`dropped_words`)
heading anchors                 none (each writer's own)
==============================  ==============================================

The canonical form (:func:`canonical_blocks`) is what "unchanged" means for the
sync: two texts whose canonical forms are equal say the same thing, so a text
converted A→B→A compares equal to the original and is not sent back. It forgets
what no dialect keeps apart: how words are split, soft and hard line breaks,
tight and loose lists, a code block's fence, the numbering style of a list.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Iterator
from typing import Any, Final

Node = dict[str, Any]

MENTION_CLASS: Final = "user-account"  # what pandoc's Jira reader gives a [~name] link
# "@name" in Markdown and Textile (GitHub's, GitLab's and Redmine's mention), then what
# follows it (punctuation) as plain text.
AT_MENTION: Final = re.compile(r"@([A-Za-z0-9][\w.-]*[A-Za-z0-9_]|[A-Za-z0-9])(.*)", re.DOTALL)
JIRA_BRACES: Final = re.compile(
    r"(?P<verbatim>\{(code|noformat)(?::[^}]*)?\}.*?\{\2\})|(?<!\\)\{{3,}", re.DOTALL
)
WORD: Final = re.compile(r"[^\W_]+")
# What in Jira wiki markup is markup, not words: macro tags with their parameters, an
# image's attributes, block signatures (h1. bq.), entities, a link's "mailto:".
JIRA_NOT_WORDS: Final = re.compile(
    r"\{[a-zA-Z]+(?::[^}]*)?\}|\|[^!|\n]*=[^!\n]*!|\|thumbnail!|^\s*(?:h[1-6]|bq)\.|&#?\w+;"
    r"|\bmailto:",
    re.MULTILINE,
)
# Jira's admonition macros, which pandoc's Jira reader does not know.
JIRA_ADMONITION: Final = re.compile(r"\{(info|note|warning|tip)(?::([^}]*))?\}")
JIRA_TITLE: Final = re.compile(r"(?:^|\|)title=([^|}]*)")
# Redmine writes a Textile code block with a language as HTML: pandoc reads the
# <pre>'s text with the <code> tags in it, which these strip (the class is the language).
TEXTILE_CODE_OR_AT: Final = re.compile(
    r"(?P<code>(?<!\w)@(?=\S)(?:(?!\s@)[^\n])+?(?<=\S)@(?!\w))|(?<![\w&@])@(?=[A-Za-z0-9])"
)
PANDOC_SEPARATOR: Final = "<!-- -->"
TEXTILE_CODE: Final = re.compile(r'\A<code class="([\w+#.-]+)">\n?(.*?)\n?</code>\Z', re.DOTALL)


class Markup(enum.StrEnum):
    """A markup dialect of descriptions and comments."""

    JIRA = "jira"  # Jira Server/DC wiki markup, and the built-in tracker's
    GFM = "gfm"  # GitHub-flavoured Markdown
    GITLAB = "gitlab"  # GitLab-flavoured Markdown: GFM for everything converted here
    TEXTILE = "textile"  # Redmine's Textile
    COMMONMARK = "commonmark"  # Redmine's CommonMark (with GFM's tables and strikethrough)

    @property
    def pandoc_format(self) -> str:
        """The format name (with extensions) pandoc reads and writes this dialect as."""
        return PANDOC_FORMATS[self]

    @property
    def markdown(self) -> bool:
        """True for the Markdown dialects (where a mention is written ``@name``)."""
        return self in {Markup.GFM, Markup.GITLAB, Markup.COMMONMARK}


# gfm without its automatic heading identifiers (they would come out as Jira anchors);
# Redmine's CommonMark formatter turns on GFM's strikethrough and tables, so ours does.
PANDOC_FORMATS: Final = {
    Markup.JIRA: "jira",
    Markup.GFM: "gfm-gfm_auto_identifiers",
    Markup.GITLAB: "gfm-gfm_auto_identifiers",
    Markup.TEXTILE: "textile",
    Markup.COMMONMARK: "commonmark+strikeout+pipe_tables",
}


# -- plain text -----------------------------------------------------------------------------

# Words of letters and digits, one space apart, with , . ? : ; after them: what no dialect
# reads as markup, so every dialect writes it as it is. A text that starts like a list
# item ("1." "2)", a letter or a roman number: "a." "iv)") or a block ("p. " "h1." "bq. ")
# is not plain, nor is one with "_".
PLAIN: Final = re.compile(
    r"(?![0-9]+[.)])(?!(?:[A-Za-z]|(?i:[ivxlcdm]+))[.)](?: |$))"
    r"(?!(?i:p|h[1-6]|bq|bc|pre|notextile|fn[0-9]+|table|clear|dl)\.(?: |$))"
    r"[^\W_]+(?:[,.?:;]+[^\W_]+)*[,.?:;]*(?: [^\W_]+(?:[,.?:;]+[^\W_]+)*[,.?:;]*)*",
    re.ASCII,
)


def plain(text: str) -> bool:
    """Whether ``text`` reads the same in every dialect: it converts to itself."""
    return PLAIN.fullmatch(text) is not None


def plain_blocks(text: str) -> list[Node]:
    """The tree every reader gives a :func:`plain` text: one paragraph of its words."""
    words: list[Node] = []
    for index, word in enumerate(text.split(" ")):
        words.extend([*([{"t": "Space"}] if index else []), {"t": "Str", "c": word}])
    return [{"t": "Para", "c": words}]


def plain_text(blocks: list[Node]) -> str | None:
    """The text every writer gives a tree of plain words (:func:`plain_blocks`'s); None for
    any other tree. An empty tree is an empty text."""
    if not blocks:
        return ""
    if len(blocks) != 1 or blocks[0]["t"] not in {"Para", "Plain"}:
        return None
    inlines = blocks[0]["c"]
    if not all(node["t"] in {"Str", "Space"} for node in inlines):
        return None
    text = "".join(node["c"] if node["t"] == "Str" else " " for node in inlines)
    return text if plain(text) else None


# -- before reading -------------------------------------------------------------------------


def prepare_source(text: str, source: Markup) -> str:
    """The text pandoc is given: Jira's admonitions as panels, line ends as ``\\n``."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if source is Markup.JIRA:
        return _admonitions_as_panels(_escape_brace_runs(text))
    if source is Markup.TEXTILE:
        return TEXTILE_CODE_OR_AT.sub(_textile_mention, text)
    return text


def _textile_mention(match: re.Match[str]) -> str:
    # pandoc pairs any two "@" as code ("@alice @bob"); Redmine (RedCloth) does not
    # when a space is inside the closing "@": an "@" that opens no code is a mention's,
    # and code holds no " @" (there a mention starts: "@alice @code@").
    return match.group(0) if match.group("code") else "&#64;"


def _escape_brace_runs(text: str) -> str:
    # pandoc's Jira reader takes time exponential in a run of "{" (30 take seconds, 100
    # minutes): past the first two ("{{", monospace), they are escaped as the literal
    # braces they are. Code blocks are left as they are (pandoc reads them verbatim).
    def escape(match: re.Match[str]) -> str:
        if match.group("verbatim"):
            return match.group(0)
        return "{{" + "\\{" * (len(match.group(0)) - 2)

    return JIRA_BRACES.sub(escape, text)


def _admonitions_as_panels(text: str) -> str:
    # {info}...{info} opens and closes with the same tag: the first of a pair opens.
    open_kinds: list[str] = []

    def replace(match: re.Match[str]) -> str:
        kind, params = match.group(1), match.group(2) or ""
        if kind in open_kinds and not params:
            open_kinds.remove(kind)
            return "{panel}"
        open_kinds.append(kind)
        found = JIRA_TITLE.search(params)
        title = found.group(1).strip() if found else kind.capitalize()
        return f"{{panel:title={title}}}"

    return JIRA_ADMONITION.sub(replace, text)


# -- after reading: the rules ---------------------------------------------------------------


def normalise(blocks: list[Node], source: Markup) -> list[Node]:
    """The document read from ``source`` with the rules of this module applied."""
    return _blocks(blocks, source)


def _blocks(blocks: list[Node], source: Markup) -> list[Node]:
    out: list[Node] = []
    for block in blocks:
        out.extend(_block(block, source))
    return out


def _block(node: Node, source: Markup) -> list[Node]:  # noqa: PLR0911 - one case per type
    kind: str = node["t"]
    content: Any = node.get("c")
    if kind in {"Para", "Plain"}:
        return [{"t": kind, "c": _inlines(content, source)}]
    if kind == "Header":
        level, _attr, inlines = content
        return [{"t": "Header", "c": [level, _NO_ATTR(), _inlines(inlines, source)]}]
    if kind == "CodeBlock":
        return [_code_block(content, source)]
    if kind == "BlockQuote":
        return [{"t": "BlockQuote", "c": _blocks(content, source)}]
    if kind == "BulletList":
        return [{"t": "BulletList", "c": [_item(item, source) for item in content]}]
    if kind == "OrderedList":
        start, _style, _delim = content[0]
        attrs = [start, {"t": "DefaultStyle"}, {"t": "DefaultDelim"}]
        return [{"t": "OrderedList", "c": [attrs, [_item(i, source) for i in content[1]]]}]
    if kind == "Div":
        return _div(content, source)
    if kind == "RawBlock":
        if content[1].strip() == PANDOC_SEPARATOR:
            return []  # pandoc's own, between a list and an indented code block
        return [{"t": "Para", "c": _words(content[1])}]
    if kind == "Table":
        return [_walk_inlines(node, source)]
    return [node]


def _code_block(content: list[Any], source: Markup) -> Node:
    (_ident, classes, _kv), text = content
    if source is Markup.TEXTILE and (found := TEXTILE_CODE.match(text)):
        classes, text = [found.group(1)], found.group(2)
    return {"t": "CodeBlock", "c": [["", classes[:1], []], text.rstrip("\n")]}


def _item(blocks: list[Node], source: Markup) -> list[Node]:
    # Tight lists: an item of one paragraph (perhaps with a nested list) is written as
    # one line in every dialect, so it is read as one.
    blocks = _blocks(blocks, source)
    if blocks and blocks[0]["t"] == "Para" and all(b["t"] != "Para" for b in blocks[1:]):
        blocks[0] = {"t": "Plain", "c": blocks[0]["c"]}
    return blocks


def _div(content: list[Any], source: Markup) -> list[Node]:
    (_ident, classes, _kv), children = content
    if "panel" not in classes:
        return _blocks(children, source)  # another container: its content stands alone
    title: list[Node] = []
    body: list[Node] = []
    for child in children:
        if child["t"] == "Div" and "panelheader" in child["c"][0][1]:
            for header_block in child["c"][1]:
                title.extend(_unstrong(_inlines(header_block.get("c", []), source)))
        else:
            body.append(child)
    heading = [{"t": "Para", "c": [{"t": "Strong", "c": title}]}] if title else []
    return [{"t": "BlockQuote", "c": heading + _blocks(body, source)}]


def _unstrong(inlines: list[Node]) -> list[Node]:
    if len(inlines) == 1 and inlines[0]["t"] == "Strong":
        return list(inlines[0]["c"])
    return inlines


def _walk_inlines(node: Any, source: Markup) -> Any:  # noqa: ANN401 - any JSON value
    """A table's cells: every list of inlines or blocks inside it, normalised."""
    if isinstance(node, dict):
        if node.get("t") in {"Plain", "Para"}:
            return {"t": "Plain", "c": _inlines(node["c"], source)}
        return {key: _walk_inlines(value, source) for key, value in node.items()}
    if isinstance(node, list):
        return [_walk_inlines(value, source) for value in node]
    return node


def _inlines(inlines: list[Node], source: Markup) -> list[Node]:
    out: list[Node] = []
    for node in inlines:
        out.extend(_inline(node, source))
    return _merge_breaks(out)


def _inline(node: Node, source: Markup) -> list[Node]:  # noqa: PLR0911 - one case per type
    kind: str = node["t"]
    content: Any = node.get("c")
    if kind in {"Span", "Underline", "SmallCaps"}:
        inner = content[1] if kind == "Span" else content
        return _inlines(inner, source)
    if kind in {"Emph", "Strong", "Strikeout", "Superscript", "Subscript"}:
        return [{"t": kind, "c": _inlines(content, source)}]
    if kind == "Quoted":
        mark = '"' if content[0]["t"] == "DoubleQuote" else "'"
        return [{"t": "Str", "c": mark}, *_inlines(content[1], source), {"t": "Str", "c": mark}]
    if kind == "Link":
        (_ident, classes, _kv), label, (url, title) = content
        if MENTION_CLASS in classes:
            return [mention(url.removeprefix("~"))]
        return [{"t": "Link", "c": [_NO_ATTR(), _inlines(label, source), [url, title]]}]
    if kind == "Image":
        _attr, alt, target = content
        return [{"t": "Image", "c": [_NO_ATTR(), _inlines(alt, source), target]}]
    if kind == "Code":
        return [{"t": "Code", "c": [_NO_ATTR(), content[1]]}]
    if kind == "RawInline":
        return _words(content[1])
    if kind == "Str" and not content:
        return []  # an image's empty description, as the Jira reader gives it
    if kind == "Str" and source is not Markup.JIRA:
        return _at_mentions(content)
    return [node]


def _at_mentions(text: str) -> list[Node]:
    found = AT_MENTION.fullmatch(text)
    if not found:
        return [{"t": "Str", "c": text}]
    rest = [{"t": "Str", "c": found.group(2)}] if found.group(2) else []
    return [mention(found.group(1)), *rest]


def _merge_breaks(inlines: list[Node]) -> list[Node]:
    # Jira's "\\" at a line's end is one break, not two (its line end is one already).
    out: list[Node] = []
    for node in inlines:
        if node["t"] == "LineBreak" and out and out[-1]["t"] in {"LineBreak", "SoftBreak"}:
            out[-1] = node
            continue
        out.append(node)
    return out


def _words(text: str) -> list[Node]:
    return [{"t": "Str", "c": text}]


def _NO_ATTR() -> list[Any]:  # noqa: N802 - reads as the constant it stands for
    return ["", [], []]


def mention(name: str) -> Node:
    """The tree's mention of a user: a link of pandoc's ``user-account`` class."""
    return {
        "t": "Link",
        "c": [["", [MENTION_CLASS], []], [{"t": "Str", "c": f"~{name}"}], [f"~{name}", ""]],
    }


def dropped_words(text: str, source: Markup, blocks: list[Node]) -> set[str]:
    """Words of ``text`` that its tree lacks: what the reader dropped (Jira only).

    pandoc's Jira reader drops what it cannot parse: an unclosed ``{code}`` or
    ``{quote}`` and what follows, ``{code}x{code}`` on one line. A text whose words
    did not all arrive is carried verbatim instead (:func:`verbatim`), never cut.
    The macros' own words (``{color:red}``, an image's ``|thumbnail``) are not counted.
    """
    if source is not Markup.JIRA:
        return set()
    written = JIRA_NOT_WORDS.sub(" ", text)
    said = {word.lower() for word in WORD.findall(written)}
    return said - _tree_words(blocks)


def _tree_words(value: Any) -> set[str]:  # noqa: ANN401 - any JSON value
    found: set[str] = set()
    if isinstance(value, str):
        found.update(word.lower() for word in WORD.findall(value))
    elif isinstance(value, list):
        for item in value:
            found |= _tree_words(item)
    elif isinstance(value, dict):
        found |= _tree_words(value.get("c"))
    return found


def verbatim(text: str) -> list[Node]:
    """The tree of a text carried as it is (one it could not be read in time): a code block."""
    return [{"t": "CodeBlock", "c": [["", [], []], text.rstrip("\n")]}]


# -- mentions -------------------------------------------------------------------------------

Mentions = Callable[[str], str | None]  # a source-side name -> the partner's, or None


def no_mentions(name: str) -> str | None:
    """The resolver that maps nobody: every mention crosses as its name in plain text."""
    del name
    return None


def rename_mentions(blocks: list[Node], mentions: Mentions) -> list[Node]:
    """The tree with every mention renamed by ``mentions``; one it maps to None becomes the
    name as plain text (no ``@``, no ``[~]``), so a mention never points at whoever happens
    to have the same name on the other side."""

    def rename(node: Node) -> Node:
        if node.get("t") != "Link" or MENTION_CLASS not in node["c"][0][1]:
            return node
        name = node["c"][2][0].removeprefix("~")
        partner = mentions(name)
        return mention(partner) if partner else {"t": "Str", "c": name}

    result = _map(blocks, rename, _identity)
    assert isinstance(result, list)
    return result


# -- before writing -------------------------------------------------------------------------


def for_target(blocks: list[Node], target: Markup) -> list[Node]:
    """The tree as the target's writer should see it (mentions, Textile's code blocks)."""
    rewrite_inline: Callable[[Node], Node] = _identity
    if target is not Markup.JIRA:
        rewrite_inline = _mention_as_at
    rewrite_block: Callable[[Node], Node] = _identity
    if target is Markup.TEXTILE:
        rewrite_block = _textile_block
    elif target.markdown:
        rewrite_block = _fenced
    result = _map(blocks, rewrite_inline, rewrite_block)
    assert isinstance(result, list)
    return result


def _identity(node: Node) -> Node:
    return node


def _mention_as_at(node: Node) -> Node:
    if node.get("t") == "Link" and MENTION_CLASS in node["c"][0][1]:
        return {"t": "Str", "c": "@" + node["c"][2][0].removeprefix("~")}
    return node


def _fenced(node: Node) -> Node:
    # pandoc indents a code block with no language, and two of them in a row read back
    # as one: every code block is fenced, with a fence longer than any run of backticks
    # inside it.
    if node.get("t") != "CodeBlock" or node["c"][0][1]:
        return node
    text = node["c"][1]
    fence = "`" * max([3, *(len(run) + 1 for run in re.findall(r"`+", text))])
    return {"t": "RawBlock", "c": ["markdown", f"{fence}\n{text}\n{fence}"]}


def _same_kind_nesting(node: Node) -> Node:
    # pandoc's Textile reader does not read a list nested in one of the other kind
    # ("#*"): there the nested list takes its parent's kind (the items stay).
    kind = node["t"]
    items = node["c"] if kind == "BulletList" else node["c"][1]
    other = "OrderedList" if kind == "BulletList" else "BulletList"
    fixed = [
        [_as_list_kind(child, kind) if child["t"] == other else child for child in item]
        for item in items
    ]
    return {"t": kind, "c": fixed if kind == "BulletList" else [node["c"][0], fixed]}


def _as_list_kind(node: Node, kind: str) -> Node:
    items = node["c"] if node["t"] == "BulletList" else node["c"][1]
    if kind == "BulletList":
        return {"t": kind, "c": items}
    return {"t": kind, "c": [[1, {"t": "DefaultStyle"}, {"t": "DefaultDelim"}], items]}


def _textile_block(node: Node) -> Node:
    if node.get("t") in {"BulletList", "OrderedList"}:
        return _same_kind_nesting(node)
    # Textile's "bq." holds one paragraph (pandoc writes HTML for more): the paragraphs
    # of a quote (a panel's title and body) become lines of one.
    quoted = node["c"] if node.get("t") == "BlockQuote" else []
    if len(quoted) > 1 and all(child["t"] in {"Para", "Plain"} for child in quoted):
        lines: list[Node] = []
        for child in quoted:
            lines.extend([*([{"t": "LineBreak"}] if lines else []), *child["c"]])
        return {"t": "BlockQuote", "c": [{"t": "Para", "c": lines}]}
    # pandoc writes "bc(python). ..." which no reader (nor Redmine) takes as a language.
    if node.get("t") == "CodeBlock" and node["c"][0][1]:
        language, text = node["c"][0][1][0], node["c"][1]
        html = f'<pre><code class="{language}">\n{text}\n</code></pre>'
        return {"t": "RawBlock", "c": ["textile", html]}
    return node


def _map(value: Any, inline: Callable[[Node], Node], block: Callable[[Node], Node]) -> Any:  # noqa: ANN401
    if isinstance(value, list):
        return [_map(v, inline, block) for v in value]
    if isinstance(value, dict):
        if "t" in value:
            value = block(inline(value))
        return {k: _map(v, inline, block) for k, v in value.items()}
    return value


# -- after writing --------------------------------------------------------------------------

TEXTILE_HYPHEN: Final = re.compile(r"(?<=\w)&#45;(?=\w)")
TEXTILE_AT: Final = re.compile(r"&#64;(?=\w)")
TEXTILE_PRE_END: Final = re.compile(r"</code></pre>\n(?!\n)")
JIRA_EMPTY_ANCHOR: Final = "{anchor:}"
JIRA_LIST_THEN_TAG: Final = re.compile(r"^([*#-]+ .*\n)(?=\{[a-z]+(?::[^}]*)?\}$)", re.MULTILINE)
BLANK_LINES: Final = re.compile(r"\n{3,}")
TRAILING_SPACE: Final = re.compile(r"[ \t]+$", re.MULTILINE)


def tidy_output(text: str, target: Markup) -> str:
    """The written text without the writer's extra blank lines and needless escapes."""
    if target is Markup.TEXTILE:
        # A hyphen inside a word ("PA-12") cannot start a strike-through.
        text = TEXTILE_HYPHEN.sub("-", text)
        # A mention ("@name", Redmine's too) or an e-mail address is escaped as if it
        # opened "@code@"; prepare_source tells them from code when read back.
        text = TEXTILE_AT.sub("@", text)
        text = TEXTILE_PRE_END.sub("</code></pre>\n\n", text)
    if target is Markup.JIRA:
        text = text.replace(JIRA_EMPTY_ANCHOR, "")  # a heading with no identifier
        # pandoc's Jira reader reads the lines after a list item up to a blank line as the
        # item's, a quote's closing tag among them: a blank line ends the list first.
        text = JIRA_LIST_THEN_TAG.sub("\\1\n", text)
    text = TRAILING_SPACE.sub("", text)
    return BLANK_LINES.sub("\n\n", text).strip("\n")


# -- the canonical form ---------------------------------------------------------------------


def canonical_blocks(blocks: list[Node]) -> str:
    """The normalised tree as compact JSON with what no dialect keeps apart forgotten."""
    return json.dumps(_canon(blocks), separators=(",", ":"), sort_keys=True, ensure_ascii=False)


def _canon(value: Any) -> Any:  # noqa: ANN401 - any JSON value
    if isinstance(value, list):
        if value and all(isinstance(v, dict) and "t" in v for v in value):
            return list(_canon_nodes(value))
        return [_canon(v) for v in value]
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    return value


def _canon_nodes(nodes: list[Node]) -> Iterator[Node]:
    # Words and the spaces between them as one string; soft and hard breaks alike;
    # a paragraph and a plain block alike; surrounding space trimmed.
    text: list[str] = []
    for node in nodes:
        kind = node["t"]
        if kind == "Str":
            text.append(node["c"])
        elif kind == "Space":
            text.append(" ")
        elif kind in {"SoftBreak", "LineBreak"}:
            text.append("\n")
        else:
            if text:
                yield {"t": "Text", "c": "".join(text)}
                text = []
            canon = "Para" if kind == "Plain" else kind
            yield {"t": canon, "c": _canon(node.get("c"))} if "c" in node else {"t": canon}
    if text:
        yield {"t": "Text", "c": "".join(text)}
