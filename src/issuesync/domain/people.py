"""People across two trackers: who a partner's user is here, and who wrote a synced comment.

A user of the partner's tracker is found here, in this order:

1. by the connector's ``user_mappings`` (``{"local": ..., "remote": ...}``, each a login
   name or an e-mail): what a person configured wins over what addresses suggest;
2. by e-mail, where both trackers' APIs show one (GitHub's does not);
3. by login name, only when both connectors are on the same tracker (two projects of
   the built-in tracker, say): there the name *is* the person; across two trackers it
   may be an unrelated user who happens to share it;
4. else nobody: the caller falls back to the sync user.

Mentions (``[~name]``, ``@name``) follow the same order, and a name that resolves to
nobody becomes plain text, never a mention of someone else (:func:`mention_resolver`).

A comment the sync user posts for someone else starts with a header, one line such as
``**Alice Smith** wrote on PA-12:`` in the tracker's markup (the name in bold:
``*x*`` in Jira wiki markup and Textile, ``**x**`` in Markdown). When the comment
comes back (an edit on this side), :func:`strip_header` takes the header off again, so
that prefixes never grow. Pure: the tracker's look-up is a function passed in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from issuesync.domain.configuration import UserMapping
from issuesync.domain.markup import Markup
from issuesync.domain.replica import UserRef

# The tracker's look-up: its user with this e-mail, else this login name; None when unknown.
FindUser = Callable[[UserRef], "UserRef | None"]

SOMEONE: Final = "Someone"  # the author of a comment that names none
# What would turn a display name into markup inside the bold, or into a mention of someone
# ("@root"; an e-mail address's "@" mentions nobody): dropped from the header.
_NOT_IN_NAME = re.compile(r"[*_\[\]{}|<>`~^+#!\\\r\n]+|(?<!\w)@")


class Match(StrEnum):
    """How a partner's user was found here (said in the message's note)."""

    MAPPING = "userMappings"
    EMAIL = "e-mail"
    LOGIN = "login name"


@dataclass(frozen=True)
class Found:
    """A partner's user as this tracker knows them, and how they were found."""

    user: UserRef
    match: Match


def _key(text: str | None) -> str | None:
    return text.strip().casefold() or None if text else None


@dataclass(frozen=True)
class PeopleMap:
    """A connector's user mappings, compiled: the partner's user to ours, and ours to theirs."""

    to_local: Mapping[str, str]
    to_remote: Mapping[str, str]

    @classmethod
    def of(cls, pairs: Iterable[UserMapping]) -> PeopleMap:
        """The map of a configuration's ``user_mappings`` (names compared without case)."""
        to_local: dict[str, str] = {}
        to_remote: dict[str, str] = {}
        for pair in pairs:
            to_local.setdefault(pair.remote.casefold(), pair.local)
            to_remote.setdefault(pair.local.casefold(), pair.remote)
        return cls(to_local, to_remote)

    def local_name(self, ref: UserRef) -> str | None:
        """The local login or e-mail a mapping gives the partner's user, by login or e-mail."""
        for name in (_key(ref.username), _key(ref.email)):
            if name is not None and name in self.to_local:
                return self.to_local[name]
        return None

    def remote_name(self, name: str) -> str | None:
        """The partner's login or e-mail a mapping gives a local login or e-mail."""
        return self.to_remote.get(name.casefold())


def as_ref(name: str) -> UserRef:
    """A configured login name or e-mail as what a tracker looks up."""
    return UserRef(email=name, username=name) if "@" in name else UserRef(username=name)


def find_partner_user(
    ref: UserRef, people: PeopleMap, find: FindUser, *, same_directory: bool
) -> Found | None:
    """The user here who is the partner's ``ref`` (see the module's order), or None."""
    mapped = people.local_name(ref)
    if mapped is not None:
        user = find(as_ref(mapped))
        return Found(user, Match.MAPPING) if user is not None else None
    if ref.email:
        user = find(UserRef(email=ref.email))
        if user is not None and _key(user.email) == _key(ref.email):
            return Found(user, Match.EMAIL)
    if same_directory and ref.username:
        user = find(UserRef(username=ref.username))
        if user is not None:
            return Found(user, Match.LOGIN)
    return None


