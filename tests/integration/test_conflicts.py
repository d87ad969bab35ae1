"""An integration's conflicts: its configuration against both built-in projects, and the
fields both sides changed that wait for a person."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

import httpx
from integration_helpers import SEED_REQUEST, basic, create, local_body, make_projects
from sqlalchemy import select
from sync_helpers import integration_pair
from tracker_helpers import create_issue

from issuesync.accounts import NewUser, create_user
from issuesync.api.backbone.documents.conflicts import conflicts_json
from issuesync.application.conflicts import (
    CONCURRENT_CHANGE,
    CONNECTION_CHECK_FAILED,
    CONNECTION_FAILED,
    REQUIRED_FIELD_NOT_FILLED,
    UNKNOWN_FIELD,
    UNKNOWN_ISSUE_TYPE,
    UNKNOWN_STATUS,
    UNMAPPED_ISSUE_TYPE,
    UNMAPPED_STATUS,
    VALUE_NOT_ALLOWED,
    data_conflicts,
    validation_conflicts,
)
from issuesync.application.integrations import get_integration
from issuesync.domain.conflict import Conflict
from issuesync.domain.diff import Winner
from issuesync.engine.pipeline import incoming
from issuesync.services import Services
from issuesync.store.users import User
from issuesync.trackers.local import catalog
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.models import (
    Project,
    ProjectStatus,
    Status,
    StatusCategory,
    Transition,
)
from issuesync.trackers.local.refdata import bump_reference_revision


def checked(services: Services, key: str) -> list[Conflict]:
    with services.uow_factory(readonly=True) as uow:
        return validation_conflicts(uow.session, services, get_integration(uow.session, key))


def pending(services: Services, key: str) -> list[Conflict]:
    with services.uow_factory(readonly=True) as uow:
        return data_conflicts(uow.session, get_integration(uow.session, key))


def integrate(
    services: Services,
    projects: tuple[str, str],
    first: dict[str, Any] | None = None,
    second: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Two new built-in projects and an integration with these connectors' configurations."""
    with services.uow_factory(readonly=True) as uow:
        existing = set(uow.session.scalars(select(Project.key)))
    make_projects(services, *(key for key in projects if key not in existing))
    body = local_body(*projects)
    for name, configuration in (("firstConnector", first), ("secondConnector", second)):
        if configuration is not None:
            body[name]["configuration"] = configuration
    return create(services, body)


def keys(made: dict[str, Any]) -> tuple[str, str]:
    return made["firstConnector"]["connectorKey"], made["secondConnector"]["connectorKey"]


def found(conflicts: list[Conflict]) -> set[tuple[str, str]]:
    return {(c.type, c.connector_key) for c in conflicts}


def one(conflicts: list[Conflict], kind: str, connector: str, *words: str) -> Conflict:
    """The one conflict of this type and connector whose message has all of ``words``."""
    hits = [
        c
        for c in conflicts
        if c.type == kind and c.connector_key == connector and all(w in c.message for w in words)
    ]
    assert len(hits) == 1, (kind, connector, words, [c.message for c in conflicts])
    return hits[0]


def as_admin(services: Services) -> AbstractContextManager[Operation]:
    return services.tracker.write(
        services.authenticator.authenticate(basic("admin", "admin-secret"))
    )


def add_custom_field(services: Services, name: str, kind: str, *options: str) -> str:
    """Create a custom field; returns its id (``customfield_<n>``)."""
    with as_admin(services) as op:
        body: dict[str, object] = {"name": name, "type": kind}
        if options:
            body["options"] = list(options)
        field_id = catalog.create_custom_field(op, body)["id"]
    assert isinstance(field_id, str)
    return field_id


