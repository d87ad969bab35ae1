"""How many bytes one change of a large text stores as a message, printed per message.

Two built-in projects SRC and DST kept in step by the engine (in this process,
stepped until quiet), in a temporary home, set up as ``bench/sync.py`` sets them up.
In SRC: an issue is created with a description of --chars characters, its
description is then replaced by another one as long, and a comment as long is
added. For each change the message DST received is read back from the store and
its stored JSON body measured: a message that stores the large value once is about
--chars bytes (plus a few kilobytes of replica and bookkeeping); one that stores it
in the changed fields and again in the base64 replica is 2.4 times that. The
shadows (the last agreed state, one per linked issue and side) are printed too.

Usage: .venv/bin/python bench/message_size.py [--chars 32767]
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from issuesync.accounts import NewUser, create_user
from issuesync.app import bootstrap
from issuesync.engine.runtime.runner import SyncRunner
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.sync import MessageRow, SyncInfo
from issuesync.store.users import User
from issuesync.trackers.local import issues, subresources
from issuesync.trackers.local.context import Operation
from sync import (
    SOURCE,
    SYNC_PASSWORD,
    SYNC_USER,
    TARGET,
    make_project,
    open_services,
    start_integration,
)

WORDS = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "theta", "kappa", "sigma")


def text_of(chars: int, seed: int) -> str:
    """Words (not one repeated letter) of exactly ``chars`` characters."""
    rng = random.Random(seed)
    words: list[str] = []
    size = 0
    while size < chars:
        word = rng.choice(WORDS)
        words.append(word)
        size += len(word) + 1
    return " ".join(words)[:chars]


def received(services: Services, seen: set[int]) -> list[tuple[str, int]]:
    """Kind and stored body size of each message received since the last call."""
    with services.uow_factory(readonly=True) as uow:
        rows = uow.session.scalars(
            select(MessageRow)
            .where(MessageRow.queue == "receive", MessageRow.kind != "response")
            .options(selectinload(MessageRow.content))
            .order_by(MessageRow.id)
        )
        fresh = [(r.id, r.kind, len(r.body.encode())) for r in rows if r.id not in seen]
    seen.update(row_id for row_id, _, _ in fresh)
    return [(kind, size) for _, kind, size in fresh]


def shadows(services: Services) -> list[int]:
    """The stored size of each shadow."""
    with services.uow_factory(readonly=True) as uow:
        return [len((s or "").encode()) for s in uow.session.scalars(select(SyncInfo.shadow))]


def set_up(services: Services) -> Principal:
    """The sync user, SRC and DST, the started integration; returns the administrator."""
    bootstrap(services)
    create_user(
        services.uow_factory,
        NewUser(name=SYNC_USER, email="backbone@example.test", password=SYNC_PASSWORD),
    )
    with services.uow_factory() as uow:
        admin = uow.session.scalar(select(User).where(User.name == "admin"))
        assert admin is not None
        for key in (SOURCE, TARGET):
            make_project(uow.session, key, admin.id, 0)
        actor = Principal.of(admin)
        uow.commit()
    start_integration(services)
    return actor


def main() -> None:
    """Make the three changes and print what each message stored."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chars", type=int, default=32_767)
    chars = parser.parse_args().chars
    with tempfile.TemporaryDirectory() as home:
        services = open_services(home, None)
        try:
            actor = set_up(services)
            engine = SyncRunner(services, backoff_ms=0, deletion_check_ms=0)
            key = f"{SOURCE}-1"
            fields = {
                "project": {"key": SOURCE},
                "issuetype": {"name": "Task"},
                "summary": "A large description",
                "description": text_of(chars, 1),
            }
            edit = {"description": text_of(chars, 2)}
            comment = {"body": text_of(chars, 3)}
            changes: tuple[tuple[str, Callable[[Operation], object]], ...] = (
                ("create, description", lambda op: issues.create_issue(op, fields, {})),
                ("edit of the description", lambda op: issues.edit_issue(op, key, edit, {})),
                ("new comment", lambda op: subresources.add_comment(op, key, comment)),
            )
            seen: set[int] = set()
            print(f"a change of {chars:,} characters; bytes stored per message received:")
            for label, change in changes:
                with services.tracker.write(actor) as op:
                    change(op)
                engine.settle()
                for kind, size in received(services, seen):
                    print(f"  {label:<26} {kind:<7} {size:>9,} bytes  {size / chars:4.2f}x")
            engine.stop()
            sizes = ", ".join(f"{size:,}" for size in shadows(services))
            print(f"shadows (one per linked issue and side): {sizes} bytes")
        finally:
            services.close()


if __name__ == "__main__":
    main()