def mention_resolver(
    people: PeopleMap,
    find: FindUser,
    *,
    known: Iterable[UserRef] = (),
    same_directory: bool,
) -> Callable[[str], str | None]:
    """``name`` (a login the partner's text mentions) to the login to mention here, or None
    for plain text: the partner's user found as :func:`find_partner_user` finds one, with the
    e-mail of a user the message names (``known``: its authors, assignee, reporter)."""
    emails = {name: user.email for user in known if (name := _key(user.username)) and user.email}

    def resolve(name: str) -> str | None:
        ref = UserRef(username=name, email=emails.get(name.casefold()))
        found = find_partner_user(ref, people, find, same_directory=same_directory)
        return found.user.username if found is not None else None

    return resolve


# -- the comment header ------------------------------------------------------------------


def bold(text: str, dialect: Markup) -> str:
    """``text`` in bold in ``dialect``."""
    mark = "**" if dialect in (Markup.GFM, Markup.GITLAB, Markup.COMMONMARK) else "*"
    return f"{mark}{text}{mark}"


def display_name(author: UserRef | None) -> str:
    """The author's name as a header shows it, markup characters left out."""
    label = author.label if author is not None else SOMEONE
    return " ".join(_NOT_IN_NAME.sub(" ", label).split()) or SOMEONE


def issue_label(key: str) -> str:
    """The partner's issue as a header names it: its key, ``#12`` for a bare number."""
    return f"#{key}" if key.isdigit() else key


def header(template: str, author: UserRef | None, key: str, dialect: Markup) -> str:
    """The header line of ``template`` for a comment ``author`` wrote on the partner's ``key``."""
    return _fill(template, bold(display_name(author), dialect), issue_label(key))


def with_header(body: str, line: str) -> str:
    """``body`` under the header ``line`` (an empty line between: a paragraph of its own)."""
    if not line:
        return body
    return f"{line}\n\n{body}" if body else line


def _fill(template: str, author: str, key: str) -> str:
    return re.sub(
        r"\{(author|key)\}", lambda m: author if m.group(1) == "author" else key, template
    )


def header_pattern(template: str, key: str, dialect: Markup) -> re.Pattern[str] | None:
    """What a header of ``template`` on the partner's ``key`` looks like at a body's start."""
    if not template:
        return None
    mark = re.escape("**" if bold("", dialect) == "****" else "*")
    author = f"{mark}[^\\n]+?{mark}"
    parts = re.split(r"(\{author\}|\{key\})", template)
    pattern = "".join(
        author
        if part == "{author}"
        else re.escape(issue_label(key))
        if part == "{key}"
        else re.escape(part)
        for part in parts
    )
    # The header's whole line, and the empty line after it: "... wrote on PA-1:" is not
    # the header of "... wrote on PA-12:".
    return re.compile(rf"\A[ \t]*(?P<line>{pattern})[ \t]*(?:\r?\n|\Z)(?:[ \t]*\r?\n)?")


def strip_header(body: str, template: str, key: str, dialect: Markup) -> str:
    """``body`` without the header :func:`header` put on it (unchanged when it has none)."""
    pattern = header_pattern(template, key, dialect)
    found = pattern.match(body) if pattern is not None else None
    return body[found.end() :] if found is not None else body


def header_of(body: str, template: str, key: str, dialect: Markup) -> str | None:
    """The header line ``body`` starts with (as written, its author's name kept), or None."""
    pattern = header_pattern(template, key, dialect)
    found = pattern.match(body) if pattern is not None else None
    return found.group("line") if found is not None else None
