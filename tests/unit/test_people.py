"""People across trackers (``domain/people.py``): who a partner's user is here, the comment
header and its stripping, and whom a mention names. Pure: the tracker's users are a dict."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from issuesync.domain.configuration import (
    DEFAULT_COMMENT_HEADER,
    MAX_USER_MAPPINGS,
    Configuration,
    UserMapping,
    complete_configurations,
)
from issuesync.domain.markup import Markup
from issuesync.domain.people import (
    Match,
    PeopleMap,
    find_partner_user,
    header,
    header_of,
    mention_resolver,
    strip_header,
    with_header,
)
from issuesync.domain.ranges import STORED
from issuesync.domain.replica import UserRef

# This tracker's users: login name -> e-mail (None: the API shows none).
HERE = {
    "asmith": "alice@example.test",
    "bob": None,
    "carol": "carol@example.test",
    "sync-bot": "bot@example.test",
}
ALICE = UserRef(username="alice", email="Alice@Example.test", displayName="Alice Smith")
TEMPLATE = DEFAULT_COMMENT_HEADER


class Directory:
    """The tracker's look-up, as the adapters do it: e-mail first, then login name."""

    def __init__(self) -> None:
        self.asked: list[UserRef] = []

    def __call__(self, ref: UserRef) -> UserRef | None:
        self.asked.append(ref)
        for login, email in HERE.items():
            if ref.email and email and ref.email.lower() == email:
                return UserRef(username=login, email=email)
        for login, email in HERE.items():
            if ref.username and ref.username.lower() == login:
                return UserRef(username=login, email=email)
        return None


def people(*pairs: tuple[str, str]) -> PeopleMap:
    return PeopleMap.of(UserMapping(local=local, remote=remote) for local, remote in pairs)


def test_a_partner_user_is_found_by_e_mail_whatever_the_login() -> None:
    found = find_partner_user(ALICE, people(), Directory(), same_directory=False)
    assert found is not None
    assert (found.user.username, found.match) == ("asmith", Match.EMAIL)


def test_a_user_mapping_wins_over_the_e_mail() -> None:
    found = find_partner_user(ALICE, people(("carol", "alice")), Directory(), same_directory=False)
    assert found is not None
    assert (found.user.username, found.match) == ("carol", Match.MAPPING)


def test_a_mapping_names_either_side_by_login_or_e_mail_without_case() -> None:
    octo = UserRef(username="Octo-Cat")
    found = find_partner_user(
        octo, people(("CAROL@example.test", "octo-cat")), Directory(), same_directory=False
    )
    assert found is not None
    assert found.user.username == "carol"
    by_mail = UserRef(username="x", email="octo@github.test")
    found = find_partner_user(
        by_mail, people(("bob", "OCTO@github.test")), Directory(), same_directory=False
    )
    assert found is not None
    assert found.user.username == "bob"


def test_a_mapping_to_nobody_here_finds_nobody() -> None:
    found = find_partner_user(ALICE, people(("nobody", "alice")), Directory(), same_directory=False)
    assert found is None  # not Alice by e-mail: the mapping said otherwise


def test_a_login_name_alone_is_nobody_across_trackers() -> None:
    """GitHub's "bob" is not the built-in tracker's "bob" because they share a name."""
    directory = Directory()
    stranger = UserRef(username="bob")
    assert find_partner_user(stranger, people(), directory, same_directory=False) is None
    assert directory.asked == []  # not even asked
    found = find_partner_user(stranger, people(), directory, same_directory=True)
    assert found is not None
    assert (found.user.username, found.match) == ("bob", Match.LOGIN)


def test_an_e_mail_the_tracker_matches_loosely_is_not_taken() -> None:
    """A tracker whose search returns someone else for an e-mail: the address must match."""

    def loose(ref: UserRef) -> UserRef | None:
        del ref
        return UserRef(username="carol", email="carol@example.test")

    assert find_partner_user(ALICE, people(), loose, same_directory=False) is None


def test_mentions_resolve_through_mappings_and_e_mails_and_never_by_name_alone() -> None:
    resolve = mention_resolver(
        people(("bob", "octo")),
        Directory(),
        known=[ALICE, UserRef(username="carol")],  # the message names them
        same_directory=False,
    )
    assert resolve("octo") == "bob"  # mapped
    assert resolve("ALICE") == "asmith"  # her e-mail, from the message
    assert resolve("carol") is None  # a "carol" here shares the name, nothing more
    assert resolve("mallory") is None
    same = mention_resolver(people(), Directory(), same_directory=True)
    assert same("carol") == "carol"  # one tracker: one carol


