"""Projects, components, versions, fields and the other lists of the built-in tracker."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import ColumnElement, and_, func, or_, select

from issuesync.errors import ConflictError, InvalidInputError, NotFoundError
from issuesync.store.users import User
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.defaults import default_initial_status, install_default_workflow
from issuesync.trackers.local.fielddefs import (
    SYSTEM_FIELDS,
    JsonDict,
    custom_field_type,
    describe_custom_field,
)
from issuesync.trackers.local.jiratime import parse_date
from issuesync.trackers.local.models import (
    Component,
    CustomField,
    CustomFieldOption,
    CustomFieldType,
    Project,
    ProjectStatus,
    Resolution,
    Version,
    row_id,
)
from issuesync.trackers.local.projects import (
    component_detail_json,
    component_details,
    project_detail_json,
    project_details,
)
from issuesync.trackers.local.refdata import Catalog, N, bump_reference_revision
from issuesync.trackers.local.shapes import (
    issue_type_json,
    link_type_json,
    priority_json,
    status_json,
    user_json,
    version_json,
)
from issuesync.trackers.local.textlimits import check_length, too_long

PROJECT_KEY = re.compile(r"^[A-Z][A-Z0-9_]{0,9}$")
MAX_NAME = 255


def project_json(op: Operation, project: Project, *, full: bool) -> JsonDict:
    """A project; ``full`` adds what ``GET project/{key}`` shows."""
    api = f"{op.base_url}/rest/api/2"
    body: JsonDict = {
        "self": f"{api}/project/{project.id}",
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
    }
    if full:
        lead = op.session.get(User, project.lead_id) if project.lead_id else None
        body["description"] = project.description
        body["lead"] = user_json(lead, api, op.emails) if lead else None
        body["issueTypes"] = [issue_type_json(t, api) for t in op.ref.issue_types.by_id.values()]
        body["components"] = [component_detail_json(op, c) for c in _components(op, project)]
        body["versions"] = [version_json(v, api) for v in _versions(op, project)]
    return body | project_detail_json(op, project, full=full)


def _components(op: Operation, project: Project) -> list[Component]:
    return list(
        op.session.scalars(
            select(Component).where(Component.project_id == project.id).order_by(Component.name)
        )
    )


def _versions(op: Operation, project: Project) -> list[Version]:
    return list(
        op.session.scalars(
            select(Version).where(Version.project_id == project.id).order_by(Version.id)
        )
    )


def list_projects(op: Operation) -> list[JsonDict]:
    """Every project, by key."""
    return [
        project_json(op, p, full=False)
        for p in op.session.scalars(select(Project).order_by(Project.key))
    ]


def get_project(op: Operation, key: str) -> JsonDict:
    """One project with its issue types, components and versions."""
    return project_json(op, op.project(key), full=True)


def create_project(op: Operation, body: Mapping[str, object]) -> JsonDict:
    """Create a project with the default workflow (administrators only)."""
    op.actor.require_admin()
    key, name = body.get("key"), body.get("name")
    errors: dict[str, str] = {}
    if not isinstance(key, str) or not PROJECT_KEY.match(key):
        errors["projectKey"] = (
            "Project keys must start with an uppercase letter, followed by one or more uppercase "
            "alphanumeric characters (at most 10)."
        )
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        errors["projectName"] = (
            f"You must specify a valid project name (at most {MAX_NAME} characters)."
        )
    description = body.get("description", "")
    if not isinstance(description, str):
        errors["description"] = "The description must be text."
    elif len(description) > op.text_limit:
        errors["description"] = too_long(op.text_limit)
    details: dict[str, object] = {}
    try:
        details = project_details(op, body)
    except InvalidInputError as exc:
        errors.update(exc.field_errors)
    if errors:
        raise InvalidInputError("The project could not be created.", field_errors=errors)
    assert isinstance(key, str)
    assert isinstance(name, str)
    assert isinstance(description, str)
    clash = op.session.scalar(
        select(Project).where(or_(Project.key == key, func.lower(Project.name) == name.lower()))
    )
    if clash is not None:
        field = "projectKey" if clash.key == key else "projectName"
        what = "key" if field == "projectKey" else "name"
        raise ConflictError(
            f"A project with that {what} already exists.",
            field_errors={field: f"A project with that {what} already exists."},
        )
    lead_ref = body.get("lead") or body.get("leadAccountId")
    lead = op.users().resolve(lead_ref, "projectLead") if lead_ref else None
    project = Project(
        key=key,
        name=name.strip(),
        description=description,
        lead_id=lead.id if lead else op.actor.id,
        initial_status_id=default_initial_status(op.session).id,
        issue_counter=0,
        created_ms=op.now,
        **details,
    )
    op.session.add(project)
    op.session.flush()
    install_default_workflow(op.session, project.id)
    api = f"{op.base_url}/rest/api/2"
    return {"self": f"{api}/project/{project.id}", "id": project.id, "key": project.key}


def project_statuses(op: Operation, key: str) -> list[JsonDict]:
    """Jira's ``GET project/{key}/statuses``: the statuses each issue type can be in."""
    project = op.project(key)
    statuses = [
        ps.status
        for ps in op.session.scalars(
            select(ProjectStatus)
            .where(ProjectStatus.project_id == project.id)
            .order_by(ProjectStatus.position)
        )
    ]
    api = f"{op.base_url}/rest/api/2"
    return [
        {
            "self": f"{api}/issuetype/{t.id}",
            "id": str(t.id),
            "name": t.name,
            "subtask": t.subtask,
            "statuses": [status_json(s, api) for s in statuses],
        }
        for t in op.ref.issue_types.by_id.values()
    ]


