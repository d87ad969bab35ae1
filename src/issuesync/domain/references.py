"""References to issues inside text ("see PA-12", ``#12``), and their rewriting to the twins.

Each tracker's texts name its issues their own way (:data:`STYLES`): Jira and the built-in
tracker by key (``PA-12``), GitHub, GitLab and Redmine by number (``#12``). A text that
crosses names the sender's issues; on the receiving side, each reference to an issue that
has a twin there becomes a reference to the twin, written the receiver's way ("see #12" on
GitHub reads "see PB-5" in the built-in project). A reference to an issue without a twin
(not synchronized, another project, another repository's ``owner/repo#12``) is left as
written, and so is everything inside code: inline code and code blocks of the text's
markup dialect (:func:`code_regions`). Pure: the caller looks the twins up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class ReferenceStyle:
    """How one tracker's texts refer to its issues: what a reference looks like, what key
    of ours it names, and how a key is written as one."""

    name: str
    pattern: re.Pattern[str]  # the key is group 1
    prefix: str = ""  # written before a key (``#`` for numbers)

    def find(self, text: str) -> Iterator[tuple[int, int, str]]:
        """Each reference in ``text``: its start, end and the key it names."""
        for found in self.pattern.finditer(text):
            yield found.start(), found.end(), found.group(1)

    def write(self, key: str) -> str:
        """``key`` as a reference in this tracker's text."""
        return f"{self.prefix}{key}"


# A Jira key: a project key (a capital, then capitals, digits or _) and a number, on its
# own: not inside a word, a path or a URL's last part, not followed by more of a key.
KEYS: Final = ReferenceStyle(
    "key", re.compile(r"(?<![\w/#.\-@])([A-Z][A-Z0-9_]{0,49}-[1-9]\d{0,9})(?![\w\-]|\.\w)")
)
# ``#12``: not after a word (``repo#12`` names another repository), ``&`` (``&#39;``),
# ``/`` or another ``#`` (Redmine's ``##12``).
NUMBERS: Final = ReferenceStyle(
    "number", re.compile(r"(?<![\w&/#])#([1-9]\d{0,9})(?![\w\-])"), prefix="#"
)

STYLES: Final[Mapping[str, ReferenceStyle]] = {
    "local": KEYS,
    "jira": KEYS,
    "jiracloud": KEYS,
    "github": NUMBERS,
    "gitlab": NUMBERS,
    "redmine": NUMBERS,
}


def style_of(system: str) -> ReferenceStyle | None:
    """The reference style of a tracker's texts; None for one not known here (the other
    node's, in a distributed integration)."""
    return STYLES.get(system)


# Code, per dialect family: Jira wiki markup, Markdown (GFM, GitLab's, CommonMark), Textile.
_JIRA_CODE: Final = (
    re.compile(r"\{code(?::[^}\n]*)?\}.*?(?:\{code\}|\Z)", re.DOTALL),
    re.compile(r"\{noformat(?::[^}\n]*)?\}.*?(?:\{noformat\}|\Z)", re.DOTALL),
    re.compile(r"\{\{.*?\}\}", re.DOTALL),
)
_MARKDOWN_CODE: Final = (
    re.compile(
        r"^[ \t]{0,3}(`{3,}|~{3,})[^\n]*\n.*?(?:^[ \t]{0,3}\1[ \t]*$|\Z)", re.MULTILINE | re.DOTALL
    ),
    re.compile(r"(`+)(?!`).+?(?<!`)\1(?!`)", re.DOTALL),
    re.compile(r"<(pre|code)\b[^>]*>.*?(?:</\1>|\Z)", re.DOTALL | re.IGNORECASE),
)
_TEXTILE_CODE: Final = (
    re.compile(r"<(pre|code|notextile)\b[^>]*>.*?(?:</\1>|\Z)", re.DOTALL | re.IGNORECASE),
    re.compile(r"^bc\.\..*?(?=^p\.|\Z)", re.MULTILINE | re.DOTALL),
    re.compile(r"^bc\..*?(?:\n\s*\n|\Z)", re.MULTILINE | re.DOTALL),
    re.compile(r"(?<![\w@])@[^@\n]+@(?!\w)"),
)
_FAMILIES: Final[Mapping[str, Sequence[re.Pattern[str]]]] = {
    "jira": _JIRA_CODE,
    "markdown": _MARKDOWN_CODE,
    "textile": _TEXTILE_CODE,
}
# The markup dialects' names (``domain/markup.py``) and the trackers', by family.
_DIALECTS: Final[Mapping[str, str]] = {
    "jira": "jira",
    "local": "jira",
    "jiracloud": "jira",
    "gfm": "markdown",
    "gitlab": "markdown",
    "github": "markdown",
    "markdown": "markdown",
    "commonmark": "markdown",
    "textile": "textile",
    "redmine": "textile",
}


def code_regions(text: str, *dialects: str | None) -> list[tuple[int, int]]:
    """Where ``text`` holds code in any of ``dialects`` (markups' or trackers' names; one not
    known here counts the code of Jira's markup and Markdown both), as sorted (start, end)
    spans.

    The engine passes both sides' dialects: a text is in the partner's until it is
    converted, in this side's after, and a reference in code stays as it is in both.
    """
    patterns: list[re.Pattern[str]] = []
    for dialect in dialects or (None,):
        family = _DIALECTS.get((dialect or "").lower())
        for pattern in _FAMILIES[family] if family else (*_JIRA_CODE, *_MARKDOWN_CODE):
            if pattern not in patterns:
                patterns.append(pattern)
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        spans.extend(
            (m.start(), m.end())
            for m in pattern.finditer(text)
            if not _inside(m.start(), spans)  # code in code is the outer code's
        )
    return sorted(spans)


def _inside(position: int, spans: Sequence[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def references(text: str, style: ReferenceStyle, *dialects: str | None) -> set[str]:
    """The keys ``text`` refers to (in ``style``) outside code."""
    code = code_regions(text, *dialects)
    return {key for start, _, key in style.find(text) if not _inside(start, code)}


def rewrite(
    text: str,
    source: ReferenceStyle,
    target: ReferenceStyle,
    twin_of: Callable[[str], str | None],
    *dialects: str | None,
) -> str:
    """``text`` with each reference (written in ``source``'s style) to an issue that has a
    twin rewritten to the twin, in ``target``'s style; the rest as it was."""
    code = code_regions(text, *dialects)
    parts: list[str] = []
    last = 0
    for start, end, key in source.find(text):
        if _inside(start, code):
            continue
        twin = twin_of(key)
        if twin is None:
            continue
        parts.append(text[last:start])
        parts.append(target.write(twin))
        last = end
    if not parts:
        return text
    parts.append(text[last:])
    return "".join(parts)