@pytest.mark.parametrize(
    ("dialect", "line"),
    [
        (Markup.JIRA, "*Alice Smith* wrote on PA-12:"),
        (Markup.GFM, "**Alice Smith** wrote on PA-12:"),
        (Markup.GITLAB, "**Alice Smith** wrote on PA-12:"),
        (Markup.TEXTILE, "*Alice Smith* wrote on PA-12:"),
        (Markup.COMMONMARK, "**Alice Smith** wrote on PA-12:"),
    ],
)
def test_the_header_is_bold_in_each_dialect_and_comes_off_again(dialect: Markup, line: str) -> None:
    made = header(TEMPLATE, ALICE, "PA-12", dialect)
    assert made == line
    body = with_header("First line.\n\nSecond *paragraph*.", made)
    assert body == f"{line}\n\nFirst line.\n\nSecond *paragraph*."
    assert strip_header(body, TEMPLATE, "PA-12", dialect) == "First line.\n\nSecond *paragraph*."
    assert header_of(body, TEMPLATE, "PA-12", dialect) == line
    # Stripped twice, or stripped from a text without one: nothing more comes off.
    plain = strip_header(body, TEMPLATE, "PA-12", dialect)
    assert strip_header(plain, TEMPLATE, "PA-12", dialect) == plain


def test_only_the_header_of_this_issue_comes_off() -> None:
    body = with_header("text", header(TEMPLATE, ALICE, "PA-12", Markup.GFM))
    assert strip_header(body, TEMPLATE, "PA-1", Markup.GFM) == body
    assert strip_header(body, TEMPLATE, "PA-123", Markup.GFM) == body
    quoted = "Someone said: **Bob** wrote on PA-12:\n\nhi"
    assert strip_header(quoted, TEMPLATE, "PA-12", Markup.GFM) == quoted


def test_names_and_numbers_read_in_the_header() -> None:
    sly = UserRef(displayName="*Eve* [~admin] {color} @root", username="eve")
    line = header(TEMPLATE, sly, "12", Markup.JIRA)
    assert line == "*Eve admin color root* wrote on #12:"
    mail = header(TEMPLATE, UserRef(email="e@x.test"), "PA-1", Markup.GFM)
    assert mail == "**e@x.test** wrote on PA-1:"
    assert strip_header(with_header("x", line), TEMPLATE, "12", Markup.JIRA) == "x"
    assert header(TEMPLATE, None, "PA-1", Markup.GFM) == "**Someone** wrote on PA-1:"
    assert with_header("", "**Bob** wrote on PA-1:") == "**Bob** wrote on PA-1:"
    assert strip_header("**Bob** wrote on PA-1:", TEMPLATE, "PA-1", Markup.GFM) == ""


def test_a_custom_header_and_none() -> None:
    template = "[{key}] from {author}"
    line = header(template, ALICE, "PA-3", Markup.GFM)
    assert line == "[PA-3] from **Alice Smith**"
    assert strip_header(with_header("hi", line), template, "PA-3", Markup.GFM) == "hi"
    assert with_header("hi", "") == "hi"
    assert strip_header("**A** wrote on PA-3:\n\nhi", "", "PA-3", Markup.GFM).startswith("**A**")


def test_the_configuration_takes_user_mappings_and_a_header_within_limits() -> None:
    config = Configuration.model_validate(
        {"user_mappings": [{"local": "bob", "remote": "octo"}], "comment_header": "{author}:"}
    )
    assert config.user_mappings == [UserMapping(local="bob", remote="octo")]
    assert Configuration().comment_header == DEFAULT_COMMENT_HEADER
    many = [{"local": "a", "remote": f"u{n}"} for n in range(MAX_USER_MAPPINGS + 1)]
    refused = {
        "twice": {"user_mappings": [{"local": "a", "remote": "x"}, {"local": "b", "remote": "X"}]},
        "too many": {"user_mappings": many},
        "too long": {"user_mappings": [{"local": "a" * 255, "remote": "x"}]},
        "empty": {"user_mappings": [{"local": "", "remote": "x"}]},
        "no author": {"comment_header": "From {key}:"},
        "unknown": {"comment_header": "{author} {password}"},
        "two lines": {"comment_header": "{author}\nwrote"},
        "header too long": {"comment_header": "{author}" + "x" * 200},
    }
    for what, body in refused.items():
        with pytest.raises(ValidationError):
            Configuration.model_validate(body)
        assert what
    assert Configuration.model_validate({"comment_header": ""}).comment_header == ""
    stored = Configuration.model_validate({"comment_header": "{nope}"}, context=STORED)
    assert stored.comment_header == DEFAULT_COMMENT_HEADER


def test_one_sides_user_mappings_are_the_others_mirrored() -> None:
    first = Configuration.model_validate(
        {"user_mappings": [{"local": "bob", "remote": "octo"}, {"local": "bob", "remote": "b2"}]}
    )
    one, two = complete_configurations(first, None)
    assert one.user_mappings == first.user_mappings
    assert two.user_mappings == [UserMapping(local="octo", remote="bob")]  # the first for bob
    mine = Configuration.model_validate({"user_mappings": [{"local": "z", "remote": "y"}]})
    _, kept = complete_configurations(first, mine)
    assert kept.user_mappings == mine.user_mappings  # a side that says its own keeps it