def add_status(services: Services, project_key: str, name: str) -> None:
    """The project's workflow gains ``name``, reached from and leading to In Progress."""
    with as_admin(services) as op:
        project = op.project(project_key)
        status = op.ref.statuses.by_name.get(name.lower())
        if status is None:
            status = Status(name=name, category=StatusCategory.IN_PROGRESS.value)
            op.session.add(status)
            op.session.flush()
        op.session.add(ProjectStatus(project_id=project.id, status_id=status.id, position=3))
        progress = op.ref.statuses.by_name["in progress"]
        for number, source, target in ((101, progress, status), (111, status, progress)):
            op.session.add(
                Transition(
                    project_id=project.id,
                    number=number,
                    name=f"To {target.name}",
                    from_status_id=source.id,
                    to_status_id=target.id,
                )
            )
        bump_reference_revision(op.session)


# --- a valid integration ---------------------------------------------------------------------


def test_a_default_integration_between_two_new_projects_has_no_conflict(
    services: Services,
) -> None:
    made = integrate(services, ("PA", "PB"))
    assert checked(services, made["integrationKey"]) == []
    assert pending(services, made["integrationKey"]) == []
    assert conflicts_json([]) == []


# --- fields and values -----------------------------------------------------------------------


def test_a_mapped_field_a_project_lacks_is_named_on_its_side(services: Services) -> None:
    mappings = [
        {"localField": "summary", "remoteField": "summary"},
        {"localField": "Team", "remoteField": "description"},
        {"localField": "labels", "remoteField": "environment"},
        {"localField": "comment", "remoteField": "comment"},
        {"localField": "attachment", "remoteField": "attachment"},
    ]
    made = integrate(services, ("PA", "PB"), first={"fieldMappings": mappings})
    first, second = keys(made)
    conflicts = checked(services, made["integrationKey"])

    assert {c.type for c in conflicts} == {UNKNOWN_FIELD}
    team = one(conflicts, UNKNOWN_FIELD, first, "'Team'", "project PA")
    assert "localField" in team.message
    assert "Replace 'Team' in the localField of" in team.resolution
    assert "'summary'" in team.resolution  # the fields PA has
    environment = one(conflicts, UNKNOWN_FIELD, first, "'environment'", "project PB")
    assert "remoteField" in environment.message
    # The second connector holds the same mappings mirrored: the same fields, its sides.
    one(conflicts, UNKNOWN_FIELD, second, "'Team'", "project PA", "remoteField")
    one(conflicts, UNKNOWN_FIELD, second, "'environment'", "project PB", "localField")
    assert len(conflicts) == 4
    assert len({c.id for c in conflicts}) == 4
    shown = conflicts_json([team])[0]
    assert shown == {
        "id": team.id,
        "category": "validation",
        "type": "unknownField",
        "connectorKey": first,
        "projectKey": "PA",
        "message": team.message,
        "resolution": team.resolution,
        "severity": "error",  # a field the project lacks stops every issue's message
    }
    assert shown["id"].startswith(f"unknownField-{first}-")

    # A custom field is found by its name; the ids of what remains do not move.
    add_custom_field(services, "Team", "string")
    after = checked(services, made["integrationKey"])
    assert {c.id for c in after} == {c.id for c in conflicts if "'environment'" in c.message}


def test_a_value_mapping_outside_the_allowed_values_is_named(services: Services) -> None:
    severity = add_custom_field(services, "Severity", "option", "Minor", "Major")
    mappings = [
        {"localField": "summary", "remoteField": "summary"},
        {
            "localField": "priority",
            "remoteField": "priority",
            "valueMappings": [
                {"local": "Urgent", "remote": "High"},
                {"local": "low", "remote": "Lowest"},  # names match without regard to case
            ],
        },
        {
            "localField": "Severity",
            "remoteField": severity,  # by id on this side
            "valueMappings": [{"local": "Major", "remote": "Trivial"}],
        },
    ]
    made = integrate(services, ("PA", "PB"), first={"fieldMappings": mappings})
    first, second = keys(made)
    conflicts = checked(services, made["integrationKey"])

    assert {c.type for c in conflicts} == {VALUE_NOT_ALLOWED}
    urgent = one(conflicts, VALUE_NOT_ALLOWED, first, "'Urgent'", "'Priority'", "project PA")
    assert "'Highest', 'High', 'Medium', 'Low', 'Lowest'" in urgent.resolution
    trivial = one(conflicts, VALUE_NOT_ALLOWED, first, "'Trivial'", "'Severity'", "project PB")
    assert "'Minor', 'Major'" in trivial.resolution
    one(conflicts, VALUE_NOT_ALLOWED, second, "'Urgent'", "project PA")
    one(conflicts, VALUE_NOT_ALLOWED, second, "'Trivial'", "project PB")
    assert len(conflicts) == 4


