"""``issuesync demo``: two projects with realistic issues, so a newcomer has something to sync."""

from __future__ import annotations

import io
from dataclasses import dataclass

from sqlalchemy import select

from issuesync.accounts import NewUser, create_user
from issuesync.errors import ConfigurationError
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.store.users import User
from issuesync.trackers.local import catalog, issues, subresources
from issuesync.trackers.local.models import Project

DEMO_USERS = (
    NewUser(name="alice", display_name="Alice Moreau", email="alice@customer.example"),
    NewUser(name="bob", display_name="Bob Okafor", email="bob@vendor.example"),
    NewUser(name="carol", display_name="Carol Lindqvist", email="carol@vendor.example"),
)


@dataclass(frozen=True)
class DemoIssue:
    """One issue of the demo data."""

    summary: str
    issue_type: str
    priority: str
    description: str
    labels: tuple[str, ...] = ()
    assignee: str | None = None
    status: str | None = None
    comments: tuple[tuple[str, str], ...] = ()
    attachment: tuple[str, str] | None = None
    subtasks: tuple[str, ...] = ()


CUSTOMER_ISSUES = (
    DemoIssue(
        "Checkout fails with HTTP 502 for carts over 50 items",
        "Bug",
        "Highest",
        "Steps to reproduce:\n1. Add 51 items to the cart\n2. Press *Checkout*\n\n"
        "Expected: the payment page. Actual: a 502 from the gateway after 30 s.",
        labels=("checkout", "production"),
        assignee="alice",
        status="In Progress",
        comments=(
            ("alice", "Happens on every browser; the gateway log shows an upstream timeout."),
            ("admin", "Escalated to the vendor; linked in their tracker once synced."),
        ),
        attachment=(
            "gateway-502.log",
            "2026-11-20T09:14:03Z upstream timed out (110) while reading\n",
        ),
        subtasks=(
            "Capture a HAR file of the failing checkout",
            "Check the gateway timeout setting",
        ),
    ),
    DemoIssue(
        "Invoice PDF shows the wrong VAT rate for Austria",
        "Bug",
        "High",
        "Invoices for AT customers show 19% VAT; it must be 20%.",
        labels=("billing",),
        comments=(("alice", "Affects every invoice since the 1 November release."),),
        attachment=(
            "invoice-AT-1042.txt",
            "Net 100.00 EUR\nVAT 19%: 19.00 EUR\nTotal 119.00 EUR\n",
        ),
    ),
    DemoIssue(
        "Export order history as CSV",
        "Story",
        "Medium",
        "As a shop manager I want to export the order history as CSV so that I can reconcile it.",
        labels=("reporting",),
        subtasks=("Agree on the CSV columns",),
    ),
    DemoIssue(
        "Renew the TLS certificate of the staging shop",
        "Task",
        "Low",
        "The staging certificate expires on 15 December.",
        status="Done",
        comments=(("admin", "Renewed for another year."),),
    ),
    DemoIssue(
        "Q1 catalogue relaunch",
        "Epic",
        "Medium",
        "New product pages, faster search and the spring catalogue.",
        labels=("roadmap",),
    ),
)

VENDOR_ISSUES = (
    DemoIssue(
        "Gateway: raise the upstream read timeout to 60 s",
        "Task",
        "High",
        "Large carts need more than 30 s to be priced by the ERP.",
        assignee="bob",
        comments=(("bob", "Config change prepared; needs a maintenance window."),),
    ),
    DemoIssue(
        "Search index rebuild takes over two hours",
        "Bug",
        "Medium",
        "The nightly rebuild must finish before 05:00.",
        labels=("search", "performance"),
        assignee="carol",
        status="In Progress",
        attachment=("rebuild-timings.csv", "run,minutes\n2026-11-18,131\n2026-11-19,127\n"),
        subtasks=("Profile the indexer", "Batch the database reads"),
    ),
    DemoIssue(
        "Document the order export API",
        "Story",
        "Low",
        "Describe the endpoints, the paging and the rate limits.",
        labels=("docs",),
    ),
)

DEMO_PROJECTS = (
    ("SHOP", "Customer Web Shop", "The customer's tracker for the web shop.", CUSTOMER_ISSUES),
    ("VEND", "Vendor Engineering", "The vendor's engineering backlog.", VENDOR_ISSUES),
)


def create_demo(services: Services) -> list[str]:
    """Create the demo users and projects; returns the project keys made (none if they exist)."""
    tracker = services.tracker
    with services.uow_factory(readonly=True) as uow:
        existing = set(uow.session.scalars(select(Project.key)))
        users = set(uow.session.scalars(select(User.name)))
        admin = uow.session.scalar(select(User).where(User.is_admin).order_by(User.id))
        if admin is None:
            raise ConfigurationError(
                "there is no administrator yet: run `issuesync db upgrade` first"
            )
        actor = Principal.of(admin)
    for user in DEMO_USERS:
        if user.name not in users:
            create_user(services.uow_factory, user)
    principals = _principals(services)
    principals["admin"] = actor
    made = []
    for key, name, description, demo_issues in DEMO_PROJECTS:
        if key in existing:
            continue
        with tracker.write(actor) as op:
            catalog.create_project(op, {"key": key, "name": name, "description": description})
        for demo in demo_issues:
            _create_issue(services, principals, actor, key, demo)
        made.append(key)
    return made


def _principals(services: Services) -> dict[str, Principal]:
    with services.uow_factory(readonly=True) as uow:
        names = [u.name for u in DEMO_USERS]
        return {
            u.name: Principal.of(u)
            for u in uow.session.scalars(select(User).where(User.name.in_(names)))
        }


def _create_issue(
    services: Services,
    principals: dict[str, Principal],
    actor: Principal,
    project: str,
    demo: DemoIssue,
) -> None:
    tracker = services.tracker
    fields: dict[str, object] = {
        "project": {"key": project},
        "summary": demo.summary,
        "issuetype": {"name": demo.issue_type},
        "priority": {"name": demo.priority},
        "description": demo.description,
        "labels": list(demo.labels),
    }
    if demo.assignee:
        fields["assignee"] = {"name": demo.assignee}
    with tracker.write(actor) as op:
        key = str(issues.create_issue(op, fields, {})["key"])
    for summary in demo.subtasks:
        with tracker.write(actor) as op:
            issues.create_issue(
                op,
                {
                    "project": {"key": project},
                    "summary": summary,
                    "issuetype": {"name": "Sub-task"},
                    "parent": {"key": key},
                },
                {},
            )
    for author, body in demo.comments:
        with tracker.write(principals.get(author, actor)) as op:
            subresources.add_comment(op, key, {"body": body})
    if demo.attachment:
        filename, content = demo.attachment
        tracker.attach(actor, key, [(filename, "text/plain", io.BytesIO(content.encode()))])
    if demo.status:
        _move_to(services, actor, key, demo.status)


def _move_to(services: Services, actor: Principal, key: str, status: str) -> None:
    """Walk the workflow to ``status`` by the first path the transitions offer."""
    for _ in range(5):
        with services.tracker.read(actor) as op:
            issue = op.issue(key)
            if op.ref.statuses.get(issue.status_id).name == status:
                return
            options = issues.available_transitions(op, issue)
            chosen = next((t for t in options if t.to_status.name == status), None) or options[0]
            transition_id = chosen.number
        with services.tracker.write(actor) as op:
            issues.do_transition(op, key, {"id": str(transition_id)}, {}, {})
