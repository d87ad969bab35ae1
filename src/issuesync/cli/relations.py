"""``issuesync relation …``: pair this node with another issuesync node over the node API,
watch the relation, end it (``docs/issuehub.md``)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from issuesync.application import relations
from issuesync.cli.home import open_readonly, open_services, out, when

relation_app = typer.Typer(
    help="Relations: integrations with another issuesync node (Exalate's node API).",
    no_args_is_help=True,
)

NodeUrl = Annotated[
    str | None,
    typer.Option(help="Where the partner reaches this node (default: ISSUESYNC_BASE_URL)."),
]
Hours = Annotated[int, typer.Option(min=1, max=720, help="How long the code is good.")]

_AS = "admin"  # what the CLI acts as: whoever runs it on the node's home is its operator


@relation_app.command("invite")
def relation_invite(
    name: Annotated[str, typer.Argument(help="The relation's name (its relationKey).")],
    project: Annotated[str, typer.Option("--project", help="This node's project key.")],
    url: NodeUrl = None,
    interval: Annotated[
        str, typer.Option(help="How often each side pulls and polls (e.g. 1s, 5s, 1m).")
    ] = "5s",
    hours: Hours = 24,
) -> None:
    """Create a relation and print the invitation code for the partner node's admin."""
    with open_services() as services:
        invited = relations.invite(
            services,
            name=name,
            project_key=project,
            actor=_AS,
            url=url,
            interval=interval,
            hours=hours,
        )
    out.print(f"Created relation '{name}' for project {project}; it waits for the partner.")
    out.print("Give this invitation code to the partner node's administrator (shown once):")
    out.print(invited.code, highlight=False)
    out.print("They run: issuesync relation accept CODE --project THEIR_PROJECT")


@relation_app.command("reinvite")
def relation_reinvite(
    name: Annotated[str, typer.Argument(help="The relation's name.")],
    hours: Hours = 24,
) -> None:
    """A new invitation code for a relation not yet paired (the old code stops working)."""
    with open_services() as services:
        code = relations.reinvite(services, name, hours=hours)
    out.print(code, highlight=False)


@relation_app.command("accept")
def relation_accept(
    code: Annotated[str, typer.Argument(help="The invitation code from the other node.")],
    project: Annotated[str, typer.Option("--project", help="This node's project key.")],
    url: NodeUrl = None,
    ca_bundle: Annotated[
        str | None,
        typer.Option(help="CA certificates (PEM) to trust for the partner's https URL."),
    ] = None,
) -> None:
    """Pair with the node that invited this one; the integration starts at once."""
    with open_services() as services:
        view = relations.accept(
            services, code=code, project_key=project, actor=_AS, url=url, ca_bundle=ca_bundle
        )
    out.print(
        f"Paired relation '{view.name}': {view.project_key} here <> "
        f"{view.partner_project_key} at {view.partner_url} ({view.integration_key}, running)."
    )


@relation_app.command("trust")
def relation_trust(
    name: Annotated[str, typer.Argument(help="The relation's name.")],
    ca_bundle: Annotated[
        str | None,
        typer.Option(help="CA certificates (PEM) for the partner's https URL; none: the system's."),
    ] = None,
) -> None:
    """Set the CA certificates this node trusts for the partner's https URL."""
    with open_services() as services:
        relations.set_ca_bundle(services, name, ca_bundle)
    out.print(f"Relation '{name}' trusts {ca_bundle or 'the system CA certificates'}.")


@relation_app.command("list")
def relation_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every relation, its state, its partner and its sync queue."""
    with open_readonly() as services:
        views = relations.list_relations(services)
    if as_json:
        out.print_json(json.dumps([v.to_json() for v in views]))
        return
    table = Table("name", "state", "project", "partner", "online", "out", "in", "errors")
    for view in views:
        counts = view.counts
        table.add_row(
            view.name,
            view.state + (f" ({view.reason})" if view.reason else ""),
            view.project_key,
            f"{view.partner_project_key or '-'} at {view.partner_url or '-'}",
            "yes" if view.online else "no",
            str(counts.pending_out),
            str(counts.pending_in),
            str(counts.in_error),
        )
    out.print(table)


@relation_app.command("show")
def relation_show(name: Annotated[str, typer.Argument(help="The relation's name.")]) -> None:
    """One relation as JSON (never its secret)."""
    with open_readonly() as services:
        view = relations.get_relation(services, name)
    out.print_json(json.dumps(view.to_json()))


@relation_app.command("revoke")
def relation_revoke(name: Annotated[str, typer.Argument(help="The relation's name.")]) -> None:
    """End the relation; the partner node is told and shows it broken."""
    with open_services() as services:
        view = relations.revoke(services, name, actor=_AS)
    out.print(f"Relation '{name}' is {view.state}; its integration is stopped.")


@relation_app.command("delete")
def relation_delete(name: Annotated[str, typer.Argument(help="The relation's name.")]) -> None:
    """Forget a revoked or broken relation, with its integration and messages."""
    with open_services() as services:
        relations.delete(services, name, actor=_AS)
    out.print(f"Relation '{name}' is deleted.")


@relation_app.command("errors")
def relation_errors(
    relation: Annotated[str | None, typer.Option(help="Only this relation's.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The sync errors: messages in error each way, blobs that did not arrive intact."""
    with open_readonly() as services:
        found = relations.sync_errors(services, relation)
    if as_json:
        out.print_json(json.dumps(found))
        return
    table = Table("id", "relation", "issue", "direction", "state", "when", "reason")
    for error in found:
        table.add_row(
            str(error["id"]),
            error["relation"],
            error["issueKey"],
            error["direction"],
            error["state"],
            when(error["time"]),
            error["reason"],
        )
    out.print(table)
    if found:
        out.print("Retry or discard one: issuesync relation retry ID / relation discard ID")


@relation_app.command("retry")
def relation_retry(error_id: Annotated[str, typer.Argument(help="The error's id.")]) -> None:
    """Apply (or fetch) a sync error's message again."""
    _settle(error_id, retry=True)


@relation_app.command("discard")
def relation_discard(error_id: Annotated[str, typer.Argument(help="The error's id.")]) -> None:
    """Give a sync error's message up."""
    _settle(error_id, retry=False)


def _settle(error_id: str, *, retry: bool) -> None:
    with open_services() as services:
        done: dict[str, Any] = relations.settle_error(services, error_id, retry=retry)
    out.print(f"Sync error {error_id}: {done['done']}.")
