"""Issues of the built-in tracker: create, read, edit, delete, transition, search."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from sqlalchemy import bindparam, delete, func, or_, select, update

from issuesync.errors import InvalidInputError, NotFoundError, PermissionDeniedError
from issuesync.store.base import Base, insert_many, insert_rows, table_of
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.defaults import DEFAULT_PRIORITY, DEFAULT_RESOLUTION
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.models import (
    Attachment,
    DeletedIssue,
    Issue,
    IssueRow,
    Project,
    StatusCategory,
    Transition,
)
from issuesync.trackers.local.projects import default_assignee
from issuesync.trackers.local.refdata import ProjectRef
from issuesync.trackers.local.render import FieldSelection
from issuesync.trackers.local.writer import Changes, IssueWriter

# Core statements on the tables, built once: the hottest write skips the ORM's machinery.
_ISSUES = table_of(Issue)
_PROJECTS = table_of(Project)
_NEXT_NUMBERS = (
    update(_PROJECTS)
    .where(_PROJECTS.c.id == bindparam("project"))
    .values(issue_counter=_PROJECTS.c.issue_counter + bindparam("count"))
    .returning(_PROJECTS.c.issue_counter)
)


def _mapping(value: object, name: str) -> Mapping[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise InvalidInputError(
            f"'{name}' must be an object.", field_errors={name: "must be an object"}
        )
    return value


def create_issue(
    op: Operation, fields: Mapping[str, object], updates: Mapping[str, object]
) -> JsonDict:
    """Create an issue from Jira's create body; returns ``{id, key, self}``."""
    issue = insert_issue(op, fields, updates)
    return {
        "id": str(issue.id),
        "key": issue.key,
        "self": f"{op.base_url}/rest/api/2/issue/{issue.id}",
    }


def insert_issue(
    op: Operation, fields: Mapping[str, object], updates: Mapping[str, object]
) -> IssueRow:
    """:func:`create_issue`'s work; the result holds the row's values but is not in the session.

    Load the issue by id (or key) for anything beyond its column values.
    """
    return insert_issues(op, [(fields, updates)])[0]


def insert_issues(
    op: Operation, bodies: Sequence[tuple[Mapping[str, object], Mapping[str, object]]]
) -> list[IssueRow]:
    """Create issues from Jira create bodies (``fields``, ``update``), in order, in ``op``.

    Every body is checked before anything is written, and the rows are written
    together: one counter update per project, one multi-row insert for the
    issues and one per kind of collection (labels, components, ...). The
    results hold the rows' values but are not in the session.
    """
    prepared = [_prepare(op, fields, updates) for fields, updates in bodies]
    if not prepared:
        return []
    connection = op.session.connection()
    # The counter moves in the database, so concurrent creators never share a number.
    by_project: dict[int, list[IssueRow]] = defaultdict(list)
    keys: dict[int, str] = {}
    for issue, _, project in prepared:
        by_project[project.id].append(issue)
        keys[project.id] = project.key
    for project_id, made in by_project.items():
        last = connection.execute(
            _NEXT_NUMBERS, {"project": project_id, "count": len(made)}
        ).scalar_one()
        for number, issue in enumerate(made, start=last - len(made) + 1):
            issue.number = number
            issue.key = f"{keys[project_id]}-{number}"
    rows = [issue.row() for issue, _, _ in prepared]
    ids = insert_rows(connection, _ISSUES, rows)
    collections: dict[type[Base], list[dict[str, object]]] = defaultdict(list)
    for (issue, writer, _), issue_id in zip(prepared, ids, strict=True):
        issue.id = issue_id
        for table, new_rows in writer.new_collection_rows(issue).items():
            collections[table].extend(new_rows)
    for table, new_rows in collections.items():
        insert_many(connection, table_of(table), new_rows)
    for issue, writer, _ in prepared:
        writer.write_comments_and_links(issue)
    return [issue for issue, _, _ in prepared]


