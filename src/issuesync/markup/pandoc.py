"""Conversion through pandoc: text → JSON tree → the domain's rules → text.

Each conversion runs pandoc twice (about 7 ms each on the reference machine):
once to read the source into its JSON tree, once to write the tree in the
target dialect. The rules in between are Python (``domain/markup.py``).
"""

from __future__ import annotations

import functools
import json
import subprocess
from typing import Any, Final

from issuesync.domain.markup import (
    Markup,
    Mentions,
    Node,
    canonical_blocks,
    dropped_words,
    for_target,
    normalise,
    plain,
    prepare_source,
    rename_mentions,
    tidy_output,
    verbatim,
)
from issuesync.errors import ConfigurationError, PerIssueError, RetryableError

# Past this a text is not converted but carried verbatim (domain.markup.verbatim): a
# text pandoc chokes on must neither hold a sync worker nor park its issue for ever.
TIMEOUT_S: Final = 5.0
# Writers keep the source's line ends: pandoc wraps at 72 columns otherwise, and a
# rewrapped text would read as changed.
WRITE_OPTIONS: Final = ("--wrap=preserve",)


@functools.cache
def _pandoc() -> str:
    try:
        import pypandoc  # noqa: PLC0415 - a slow import, done on first conversion only
    except ImportError as error:  # pragma: no cover - a runtime dependency
        raise ConfigurationError("pypandoc-binary is not installed") from error
    path = pypandoc.get_pandoc_path()
    assert isinstance(path, str)
    return path


def pandoc_version() -> str:
    """The version of the pandoc that converts (for the bench and diagnostics)."""
    first_line = _run(["--version"], "").splitlines()[0]
    return first_line.removeprefix("pandoc").strip()


class ConversionTimeoutError(RetryableError):
    """pandoc ran past its time. Reading a text, it is handled here (the text is carried
    verbatim); anywhere else the same work may be done again later."""


class ConversionFailedError(PerIssueError):
    """pandoc refused a text or answered something else than asked. The sync carries the
    text as it is instead (``engine/pipeline/richtext.py``): it never parks an issue."""


def utf8(text: str) -> bytes:
    """``text`` as pandoc reads it; a text that is not Unicode (a lone surrogate that a
    tracker's JSON let through) cannot be converted."""
    try:
        return text.encode()
    except UnicodeEncodeError as error:
        raise ConversionFailedError(f"the text is not valid Unicode: {error.reason}") from error


def _run(arguments: list[str], text: str, timeout_s: float = TIMEOUT_S) -> str:
    return _pandoc_output(["--sandbox", *arguments], text, timeout_s)


def run_lua(script: str, text: str, timeout_s: float = TIMEOUT_S) -> str:
    """What ``pandoc lua`` prints running ``script`` with ``text`` as its input (the
    script reads in a sandbox: ``pandoc.read``'s fourth argument)."""
    return _pandoc_output(["lua", "-e", script], text, timeout_s)


def _pandoc_output(arguments: list[str], text: str, timeout_s: float) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - our own binary, arguments and script we built
            [_pandoc(), *arguments],
            input=utf8(text),
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ConversionTimeoutError(f"pandoc took longer than {timeout_s} s") from error
    except OSError as error:
        raise ConfigurationError(f"pandoc cannot run: {error}") from error
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip()
        raise ConversionFailedError(f"the text could not be converted: {reason}")
    return done.stdout.decode()


def read(text: str, source: Markup, *, timeout_s: float = TIMEOUT_S) -> list[Node]:
    """The normalised tree of ``text`` written in ``source``."""
    arguments = ["-f", source.pandoc_format, "-t", "json"]
    raw = _run(arguments, prepare_source(text, source), timeout_s)
    document: dict[str, Any] = json.loads(raw)
    blocks = normalise(document["blocks"], source)
    if dropped_words(text, source, blocks):
        return verbatim(text)  # the reader lost words: carry the text as it is
    return blocks


def write(blocks: list[Node], target: Markup) -> str:
    """The text of a normalised tree in ``target``."""
    document = {
        "pandoc-api-version": api_version(),
        "meta": {},
        "blocks": for_target(blocks, target),
    }
    written = _run(["-f", "json", "-t", target.pandoc_format, *WRITE_OPTIONS], json.dumps(document))
    return tidy_output(written, target)


@functools.cache
def api_version() -> list[int]:
    """The version of pandoc's JSON document model, which a written tree must name."""
    document: dict[str, Any] = json.loads(_run(["-f", "markdown", "-t", "json"], ""))
    version: list[int] = document["pandoc-api-version"]
    return version


def convert(
    text: str,
    source: Markup,
    target: Markup,
    *,
    timeout_s: float = TIMEOUT_S,
    mentions: Mentions | None = None,
) -> str:
    """``text`` written in ``source``, written in ``target`` (see ``domain/markup.py``'s rules).

    A text pandoc cannot read within ``timeout_s`` crosses verbatim, as a code block.
    ``mentions`` renames each mention (the source's name to the partner's); one it maps
    to None becomes the name as plain text. Without it mentions keep their names.
    """
    if not text.strip():
        return ""
    if plain(text):
        return text  # words that every dialect writes alike
    try:
        blocks = read(text, source, timeout_s=timeout_s)
    except ConversionTimeoutError:
        blocks = verbatim(text)
    if mentions is not None:
        blocks = rename_mentions(blocks, mentions)
    return write(blocks, target)


def canonical(text: str, dialect: Markup, *, timeout_s: float = TIMEOUT_S) -> str:
    """What ``text`` says, independent of how: equal for texts that say the same.

    A text converted A→B→A has the canonical form of the original (for what both
    dialects express), so the engine can keep this in the shadow and see no change.
    """
    if not text.strip():
        return "[]"
    try:
        return canonical_blocks(read(text, dialect, timeout_s=timeout_s))
    except ConversionTimeoutError:
        return canonical_blocks(verbatim(text))
