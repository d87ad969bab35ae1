"""Atlassian Document Format (Jira Cloud's REST v3 rich text) to and from the replica's text.

Jira Server's REST v2 gives descriptions and comments as wiki-markup text, and
that text is what replicas carry. Jira Cloud's REST v3 gives and takes ADF
documents (``{"type": "doc", "version": 1, "content": [...]}``). Here they meet
through pandoc's document tree: an ADF document becomes that tree
(``domain/adf.py``, one tree to another) which pandoc writes as wiki markup, and
wiki markup is read by pandoc (``issuesync.markup``) into the tree that becomes
ADF. Bold, italics, strike-through, underline, code, links, mentions, headings,
lists, code blocks, quotes and tables keep their form both ways; what ADF has and
wiki markup lacks (panels, expands, task lists, emoji, status lozenges, dates)
is kept readable (``domain/adf.py``'s table).

The ``*_many`` functions convert a batch in two pandoc processes (``markup/batch.py``):
an issue's description and comments are converted together.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from issuesync.domain.adf import adf_to_blocks, blocks_to_adf
from issuesync.domain.markup import Markup
from issuesync.markup.batch import read_many, write_many

Node = dict[str, Any]


def adf_to_text(document: object) -> str | None:
    """The wiki-markup text of an ADF document; None for none (a plain string stays as it is)."""
    return texts_of([document])[0]


def texts_of(documents: Sequence[object]) -> list[str | None]:
    """The wiki-markup text of each ADF document (None for None, a string as it is)."""
    result: list[str | None] = []
    wanted: list[int] = []
    for index, document in enumerate(documents):
        if document is None or isinstance(document, str):
            result.append(document)
            continue
        result.append("")
        if isinstance(document, Mapping):
            wanted.append(index)
    trees = [adf_to_blocks(_as_mapping(documents[i])) for i in wanted]
    for index, text in zip(wanted, write_many(trees, Markup.JIRA), strict=True):
        result[index] = text
    return result


def text_to_adf(text: str | None) -> Node | None:
    """An ADF document of wiki-markup text (None stays None; an empty text is an empty doc)."""
    return adfs_of([text])[0]


def adfs_of(texts: Sequence[str | None]) -> list[Node | None]:
    """The ADF document of each wiki-markup text (None stays None)."""
    result: list[Node | None] = [None] * len(texts)
    wanted = [i for i, text in enumerate(texts) if text is not None]
    trees = read_many([texts[i] or "" for i in wanted], Markup.JIRA)
    for index, tree in zip(wanted, trees, strict=True):
        result[index] = blocks_to_adf(tree)
    return result


def _as_mapping(document: object) -> Mapping[str, Any]:
    assert isinstance(document, Mapping)
    return document
