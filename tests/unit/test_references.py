"""References to issues in text: found in each style, rewritten to twins, never in code."""

from __future__ import annotations

import pytest

from issuesync.domain.references import KEYS, NUMBERS, code_regions, references, rewrite

TWINS = {"PA-12": "7", "PA-3": "9", "12": "PB-5", "4": "PB-1"}


def to_numbers(text: str, *dialects: str) -> str:
    return rewrite(text, KEYS, NUMBERS, TWINS.get, *dialects)


def to_keys(text: str, *dialects: str) -> str:
    return rewrite(text, NUMBERS, KEYS, TWINS.get, *dialects)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("see PA-12", "see #7"),
        ("PA-12, PA-3 and PA-99.", "#7, #9 and PA-99."),  # PA-99 has no twin
        ("(PA-12)", "(#7)"),
        ("XPA-12 PA-123 PA-12a PA-12-b", "XPA-12 PA-123 PA-12a PA-12-b"),  # not references
        ("https://jira.example.com/browse/PA-12", "https://jira.example.com/browse/PA-12"),
        ("a file PA-12.txt", "a file PA-12.txt"),
        ("see {{PA-12}} and PA-12", "see {{PA-12}} and #7"),
        ("{code:java}\nrun(PA-12);\n{code}\nPA-3", "{code:java}\nrun(PA-12);\n{code}\n#9"),
        ("{noformat}PA-12{noformat} PA-12", "{noformat}PA-12{noformat} #7"),
    ],
)
def test_jira_keys_become_numbers_outside_code(text: str, expected: str) -> None:
    assert to_numbers(text, "local", "github") == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fixed in #12", "fixed in PB-5"),
        ("#12 #4 #5", "PB-5 PB-1 #5"),
        ("octo/repo#12 and &#12; and ##12", "octo/repo#12 and &#12; and ##12"),
        ("`#12` and #12", "`#12` and PB-5"),
        ("```\n#12\n```\n#4", "```\n#12\n```\nPB-1"),
        ("~~~python\nx = 1  #12\n~~~\n", "~~~python\nx = 1  #12\n~~~\n"),
        ("<pre>#12</pre> #12", "<pre>#12</pre> PB-5"),
    ],
)
def test_numbers_become_keys_outside_code(text: str, expected: str) -> None:
    assert to_keys(text, "github", "local") == expected


def test_textile_code_is_left_alone_only_in_textile() -> None:
    assert to_keys("@#12@ and #12", "redmine") == "@#12@ and PB-5"
    assert to_keys("bc. #12\n\n#12", "textile") == "bc. #12\n\nPB-5"
    assert to_keys("mail a@b.c about #12 to c@d", "github") == "mail a@b.c about PB-5 to c@d"


def test_the_keys_named_outside_code_are_found_for_one_lookup() -> None:
    assert references("PA-1 {{PA-2}} PA-3", KEYS, "jira") == {"PA-1", "PA-3"}
    assert references("#1 `#2` #3", NUMBERS, "gfm") == {"1", "3"}


def test_an_unclosed_code_block_runs_to_the_end() -> None:
    assert code_regions("a\n```\nPA-12", "gfm") == [(2, 11)]
    assert to_numbers("{code}\nPA-12", "jira") == "{code}\nPA-12"


def test_a_text_without_references_is_the_same_object() -> None:
    text = "nothing to see"
    assert rewrite(text, KEYS, NUMBERS, TWINS.get) is text
