"""People in the routes: the partner's users found here, and who wrote a synced comment.

The rules are ``domain/people.py``'s; this module gives them the route's tracker to look
users up in, its user mappings and its markup, and is what the incoming route calls
where it writes users and comments, and the outgoing route where it sends comments:

- :func:`resolve_users` writes the assignee and reporter as the users found here, or the
  sync user (with a note in the message's state);
- :func:`posting` and :func:`posted` write a partner's comment in its author's name where
  the tracker can, else with a header naming the author;
- :func:`edited_body` keeps that header on an edit from the partner;
- :func:`strip_headers` takes it off a comment that goes back to the partner;
- :func:`mentions` says whom a mention in the partner's text names here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from issuesync.domain import people
from issuesync.domain.markup import Markup
from issuesync.domain.message import CommentChange, Message
from issuesync.domain.replica import FieldValue, HubComment, UserRef
from issuesync.engine.pipeline.route import Route

USER_FIELDS = ("assignee", "reporter")


def markup_of(route: Route) -> Markup:
    """The markup the route's tracker writes comments in: its connector's setting, else
    its tracker's (a Redmine set to CommonMark gets Markdown's bold)."""
    return route.markup


def find_partner_user(route: Route, ref: UserRef) -> people.Found | None:
    """The user here who is the partner's ``ref``: by user mapping, e-mail, or (on the same
    tracker) login name; None when nobody is."""
    return people.find_partner_user(
        ref,
        route.people,
        route.find_user,
        same_directory=route.connector.same_tracker_as_partner,
    )


def sync_user(route: Route) -> UserRef | None:
    """The user the connector's tracker acts as, as it knows them."""
    name = route.sync_user or route.connector.user
    return route.find_user(UserRef(username=name)) if name else None


def resolve_users(route: Route, values: dict[str, FieldValue], notes: list[str]) -> None:
    """The assignee and reporter as the users found here; one nobody is becomes the sync user."""
    for name in USER_FIELDS:
        value = values.get(name)
        if not isinstance(value, dict):
            continue
        ref = UserRef(email=value.get("email"), username=value.get("username"))
        found = find_partner_user(route, ref)
        user = found.user if found is not None else sync_user(route)
        if found is None:
            notes.append(f"{name}: {ref.label} is unknown here; set to the sync user")
        values[name] = user.canonical() if user is not None else None


# -- comments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Posting:
    """A partner's comment as it is written here: the body, and the author to name.

    ``header`` is the line that says who wrote it: already on ``body`` when ``author`` is
    None, put on by :func:`posted` when the tracker wrote it as the sync user after all.
    """

    body: str
    author: UserRef | None
    header: str


def posting(route: Route, partner_key: str, change: CommentChange) -> Posting:
    """How to write the partner's new comment: in its author's name where the tracker can
    and the author is found here, else as the sync user under a header naming them."""
    configuration = route.connector.configuration
    line = people.header(configuration.comment_header, change.author, partner_key, markup_of(route))
    if not configuration.comment_header:
        line = ""
    body = change.body or ""
    author = None
    if change.author is not None and route.tracker.capabilities.comment_author:
        found = find_partner_user(route, change.author)
        author = found.user if found is not None else None
    if author is None:
        return Posting(people.with_header(body, line), None, line)
    return Posting(body, author, line)


def posted(route: Route, key: str, wanted: Posting, comment: HubComment) -> HubComment:
    """The comment as it stays: one the tracker wrote as the sync user although asked to name
    its author (the built-in tracker does, when the sync user may not act for others) gets
    its header after all. Run again after a crash, it finds the header on and does nothing."""
    if wanted.author is None or not wanted.header or _same_user(comment.author, wanted.author):
        return comment
    if comment.body.startswith(wanted.header):  # put on by a run that crashed before its commit
        return comment
    body = people.with_header(comment.body, wanted.header)
    return route.tracker.edit_comment(key, comment.id, body)


def _same_user(written: UserRef | None, wanted: UserRef) -> bool:
    if written is None:
        return False
    for a, b in ((written.key, wanted.key), (written.username, wanted.username)):
        if a and b:
            return a.casefold() == b.casefold()
    return bool(written.email and wanted.email and written.email.lower() == wanted.email.lower())


def edited_body(
    route: Route,
    partner_key: str,
    change: CommentChange,
    comments: Sequence[HubComment],
    comment_id: str,
) -> str:
    """The body of a partner's edit of comment ``comment_id``, under the header the comment
    has here (if it has one: one written in its author's name has none)."""
    body = change.body or ""
    current = next((c.body for c in comments if c.id == comment_id), "")
    template = route.connector.configuration.comment_header
    line = people.header_of(current, template, partner_key, markup_of(route))
    return people.with_header(body, line) if line else body


def strip_headers(route: Route, partner_key: str | None, comments: list[CommentChange]) -> None:
    """Take the header off the comments sent back to the partner's issue ``partner_key``:
    their bodies are the partner's own text again, and an edit here never grows a prefix
    there. Nothing to take off before the issue has a twin."""
    if partner_key is None:
        return
    template = route.connector.configuration.comment_header
    dialect = markup_of(route)
    for change in comments:
        if change.body:
            change.body = people.strip_header(change.body, template, partner_key, dialect)


# -- mentions ----------------------------------------------------------------------------


def mentions(route: Route, message: Message | None = None) -> Callable[[str], str | None]:
    """Whom a mention in the partner's text names here (a login), None for plain text.

    The markup conversion asks it for every ``[~name]`` and ``@name``. Given the
    ``message`` the text comes in, the users it names (comment authors, assignee,
    reporter) lend their e-mail addresses; without one (a resolver for the route's
    every message), mappings and, on one tracker, login names say it.
    """
    return people.mention_resolver(
        route.people,
        route.find_user,
        known=list(_named_users(message)) if message is not None else [],
        same_directory=route.connector.same_tracker_as_partner,
    )


def _named_users(message: Message) -> Iterator[UserRef]:
    for change in message.comments:
        if change.author is not None:
            yield change.author
    for name in USER_FIELDS:
        value = message.changes.get(name)
        if isinstance(value, dict):
            yield UserRef(email=value.get("email"), username=value.get("username"))