def test_field_defaults_are_checked_against_the_own_project(services: Services) -> None:
    defaults = [
        {"field": "priority", "value": "Blocker"},
        {"field": "Customer", "value": "ACME"},
        {"field": "labels", "value": ["synced"], "issueType": "Incident"},
    ]
    made = integrate(services, ("PA", "PB"), second={"fieldDefaults": defaults})
    _, second = keys(made)
    conflicts = checked(services, made["integrationKey"])
    assert found(conflicts) == {
        (VALUE_NOT_ALLOWED, second),
        (UNKNOWN_FIELD, second),
        (UNKNOWN_ISSUE_TYPE, second),
    }
    one(conflicts, VALUE_NOT_ALLOWED, second, "'Blocker'", "fieldDefaults")
    one(conflicts, UNKNOWN_FIELD, second, "'Customer'", "project PB")
    one(conflicts, UNKNOWN_ISSUE_TYPE, second, "'Incident'", "issueType")


# --- statuses --------------------------------------------------------------------------------


def test_a_status_without_a_counterpart_and_pairs_naming_missing_statuses(
    services: Services,
) -> None:
    # PA has 'In Review'; PB does not: PA's issues in review could not move PB's twins.
    make_projects(services, "PA", "PC", "PE", "PG")
    add_status(services, "PA", "In Review")
    unmapped = integrate(services, ("PA", "PB"))
    first, _ = keys(unmapped)
    conflicts = checked(services, unmapped["integrationKey"])
    assert found(conflicts) == {(UNMAPPED_STATUS, first)}
    review = one(conflicts, UNMAPPED_STATUS, first, "'In Review'", "project PB")
    assert '{"local": "In Review", "remote": <one of' in review.resolution
    assert "'To Do', 'In Progress', 'Done'" in review.resolution

    # A pair to a status PD lacks: named on both sides, and not also as unmapped.
    add_status(services, "PC", "In Review")
    pairs = [{"local": "In Review", "remote": "Reviewing"}]
    wrong = integrate(
        services,
        ("PC", "PD"),
        first={"workflowMappings": [{"id": "##GLOBAL##", "statusMappings": pairs}]},
    )
    first, second = keys(wrong)
    conflicts = checked(services, wrong["integrationKey"])
    assert found(conflicts) == {(UNKNOWN_STATUS, first), (UNKNOWN_STATUS, second)}
    reviewing = one(conflicts, UNKNOWN_STATUS, first, "'Reviewing'", "project PD", "remote status")
    assert "Replace 'Reviewing'" in reviewing.resolution
    one(conflicts, UNKNOWN_STATUS, second, "'Reviewing'", "project PD", "local status")

    # The same pair for one issue type only: the other types' issues still have no way.
    add_status(services, "PE", "In Review")
    pairs = [{"local": "In Review", "remote": "In Progress"}]
    per_type = integrate(
        services, ("PE", "PF"), first={"workflowMappings": [{"id": "Bug", "statusMappings": pairs}]}
    )
    first, _ = keys(per_type)
    conflicts = checked(services, per_type["integrationKey"])
    assert found(conflicts) == {(UNMAPPED_STATUS, first)}
    only_bug = one(conflicts, UNMAPPED_STATUS, first, "'In Review'")
    assert "'Task'" in only_bug.message
    assert "'Bug'" not in only_bug.message

    # Mapped for every type: nothing left.
    add_status(services, "PG", "In Review")
    fixed = integrate(
        services,
        ("PG", "PH"),
        first={"workflowMappings": [{"id": "##GLOBAL##", "statusMappings": pairs}]},
    )
    assert checked(services, fixed["integrationKey"]) == []


# --- issue types -----------------------------------------------------------------------------


