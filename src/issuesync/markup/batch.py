"""Many texts converted in two pandoc processes instead of two each.

The sync converts every description and comment of a page of messages: an initial
sync is thousands of texts, and one pandoc process per reading and per writing
(``pandoc.convert``) costs about 7 ms each, most of it starting pandoc. Here one
``pandoc lua`` process reads all the texts of a chunk (Lua's ``pandoc.read``, in a
sandbox as ``--sandbox`` is) and one writes them, with the same rules between
(``domain/markup.py``), so each text costs what pandoc's reader and writer take.

A chunk that fails or runs past its time is converted text by text instead
(``pandoc.convert``), where a text pandoc cannot read in time crosses verbatim: a
bad text never costs the others their conversion.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any, Final

from issuesync.domain.markup import (
    Markup,
    Mentions,
    Node,
    dropped_words,
    for_target,
    normalise,
    plain,
    plain_blocks,
    plain_text,
    prepare_source,
    rename_mentions,
    tidy_output,
    verbatim,
)
from issuesync.errors import IssueSyncError
from issuesync.markup import pandoc

log = logging.getLogger(__name__)

# A chunk is what one pair of processes converts within pandoc.TIMEOUT_S: at about
# 0.3 ms a text and a megabyte a second, these leave a wide margin.
CHUNK_TEXTS: Final = 200
CHUNK_CHARS: Final = 200_000

# Each text read (false where pandoc could not), as its JSON document.
READ_ALL: Final = """
local request = pandoc.json.decode(io.read("a"), false)
local out = {}
for i, text in ipairs(request.texts) do
  local ok, doc = pcall(pandoc.read, text, request.format, {}, {})
  out[i] = ok and pandoc.write(doc, "json") or false
end
io.write(pandoc.json.encode(out))
"""
# Each JSON document written in the format, lines as they are (--wrap=preserve).
WRITE_ALL: Final = """
local request = pandoc.json.decode(io.read("a"), false)
local out = {}
for i, doc in ipairs(request.texts) do
  out[i] = pandoc.write(pandoc.read(doc, "json"), request.format, {wrap_text = "wrap-preserve"})
