"""Fidelity and cost of converting rich text between markup dialects, per dialect pair.

For each sample of tests/fixtures/markup/ and each ordered pair of dialects A→B, a
sample written in A is converted to B and back to A, and counted as

- exact: A→B→A has the canonical form of the original (issuesync.markup.canonical);
- readable: not exact, but every word of the original is still in B's text and in
  the round trip's (a panel became a quote, a colour was dropped);
- lossy: some word is gone;

and "as meant" counts the samples whose B text says what the hand-written B form
says (canonical forms equal). Jira Cloud's ADF is measured on the samples' Jira
texts, wiki markup → ADF → wiki markup (``trackers/jira/adf.py``), with the same
three counts. The cost is the mean time of one conversion (one
comment). Two converters are measured: pandoc (through pypandoc-binary, with
issuesync's rules: the one issuesync uses) and jira2markdown + mistletoe (Jira ↔
Markdown) with python-textile + markdownify (Textile → Markdown), which has no
writer for Textile ("n/a"). Both are judged by the same canonical form (pandoc's).

    .venv/bin/python bench/markup.py [--only pandoc|alternative] [--samples N]

The alternative's packages are not issuesync's dependencies; install them to
measure it: ``.venv/bin/pip install jira2markdown mistletoe textile markdownify``.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from issuesync.markup import Markup, canonical, convert, pandoc_version

CORPUS = Path(__file__).parent.parent / "tests" / "fixtures" / "markup"
DIALECTS = [Markup.JIRA, Markup.GFM, Markup.TEXTILE, Markup.COMMONMARK]
WORD = re.compile(r"[A-Za-z0-9]+")
Converter = Callable[[str, Markup, Markup], str]


def words(text: str, dialect: Markup) -> set[str]:
    """The words a reader sees in ``text`` (from its canonical tree, not its markup), lower
    case: a rule may write a title ("Info") for a macro ("{info}").
    """
    tree = json.loads(canonical(text, dialect))
    found: set[str] = set()

    def visit(value: object) -> None:
        if isinstance(value, dict):
            if value.get("t") in {"Text", "Code", "CodeBlock"}:
                content = value["c"]
                found.update(
                    w.lower()
                    for w in WORD.findall(content if isinstance(content, str) else content[-1])
                )
            else:
                visit(value.get("c"))
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(tree)
    return found


def alternative() -> Converter | None:
    """jira2markdown + mistletoe + textile + markdownify, or None when not installed."""
    try:
        import markdownify  # noqa: PLC0415 - optional: only to compare
        import mistletoe  # noqa: PLC0415
        import textile  # noqa: PLC0415
        from jira2markdown import convert as jira_to_markdown  # noqa: PLC0415
        from mistletoe.contrib.jira_renderer import JiraRenderer  # noqa: PLC0415
    except ImportError:
        return None

    def to_markdown(text: str, source: Markup) -> str:
        if source is Markup.JIRA:
            return str(jira_to_markdown(text))
        if source is Markup.TEXTILE:
            return str(markdownify.markdownify(textile.textile(text), heading_style="ATX"))
        return text

    def run(text: str, source: Markup, target: Markup) -> str:
        if target is Markup.TEXTILE and source is not Markup.TEXTILE:
            raise NotImplementedError
        markdown = to_markdown(text, source)
        if target is Markup.JIRA:
            return str(mistletoe.markdown(markdown, JiraRenderer))
        return markdown

    return run


def classify(sample: dict[str, Any], source: Markup, back: str) -> str:
    """exact, readable or lossy: how a sample came back from a round trip."""
    original = sample[source.value]
    # A Jira panel or colour is read by a rule (a quote with its title, the text
    # alone): such a sample is at best readable, however it compares.
    by_rule = source is Markup.JIRA and bool(sample["lossy"])
    if not by_rule and canonical(back, source) == canonical(original, source):
        return "exact"
    return "readable" if words(original, source) <= words(back, source) else "lossy"


def measure(name: str, run: Converter, samples: list[dict[str, Any]]) -> None:
    """Prints one converter's table ("-": no writer for the way back, "n/a": none there)."""
    print(f"\n{name}")
    print(f"{'pair':<24}{'exact':>7}{'readable':>10}{'lossy':>7}{'as meant':>10}{'ms/comment':>12}")
    for source in DIALECTS:
        for target in DIALECTS:
            if source is target:
                continue
            counts = {"exact": 0, "readable": 0, "lossy": 0, "meant": 0}
            times: list[float] = []
            round_trips = True
            try:
                for sample in samples:
                    started = time.perf_counter()
                    there = run(sample[source.value], source, target)
                    times.append(time.perf_counter() - started)
                    expected = canonical(sample[target.value], target)
                    counts["meant"] += canonical(there, target) == expected
                    try:
                        back = run(there, target, source)
                    except NotImplementedError:
                        round_trips = False
                        continue
                    if not words(sample[source.value], source) <= words(there, target):
                        counts["lossy"] += 1
                    else:
                        counts[classify(sample, source, back)] += 1
            except NotImplementedError:
                print(f"{source.value + ' -> ' + target.value:<24}{'n/a':>7}")
                continue
            cost = statistics.mean(times) * 1000
            trips = [
                str(counts[key]) if round_trips else "-" for key in ("exact", "readable", "lossy")
            ]
            print(
                f"{source.value + ' -> ' + target.value:<24}{trips[0]:>7}{trips[1]:>10}"
                f"{trips[2]:>7}{counts['meant']:>10}{cost:>12.1f}"
            )