def test_an_issue_type_the_partner_lacks_is_found(services: Services) -> None:
    configuration = {
        "issueTypeMappings": {
            "outgoing": [
                {"local": "Bug", "remote": "Defect"},
                {"local": "Sub-task", "remote": "Task"},
            ]
        },
        "workflowMappings": [{"id": "##GLOBAL##"}, {"id": "Incident"}],
    }
    made = integrate(services, ("PA", "PB"), first=configuration)
    first, second = keys(made)
    conflicts = checked(services, made["integrationKey"])
    assert found(conflicts) == {
        (UNMAPPED_ISSUE_TYPE, first),
        (UNKNOWN_ISSUE_TYPE, first),
        (UNKNOWN_ISSUE_TYPE, second),
    }
    defect = one(conflicts, UNMAPPED_ISSUE_TYPE, first, "'Bug'", "'Defect'", "project PB")
    assert "which PB lacks" in defect.message
    assert '{"local": "Bug", "remote": <one of' in defect.resolution
    subtask = one(conflicts, UNMAPPED_ISSUE_TYPE, first, "'Sub-task'", "'Task'")
    assert "is not a sub-task type there" in subtask.message
    one(conflicts, UNKNOWN_ISSUE_TYPE, first, "'Incident'", "workflow mapping")
    # The second connector got the pairs mirrored as incoming ones: 'Defect' is its own.
    one(conflicts, UNKNOWN_ISSUE_TYPE, second, "'Defect'", "incoming", "project PB")
    assert len(conflicts) == 4


# --- required fields -------------------------------------------------------------------------


def test_a_required_field_no_mapping_fills_is_found(services: Services) -> None:
    only_description = {
        "fieldMappings": [{"localField": "description", "remoteField": "description"}]
    }
    made = integrate(services, ("PA", "PB"), first=only_description)
    first, second = keys(made)
    conflicts = checked(services, made["integrationKey"])
    assert found(conflicts) == {
        (REQUIRED_FIELD_NOT_FILLED, first),
        (REQUIRED_FIELD_NOT_FILLED, second),
    }
    summary = one(conflicts, REQUIRED_FIELD_NOT_FILLED, first, "'Summary'", "Project PB")
    assert f"fieldDefaults of connector {second}" in summary.resolution

    # PD's default fills PC's issues there; PD's issues in PC still lack a summary.
    defaults = {"fieldDefaults": [{"field": "summary", "value": "From PC"}]}
    made = integrate(services, ("PC", "PD"), first=only_description, second=defaults)
    first, second = keys(made)
    assert found(checked(services, made["integrationKey"])) == {(REQUIRED_FIELD_NOT_FILLED, second)}

    # A default for one issue type fills only that type's issues.
    defaults = {"fieldDefaults": [{"field": "summary", "value": "A bug", "issueType": "Bug"}]}
    made = integrate(services, ("PE", "PF"), first=only_description, second=defaults)
    first, _ = keys(made)
    partial = one(checked(services, made["integrationKey"]), REQUIRED_FIELD_NOT_FILLED, first)
    assert "'Task'" in partial.message
    assert "'Bug'" not in partial.message


# --- connections -----------------------------------------------------------------------------


def test_a_tracker_that_cannot_be_reached_is_a_conflict_not_an_error(
    services: Services,
) -> None:
    make_projects(services, "PA", "PB")
    made = create(services, SEED_REQUEST)  # Jira at http://localhost:8510/jira: nobody listens
    first, second = keys(made)
    conflicts = checked(services, made["integrationKey"])
    assert found(conflicts) == {
        (CONNECTION_CHECK_FAILED, first),
        (CONNECTION_CHECK_FAILED, second),
    }
    failed = one(
        conflicts, CONNECTION_CHECK_FAILED, first, "'reachable'", "http://localhost:8510/jira"
    )
    assert f"PUT /integrations/{made['integrationKey']}/applicationConnection" in (
        failed.resolution
    )