end
io.write(pandoc.json.encode(out))
"""


def convert_many(
    texts: Sequence[str],
    source: Markup,
    target: Markup,
    *,
    mentions: Mentions | None = None,
) -> list[str]:
    """Each of ``texts``, written in ``source``, written in ``target`` (as ``convert`` would)."""
    converted: list[str] = []
    for chunk in _chunks(texts):
        try:
            converted.extend(_convert_chunk(chunk, source, target, mentions))
        except IssueSyncError as exc:  # past its time, or pandoc failed: one by one
            log.info("%d texts converted one by one: %s", len(chunk), exc.describe())
            converted.extend(
                pandoc.convert(text, source, target, mentions=mentions) for text in chunk
            )
    return converted


def read_many(texts: Sequence[str], source: Markup) -> list[list[Node]]:
    """The normalised tree of each of ``texts`` (as ``pandoc.read`` gives it; a text
    pandoc cannot read crosses verbatim)."""
    trees: list[list[Node]] = []
    for chunk in _chunks(texts):
        try:
            trees.extend(_read_chunk(chunk, source))
        except IssueSyncError as exc:  # past its time, or pandoc failed: one by one
            log.info("%d texts read one by one: %s", len(chunk), exc.describe())
            trees.extend(_read_one(text, source) for text in chunk)
    return trees


def write_many(trees: Sequence[list[Node]], target: Markup) -> list[str]:
    """Each normalised tree written in ``target`` (as ``pandoc.write`` writes it)."""
    written: list[str] = []
    for chunk in _chunks_of_trees(trees):
        try:
            written.extend(_write_chunk(chunk, target))
        except IssueSyncError as exc:
            log.info("%d texts written one by one: %s", len(chunk), exc.describe())
            written.extend(pandoc.write(tree, target) for tree in chunk)
    return written


def _read_one(text: str, source: Markup) -> list[Node]:
    if not text.strip():
        return []
    try:
        return pandoc.read(text, source)
    except pandoc.ConversionTimeoutError:
        return verbatim(text)


def _read_chunk(texts: list[str], source: Markup) -> list[list[Node]]:
    trees: list[list[Node]] = [plain_blocks(text) if plain(text) else [] for text in texts]
    wanted = [i for i, text in enumerate(texts) if text.strip() and not plain(text)]
    if not wanted:
        return trees
    prepared = [_as_the_command_line_reads(prepare_source(texts[i], source)) for i in wanted]
    for i, document in zip(wanted, _lua(READ_ALL, source.pandoc_format, prepared), strict=True):
        trees[i] = _blocks_of(texts[i], source, document)
    return trees


def _write_chunk(trees: list[list[Node]], target: Markup) -> list[str]:
    written = [plain_text(tree) for tree in trees]
    wanted = [i for i, text in enumerate(written) if text is None]
    result = [text or "" for text in written]
    if not wanted:
        return result
    api_version = pandoc.api_version()
    documents = [
        json.dumps(
            {"pandoc-api-version": api_version, "meta": {}, "blocks": for_target(trees[i], target)}
        )
        for i in wanted
    ]
    for i, text in zip(wanted, _lua(WRITE_ALL, target.pandoc_format, documents), strict=True):
        result[i] = tidy_output(str(text), target)
    return result


def _chunks_of_trees(trees: Sequence[list[Node]]) -> Iterator[list[list[Node]]]:
    chunk: list[list[Node]] = []
    for tree in trees:
        if len(chunk) >= CHUNK_TEXTS:
            yield chunk
            chunk = []
        chunk.append(tree)
    if chunk:
        yield chunk


def _chunks(texts: Sequence[str]) -> Iterator[list[str]]:
    chunk: list[str] = []
    size = 0
    for text in texts:
        if chunk and (len(chunk) >= CHUNK_TEXTS or size + len(text) > CHUNK_CHARS):
            yield chunk
            chunk, size = [], 0
        chunk.append(text)
        size += len(text)
    if chunk:
        yield chunk


def _convert_chunk(
    texts: list[str], source: Markup, target: Markup, mentions: Mentions | None
) -> list[str]:
    # Plain words convert to themselves; blank text to nothing: pandoc is not asked.
    result = [text if plain(text) else "" for text in texts]
    wanted = [i for i, text in enumerate(texts) if text.strip() and not plain(text)]
    if not wanted:
        return result
    prepared = [_as_the_command_line_reads(prepare_source(texts[i], source)) for i in wanted]
    read = _lua(READ_ALL, source.pandoc_format, prepared)
    trees: list[list[Node]] = []
    for i, document in zip(wanted, read, strict=True):
        blocks = _blocks_of(texts[i], source, document)
        trees.append(rename_mentions(blocks, mentions) if mentions is not None else blocks)
    api_version = pandoc.api_version()
    documents = [
        json.dumps({"pandoc-api-version": api_version, "meta": {}, "blocks": for_target(b, target)})
        for b in trees
    ]
    written = _lua(WRITE_ALL, target.pandoc_format, documents)
    for i, text in zip(wanted, written, strict=True):
        result[i] = tidy_output(str(text), target)
    return result


def _as_the_command_line_reads(text: str) -> str:
    # pandoc's command line expands tabs (--tab-stop=4) and ends its input with a line
    # end, which the Jira reader needs after a closing {code} or a table's last row;
    # Lua's pandoc.read does neither.
    return text.expandtabs(4).rstrip("\n") + "\n"


def _blocks_of(text: str, source: Markup, document: Any) -> list[Node]:  # noqa: ANN401 - JSON
    """The normalised tree of one text read, or the text verbatim where reading failed."""
    if not isinstance(document, str):
        return verbatim(text)
    blocks = normalise(json.loads(document)["blocks"], source)
    return verbatim(text) if dropped_words(text, source, blocks) else blocks


def _lua(script: str, pandoc_format: str, texts: list[str]) -> list[Any]:
    request = json.dumps({"format": pandoc_format, "texts": texts}, ensure_ascii=False)
    answer = json.loads(pandoc.run_lua(script, request))
    if not isinstance(answer, list) or len(answer) != len(texts):
        raise pandoc.ConversionFailedError(f"pandoc answered {len(answer)} of {len(texts)} texts")
    return answer