def _prepare(
    op: Operation, fields: Mapping[str, object], updates: Mapping[str, object]
) -> tuple[IssueRow, IssueWriter, ProjectRef]:
    """Check one create body and gather its values; nothing is written yet."""
    errors: dict[str, str] = {}
    project_ref = fields.get("project")
    if project_ref is None:
        errors["project"] = "project is required"
    if fields.get("issuetype") is None:
        errors["issuetype"] = "issue type is required"
    if "summary" not in fields and "summary" not in updates:
        errors["summary"] = "You must specify a summary of the issue."
    if errors:
        raise InvalidInputError("The issue could not be created.", field_errors=errors)
    project = _resolve_project(op, project_ref)
    issue = IssueRow(
        project_id=project.id,
        status_id=project.initial_status_id,
        creator_id=op.actor.id,
        reporter_id=op.actor.id,
        created_ms=op.now,
        updated_ms=op.now,
    )
    default_priority = op.ref.priorities.by_name.get(DEFAULT_PRIORITY.lower())
    issue.priority_id = default_priority.id if default_priority else None
    writer = op.writer(project, creating=True)
    writer.apply(issue, fields, updates, creating=True)
    if "assignee" not in fields and "assignee" not in updates:
        # Jira's default assignee: the components' rule, else the project's (projects.py).
        issue.assignee_id = default_assignee(op, project.id, writer.component_ids)
    issue_type = op.ref.issue_types.get(issue.issue_type_id)
    if issue_type.subtask and issue.parent_id is None:
        raise InvalidInputError(
            "The issue could not be created.",
            field_errors={
                "parent": "Issue type is a sub-task but parent issue key or id not specified."
            },
        )
    if not issue_type.subtask and issue.parent_id is not None:
        raise InvalidInputError(
            "The issue could not be created.",
            field_errors={
                "issuetype": "A parent is given, so the issue type must be a sub-task type."
            },
        )
    return issue, writer, project


def _resolve_project(op: Operation, ref: object) -> ProjectRef:
    key: object = ref
    if isinstance(ref, Mapping):
        key = ref.get("key") or ref.get("id")
    if isinstance(key, int):
        key = str(key)
    if not isinstance(key, str):
        raise InvalidInputError(
            "project", field_errors={"project": "Specify a valid project id or key"}
        )
    try:
        return op.project_ref(key)
    except NotFoundError as exc:
        raise InvalidInputError(
            "project",
            field_errors={"project": f"Specify a valid project id or key ('{key}' does not exist)"},
        ) from exc


def get_issue(
    op: Operation, key: str, fields: str | Sequence[str] | None, expand: str | None
) -> JsonDict:
    """An issue with the selected fields; ``expand`` adds ``changelog``, ``names``, ``schema``."""
    issue = op.issue(key)
    selection = FieldSelection.parse(fields, default="*all")
    renderer = op.renderer()
    body = renderer.issues([issue], selection, changelog=_expands(expand, "changelog"))[0]
    return body | renderer.names_and_schema(
        selection, names=_expands(expand, "names"), schema=_expands(expand, "schema")
    )


def _expands(expand: str | None, name: str) -> bool:
    return bool(expand) and name in {e.strip() for e in (expand or "").split(",")}


def edit_issue(
    op: Operation,
    key: str,
    fields: Mapping[str, object],
    updates: Mapping[str, object],
    *,
    notify: bool = True,
) -> None:
    """Apply Jira's edit body; every change lands in the history.

    ``notify`` False is Jira's ``?notifyUsers=false``: only an administrator of the
    issue's project may ask for it, as in Jira, which refuses the whole edit otherwise
    (403). The tracker sends no notifications, so it changes nothing else.
    """
    issue = op.issue(key)
    project = op.project_of(issue)
    if not notify and not op.actor.administers(project.key):
        raise PermissionDeniedError(
            "To discard the user notification either admin or project admin permissions are "
            "required."
        )
    writer = op.writer(ProjectRef.of(project))
    writer.apply(issue, fields, updates, creating=False)
    writer.write_collections(issue)
    writer.write_comments_and_links(issue)
    op.touch(issue, writer.changes)


def delete_issue(op: Operation, key: str, delete_subtasks: bool) -> list[str]:
    """Delete an issue (and its sub-tasks when asked); returns the attachment digests freed."""
    issue = op.issue(key)
    op.require_project_admin(op.project_of(issue))
    subtasks = op.session.scalar(select(func.count()).where(Issue.parent_id == issue.id)) or 0
    if subtasks and not delete_subtasks:
        raise InvalidInputError(
            f"The issue '{issue.key}' has sub-tasks; set deleteSubtasks=true to delete them too."
        )
    subtask_rows = op.session.execute(
        select(Issue.id, Issue.key).where(Issue.parent_id == issue.id)
    ).all()
    ids = [issue.id, *(row.id for row in subtask_rows)]
    # Recorded in the deletion's transaction, so a sync adapter learns of every one.
    op.session.add_all(
        DeletedIssue(project_id=issue.project_id, key=deleted_key, deleted_ms=op.now)
        for deleted_key in [issue.key, *(row.key for row in subtask_rows)]
    )
    digests = set(op.session.scalars(select(Attachment.sha256).where(Attachment.issue_id.in_(ids))))
    op.session.execute(delete(Issue).where(Issue.parent_id == issue.id))
    op.session.delete(issue)
    op.session.flush()
    still_used = set(
        op.session.scalars(select(Attachment.sha256).where(Attachment.sha256.in_(digests)))
    )
    return sorted(digests - still_used)