def list_components(op: Operation, key: str) -> list[JsonDict]:
    """A project's components."""
    return [component_detail_json(op, c) for c in _components(op, op.project(key))]


def list_versions(op: Operation, key: str) -> list[JsonDict]:
    """A project's versions."""
    api = f"{op.base_url}/rest/api/2"
    return [version_json(v, api) for v in _versions(op, op.project(key))]


def get_version(op: Operation, version_id: str) -> JsonDict:
    """One version by its id, as ``GET version/{id}`` shows it; 404 when there is none."""
    number = row_id(version_id)
    version = op.session.get(Version, number) if number is not None else None
    if version is None:
        raise NotFoundError(f"Could not find version for id '{version_id}'")
    return version_json(version, f"{op.base_url}/rest/api/2")


def _owning_project(op: Operation, body: Mapping[str, object]) -> Project:
    ref = body.get("project") or body.get("projectId")
    if not isinstance(ref, str | int) or isinstance(ref, bool):
        raise InvalidInputError(
            "The project is missing.", field_errors={"project": "project is required"}
        )
    try:
        project = op.project(str(ref))
    except NotFoundError as exc:
        raise InvalidInputError(
            str(exc), field_errors={"project": f"project '{ref}' does not exist"}
        ) from exc
    op.require_project_admin(project)
    return project


def _description(op: Operation, body: Mapping[str, object]) -> str:
    """An optional ``description`` (other than text, it is none); too long is refused."""
    description = body.get("description")
    if not isinstance(description, str):
        return ""
    return check_length(description, "description", op.text_limit)


def _name(body: Mapping[str, object]) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise InvalidInputError(
            "A name is required.", field_errors={"name": "You must specify a valid name."}
        )
    return name.strip()


def create_component(op: Operation, body: Mapping[str, object]) -> JsonDict:
    """Create a component in a project (project admins)."""
    project = _owning_project(op, body)
    name = _name(body)
    if any(c.name.lower() == name.lower() for c in _components(op, project)):
        raise ConflictError(
            "A component with that name already exists.", field_errors={"name": "already exists"}
        )
    description = _description(op, body)
    component = Component(
        project_id=project.id,
        name=name,
        description=description,
        **component_details(op, body, project=project),
    )
    op.session.add(component)
    op.session.flush()
    return component_detail_json(op, component)


def create_version(op: Operation, body: Mapping[str, object]) -> JsonDict:
    """Create a version in a project (project admins)."""
    project = _owning_project(op, body)
    name = _name(body)
    if any(v.name.lower() == name.lower() for v in _versions(op, project)):
        raise ConflictError(
            "A version with this name already exists in this project.",
            field_errors={"name": "already exists"},
        )
    description = _description(op, body)
    version = Version(
        project_id=project.id,
        name=name,
        description=description,
        released=bool(body.get("released", False)),
        archived=bool(body.get("archived", False)),
        release_date=parse_date(body.get("releaseDate"), "releaseDate"),
    )
    op.session.add(version)
    op.session.flush()
    return version_json(version, f"{op.base_url}/rest/api/2")


def list_fields(op: Operation) -> list[JsonDict]:
    """System and custom fields as ``/field`` lists them."""
    return [f.describe() for f in SYSTEM_FIELDS] + [
        describe_custom_field(c)
        for c in sorted(op.ref.custom_fields.by_id.values(), key=lambda c: c.id)
    ]


def create_custom_field(op: Operation, body: Mapping[str, object]) -> JsonDict:
    """Create a custom field (administrators): ``{name, type, description?, options?}``."""
    op.actor.require_admin()
    name = _name(body)
    raw_type = body.get("type")
    kind = custom_field_type(raw_type) if isinstance(raw_type, str) else None
    if kind is None:
        allowed = ", ".join(t.value for t in CustomFieldType)
        raise InvalidInputError(
            "The custom field type is not known.",
            field_errors={"type": f"Use one of: {allowed} (or Jira's type key)."},
        )
    if name.lower() in op.ref.custom_fields.by_name:
        raise ConflictError(
            f"A custom field named '{name}' already exists.",
            field_errors={"name": "already exists"},
        )
    options = body.get("options", [])
    if not isinstance(options, list) or not all(
        isinstance(o, str) and o.strip() and len(o.strip()) <= MAX_NAME for o in options
    ):
        raise InvalidInputError(
            "Options must be a list of texts.", field_errors={"options": "a list of strings"}
        )
    if options and kind not in (CustomFieldType.OPTION, CustomFieldType.OPTIONS):
        raise InvalidInputError(
            "Only option fields have options.",
            field_errors={"options": "not allowed for this type"},
        )
    description = _description(op, body)
    field = CustomField(
        name=name,
        field_type=kind.value,
        description=description,
    )
    field.options = [
        CustomFieldOption(value=o.strip(), position=i) for i, o in enumerate(dict.fromkeys(options))
    ]
    op.session.add(field)
    op.session.flush()
    bump_reference_revision(op.session)
    return describe_custom_field(field)