def measure_adf(samples: list[dict[str, Any]]) -> None:
    """Prints the ADF round trip of each sample's Jira text, and its cost each way."""
    from issuesync.trackers.jira.adf import adf_to_text, text_to_adf  # noqa: PLC0415

    counts = {"exact": 0, "readable": 0, "lossy": 0}
    to_adf: list[float] = []
    from_adf: list[float] = []
    for sample in samples:
        started = time.perf_counter()
        document = text_to_adf(sample[Markup.JIRA.value])
        to_adf.append(time.perf_counter() - started)
        started = time.perf_counter()
        back = adf_to_text(document) or ""
        from_adf.append(time.perf_counter() - started)
        counts[classify(sample, Markup.JIRA, back)] += 1
    print("\nJira Cloud's ADF (trackers/jira/adf.py: pandoc's tree <-> ADF)")
    print(f"{'pair':<24}{'exact':>7}{'readable':>10}{'lossy':>7}{'ms to':>8}{'ms from':>9}")
    print(
        f"{'jira -> adf -> jira':<24}{counts['exact']:>7}{counts['readable']:>10}"
        f"{counts['lossy']:>7}{statistics.mean(to_adf) * 1000:>8.1f}"
        f"{statistics.mean(from_adf) * 1000:>9.1f}"
    )


def main() -> None:
    """Measures both converters over the corpus."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["pandoc", "alternative"])
    parser.add_argument("--samples", type=int, default=0, help="the first N samples (0: all)")
    arguments = parser.parse_args()
    paths = sorted(CORPUS.glob("sample-*.json"))
    if arguments.samples:
        paths = paths[: arguments.samples]
    samples = [json.loads(path.read_text()) for path in paths]
    print(f"{len(samples)} samples from {CORPUS}")
    if arguments.only in {None, "pandoc"}:
        measure(f"pandoc {pandoc_version()} + issuesync's rules", convert, samples)
        measure_adf(samples)
    if arguments.only in {None, "alternative"}:
        other = alternative()
        if other is None:
            print("\njira2markdown + mistletoe: not installed (see the docstring)")
        else:
            measure("jira2markdown 0.5 + mistletoe 1.6 (+ textile + markdownify)", other, samples)


if __name__ == "__main__":
    main()