def test_a_sync_user_that_is_unknown_or_inactive(services: Services) -> None:
    create_user(services.uow_factory, NewUser(name="syncer", email="s@x.test", password="pw"))
    create_user(services.uow_factory, NewUser(name="ghost", email="g@x.test"))
    make_projects(services, "PA", "PB")
    body = local_body("PA", "PB")
    body["firstConnector"]["connection"] = {"application": {"user": "ghost"}}
    body["secondConnector"]["connection"] = {"application": {"user": "syncer"}}
    made = create(services, body)  # a sync user must exist to be named; here it goes after
    first, second = keys(made)
    with services.uow_factory() as uow:
        uow.session.delete(uow.session.scalars(select(User).where(User.name == "ghost")).one())
        user = uow.session.scalars(select(User).where(User.name == "syncer")).one()
        user.active = False
        uow.commit()

    conflicts = checked(services, made["integrationKey"])
    assert found(conflicts) == {(CONNECTION_FAILED, first), (CONNECTION_CHECK_FAILED, second)}
    one(conflicts, CONNECTION_FAILED, first, "'ghost'", "does not exist")
    inactive = one(conflicts, CONNECTION_CHECK_FAILED, second, "'user'")
    assert "activate 'syncer'" in inactive.resolution
    assert len(conflicts) == 3  # and the 'write' check


def test_a_distributed_integration_checks_its_own_project_only(services: Services) -> None:
    create_user(services.uow_factory, NewUser(name="backbone", email="b@x.test", password="b"))
    make_projects(services, "PA")
    queues = {
        "sendQueue": {"@type": "file", "path": "shared/out"},
        "receiveQueue": {"@type": "file", "path": "shared/in"},
    }
    body = {
        "distributed": True,
        "firstConnector": {
            "projectKey": "PA",
            "connection": {"application": {"user": "backbone"}, "connector": queues},
        },
        "secondConnector": {"projectKey": "PZ"},
    }
    made = create(services, body)
    assert checked(services, made["integrationKey"]) == []


# --- data conflicts --------------------------------------------------------------------------


def test_a_field_both_sides_changed_waits_until_a_side_is_picked(
    services: Services, admin: httpx.Client
) -> None:
    with integration_pair(services, admin) as pair:
        key = create_issue(pair.client, "PA", "Base")
        pair.settle()
        twin = pair.twin(key)
        assert pending(services, pair.key) == []
        pair.edit(key, summary="A's idea")
        pair.edit(twin, summary="B's idea")
        pair.settle()

        conflicts = pending(services, pair.key)
        assert {c.type for c in conflicts} == {CONCURRENT_CHANGE}
        by_issue = {c.issue_key: c for c in conflicts}
        assert set(by_issue) == {key, twin}
        on_b = by_issue[twin]
        assert on_b.remote_issue_key == key
        assert [(f.field, f.local_value, f.remote_value) for f in on_b.fields] == [
            ("summary", "B's idea", "A's idea")
        ]
        on_a = by_issue[key]
        shown = conflicts_json([on_b])[0]
        assert shown["id"] == f"data-{on_b.message_id}"
        assert shown["category"] == "data"
        assert shown["projectKey"] == "PB"
        assert shown["fields"] == [
            {"field": "summary", "localValue": "B's idea", "remoteValue": "A's idea"}
        ]
        route = f"PUT /integrations/{pair.key}/conflicts/{on_b.message_id}"
        assert route in shown["resolution"]
        assert '{"keep": "local"}' in shown["resolution"]
        assert f"data-{on_a.message_id}" in shown["resolution"]  # the twin's, to decide alike
        assert checked(services, pair.key) == []  # the configuration itself is fine

        with services.uow_factory() as uow:
            assert on_a.message_id is not None
            assert on_b.message_id is not None
            incoming.resolve(uow.session, pair.first_id, on_a.message_id, Winner.LOCAL)
            incoming.resolve(uow.session, pair.second_id, on_b.message_id, Winner.REMOTE)
            uow.commit()
        assert pending(services, pair.key) == []
        pair.settle()
        assert pair.fields(twin)["summary"] == "A's idea"
        assert pending(services, pair.key) == []