def list_issue_types(op: Operation) -> list[JsonDict]:
    """Every issue type."""
    api = f"{op.base_url}/rest/api/2"
    return [issue_type_json(t, api) for t in op.ref.issue_types.by_id.values()]


def list_priorities(op: Operation) -> list[JsonDict]:
    """Every priority, highest first."""
    api = f"{op.base_url}/rest/api/2"
    return [priority_json(p, api) for p in op.ref.priorities.by_id.values()]


def list_statuses(op: Operation) -> list[JsonDict]:
    """Every status."""
    api = f"{op.base_url}/rest/api/2"
    return [status_json(s, api) for s in op.ref.statuses.by_id.values()]


def list_resolutions(op: Operation) -> list[JsonDict]:
    """Every resolution."""
    api = f"{op.base_url}/rest/api/2"
    return [_resolution_json(r, api) for r in op.ref.resolutions.by_id.values()]


def _resolution_json(resolution: Resolution, api: str) -> JsonDict:
    return {
        "self": f"{api}/resolution/{resolution.id}",
        "id": str(resolution.id),
        "name": resolution.name,
        "description": resolution.description,
    }


def _one(catalog: Catalog[N], row: str) -> N:
    """The row of a reference list that an id in a URL names; 404 otherwise."""
    number = row_id(row)
    found = catalog.by_id.get(number) if number is not None else None
    if found is None:
        raise NotFoundError(f"The {catalog.label} with id '{row}' does not exist.")
    return found


def get_issue_type(op: Operation, type_id: str) -> JsonDict:
    """``GET issuetype/{id}``: the target of every issue type's self link."""
    return issue_type_json(_one(op.ref.issue_types, type_id), f"{op.base_url}/rest/api/2")


def get_priority(op: Operation, priority_id: str) -> JsonDict:
    """``GET priority/{id}``."""
    return priority_json(_one(op.ref.priorities, priority_id), f"{op.base_url}/rest/api/2")


def get_status(op: Operation, status: str) -> JsonDict:
    """``GET status/{idOrName}``: Jira takes a status's name as well as its id."""
    found = op.ref.statuses.by_name.get(status.lower())
    if found is None:
        found = _one(op.ref.statuses, status)
    return status_json(found, f"{op.base_url}/rest/api/2")


def get_resolution(op: Operation, resolution_id: str) -> JsonDict:
    """``GET resolution/{id}``."""
    return _resolution_json(_one(op.ref.resolutions, resolution_id), f"{op.base_url}/rest/api/2")


def get_link_type(op: Operation, type_id: str) -> JsonDict:
    """``GET issueLinkType/{id}``."""
    t = _one(op.ref.link_types, type_id)
    return link_type_json(t.id, t.name, t.inward, t.outward, f"{op.base_url}/rest/api/2")


def list_link_types(op: Operation) -> JsonDict:
    """Every issue link type."""
    api = f"{op.base_url}/rest/api/2"
    return {
        "issueLinkTypes": [
            link_type_json(t.id, t.name, t.inward, t.outward, api)
            for t in op.ref.link_types.by_id.values()
        ]
    }


def get_user(op: Operation, username: str) -> JsonDict:
    """A user by name, or by an e-mail address the caller may see."""
    user = op.users().find(username)
    if user is None:
        raise NotFoundError(f"The user named '{username}' does not exist")
    return user_json(user, f"{op.base_url}/rest/api/2", op.emails)


def search_users(op: Operation, text: str, start_at: int, max_results: int) -> list[JsonDict]:
    """Users whose name, display name or (visible) e-mail starts with ``text``.

    An address the caller may not see matches nothing: else a search would spell
    out other users' addresses one prefix at a time.
    """
    if text == ".":
        # Jira Server's way of asking for every user (atlassian-python-api documents it).
        text = ""
    pattern = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    by_email: ColumnElement[bool] = func.lower(User.email).like(pattern, escape="\\")
    if not op.emails.everyone:
        by_email = and_(User.id == op.actor.id, by_email)
    users = op.session.scalars(
        select(User)
        .where(
            User.active,
            or_(
                func.lower(User.name).like(pattern, escape="\\"),
                func.lower(User.display_name).like(pattern, escape="\\"),
                by_email,
            ),
        )
        .order_by(User.name)
        .offset(start_at)
        .limit(max_results)
    )
    api = f"{op.base_url}/rest/api/2"
    return [user_json(u, api, op.emails) for u in users]