def available_transitions(op: Operation, issue: Issue) -> list[Transition]:
    """The transitions that can run from the issue's current status."""
    return list(
        op.session.scalars(
            select(Transition)
            .where(
                Transition.project_id == issue.project_id,
                or_(
                    Transition.from_status_id == issue.status_id,
                    Transition.from_status_id.is_(None),
                ),
            )
            .order_by(Transition.number)
        )
    )


def list_transitions(op: Operation, key: str) -> JsonDict:
    """Jira's ``GET issue/{key}/transitions``."""
    issue = op.issue(key)
    renderer = op.renderer()
    return {
        "expand": "transitions",
        "transitions": [
            {
                "id": str(t.number),
                "name": t.name,
                "to": renderer.status(t.to_status),
                "hasScreen": False,
                "isGlobal": t.from_status_id is None,
                "isInitial": False,
                "isAvailable": True,
                "isConditional": False,
                "fields": {},
            }
            for t in available_transitions(op, issue)
        ],
    }


def do_transition(
    op: Operation,
    key: str,
    transition_ref: Mapping[str, object],
    fields: Mapping[str, object],
    updates: Mapping[str, object],
) -> None:
    """Run a transition; a done status gets a resolution, leaving one clears it."""
    issue = op.issue(key)
    wanted = transition_ref.get("id")
    wanted_name = transition_ref.get("name")
    available = available_transitions(op, issue)
    chosen = next(
        (
            t
            for t in available
            if (wanted is not None and str(t.number) == str(wanted))
            or (
                wanted is None
                and isinstance(wanted_name, str)
                and t.name.lower() == wanted_name.lower()
            )
        ),
        None,
    )
    if chosen is None:
        status = op.ref.statuses.get(issue.status_id).name
        valid = ", ".join(f"{t.number} ({t.name})" for t in available)
        raise InvalidInputError(
            "It seems that you have tried to perform a workflow operation "
            f"({wanted or wanted_name}) that is "
            f"not valid for the current state of this issue ({issue.key}, in status '{status}'). "
            f"Valid transitions: {valid or 'none'}."
        )
    project = op.project_of(issue)
    writer = op.writer(ProjectRef.of(project))
    writer.apply(issue, fields, updates, creating=False)
    old = op.ref.statuses.get(issue.status_id)
    new = op.ref.statuses.get(chosen.to_status_id)
    writer.changes.record("status", (str(old.id), old.name), (str(new.id), new.name))
    issue.status_id = new.id
    _settle_resolution(
        op,
        issue,
        writer.changes,
        resolution_given="resolution" in fields or "resolution" in updates,
    )
    writer.write_collections(issue)
    writer.write_comments_and_links(issue)
    op.touch(issue, writer.changes)


def _settle_resolution(
    op: Operation, issue: Issue, changes: Changes, *, resolution_given: bool
) -> None:
    """Jira's default post-functions: done statuses are resolved, others are not."""
    done = op.ref.statuses.get(issue.status_id).category == StatusCategory.DONE.value
    if done and issue.resolution_id is None and not resolution_given:
        resolution = op.ref.resolutions.by_name.get(DEFAULT_RESOLUTION.lower())
        if resolution is not None:
            changes.record("resolution", (None, None), (str(resolution.id), resolution.name))
            issue.resolution_id = resolution.id
            issue.resolution_ms = op.now
    elif not done and issue.resolution_id is not None:
        old = op.ref.resolutions.get(issue.resolution_id)
        changes.record("resolution", (str(old.id), old.name), (None, None))
        issue.resolution_id = None
        issue.resolution_ms = None


def body_parts(body: Mapping[str, object]) -> tuple[Mapping[str, object], Mapping[str, object]]:
    """The ``fields`` and ``update`` objects of a create, edit or transition body."""
    return _mapping(body.get("fields"), "fields"), _mapping(body.get("update"), "update")
