"""A project's and a component's details as Jira has them: category, URL, type, lead and
default assignee, and the project categories themselves.

``POST project`` and ``POST component`` take these fields in Jira and the
clients send them (``jira.JIRA.create_project`` always sends a permission
scheme, a notification scheme, ``assigneeType`` and a template key), so each
is checked here: a value the built-in tracker cannot honour is refused with
the field's name, never dropped. What is stored shows in ``GET``; the
default assignee is applied when an issue is created without one
(:func:`default_assignee`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Final
from urllib.parse import urlsplit

from sqlalchemy import case, func, select, update

from issuesync.errors import ConflictError, InvalidInputError, NotFoundError
from issuesync.store.users import User
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.models import (
    Component,
    Issue,
    IssueComponent,
    Project,
    ProjectCategory,
    row_id,
)
from issuesync.trackers.local.schemes import (
    ISSUE_SECURITY_SCHEME_ID,
    NOTIFICATION_SCHEME_ID,
    PERMISSION_SCHEME_ID,
)
from issuesync.trackers.local.shapes import user_json
from issuesync.trackers.local.textlimits import check_length

MAX_NAME: Final = 255
MAX_URL: Final = 255
# What a project's new issues get when none is given: its lead, or no one.
PROJECT_ASSIGNEE_TYPES: Final = ("PROJECT_LEAD", "UNASSIGNED")
# A component's: the project's rule, the component's lead, the project's lead, no one.
COMPONENT_ASSIGNEE_TYPES: Final = (
    "PROJECT_DEFAULT",
    "COMPONENT_LEAD",
    "PROJECT_LEAD",
    "UNASSIGNED",
)
PROJECT_TYPES: Final = ("software", "business")
# Jira Server 8.20's own templates, by project type. Each gives the built-in tracker's one
# workflow; a key no Jira has is refused, as Jira refuses a template it does not have.
PROJECT_TEMPLATES: Final = {
    "com.pyxis.greenhopper.jira:basic-software-development-template": "software",
    "com.pyxis.greenhopper.jira:gh-scrum-template": "software",
    "com.pyxis.greenhopper.jira:gh-kanban-template": "software",
    "com.pyxis.greenhopper.jira:gh-simplified-basic": "software",
    "com.pyxis.greenhopper.jira:gh-simplified-scrum-classic": "software",
    "com.pyxis.greenhopper.jira:gh-simplified-kanban-classic": "software",
    "com.atlassian.jira-core-project-templates:jira-core-project-management": "business",
    "com.atlassian.jira-core-project-templates:jira-core-task-management": "business",
    "com.atlassian.jira-core-project-templates:jira-core-process-management": "business",
}
# Jira Server's default project avatar: the only one the built-in tracker has (it keeps none).
DEFAULT_PROJECT_AVATAR_ID: Final = 10324


def _api(op: Operation) -> str:
    return f"{op.base_url}/rest/api/2"


# -- projects ----------------------------------------------------------------------------


def project_details(op: Operation, body: Mapping[str, object]) -> dict[str, object]:
    """The checked details of a ``POST project`` body, as :class:`Project` column values.

    Every error is gathered and raised at once, keyed by the body's field name.
    """
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    _scheme(body, "permissionScheme", PERMISSION_SCHEME_ID, "permission", errors)
    _scheme(body, "notificationScheme", NOTIFICATION_SCHEME_ID, "notification", errors)
    _scheme(body, "issueSecurityScheme", ISSUE_SECURITY_SCHEME_ID, "issue security", errors)
    avatar = body.get("avatarId")
    if avatar is not None and avatar != DEFAULT_PROJECT_AVATAR_ID:
        errors["avatarId"] = (
            f"The avatar with id '{avatar}' does not exist: the built-in tracker has only "
            f"the default project avatar ({DEFAULT_PROJECT_AVATAR_ID})."
        )
    assignee_type = body.get("assigneeType")
    if assignee_type is not None:
        if assignee_type in PROJECT_ASSIGNEE_TYPES:
            values["assignee_type"] = assignee_type
        else:
            errors["assigneeType"] = f"Use one of: {', '.join(PROJECT_ASSIGNEE_TYPES)}."
    _url(body, values, errors)
    _project_type(body, values, errors)
    category = body.get("categoryId")
    if category is not None:
        found = _category_or_none(op, category)
        if found is None:
            errors["categoryId"] = f"The project category with id '{category}' does not exist."
        else:
            values["category_id"] = found.id
    if errors:
        raise InvalidInputError("The project could not be created.", field_errors=errors)
    return values


def _project_type(
    body: Mapping[str, object], values: dict[str, object], errors: dict[str, str]
) -> None:
    """``projectTypeKey`` and ``projectTemplateKey``: a known type, a template of that type."""
    type_key = body.get("projectTypeKey")
    template = body.get("projectTemplateKey")
    if type_key is not None and type_key not in PROJECT_TYPES:
        errors["projectTypeKey"] = (
            f"The project type '{type_key}' does not exist: use one of {', '.join(PROJECT_TYPES)}."
        )
    elif template is not None:
        template_type = PROJECT_TEMPLATES.get(str(template))
        if template_type is None:
            errors["projectTemplateKey"] = f"The project template '{template}' does not exist."
        elif type_key is not None and type_key != template_type:
            errors["projectTemplateKey"] = (
                f"The project template '{template}' is for {template_type} projects, "
                f"not {type_key} ones."
            )
        else:
            values["project_type_key"] = template_type
    if type_key in PROJECT_TYPES:
        values["project_type_key"] = type_key


def _url(body: Mapping[str, object], values: dict[str, object], errors: dict[str, str]) -> None:
    """``url``: empty, or a web address (Jira's error names it ``projectUrl``)."""
    url = body.get("url")
    if isinstance(url, str) and url.strip():
        if _is_web_url(url.strip()) and len(url.strip()) <= MAX_URL:
            values["url"] = url.strip()
        else:
            errors["projectUrl"] = (
                f"The URL specified is not valid: it must start with http:// or https:// "
                f"and be at most {MAX_URL} characters."
            )


def _scheme(
    body: Mapping[str, object], field: str, only_id: int, kind: str, errors: dict[str, str]
) -> None:
    given = body.get(field)
    if given is not None and given != only_id:
        errors[field] = (
            f"The {kind} scheme with id '{given}' does not exist: the built-in tracker has "
            f"one, {only_id}."
        )


def _is_web_url(url: str) -> bool:
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def project_detail_json(op: Operation, project: Project, *, full: bool) -> JsonDict:
    """What ``GET project`` (``full``: ``GET project/{key}``) adds for these details."""
    body: JsonDict = {"projectTypeKey": project.project_type_key}
    if project.category_id is not None:
        category = op.session.get(ProjectCategory, project.category_id)
        if category is not None:
            body["projectCategory"] = category_json(op, category)
    if full:
        if project.url:
            body["url"] = project.url
        body["assigneeType"] = project.assignee_type
        body["archived"] = False
    return body


def default_assignee(op: Operation, project_id: int, component_ids: Iterable[int]) -> int | None:
    """Who a new issue without an assignee gets, by Jira's rule.

    The issue's components by name decide first: the first whose type is not
    ``PROJECT_DEFAULT`` names the assignee (its lead, the project's lead or no
    one; a ``COMPONENT_LEAD`` without a lead passes to the project's rule). Else
    the project's type does: its lead, or no one.
    """
    wanted = list(component_ids)
    if wanted:
        for component in op.session.scalars(
            select(Component).where(Component.id.in_(wanted)).order_by(Component.name)
        ):
            if component.assignee_type == "PROJECT_DEFAULT" or (
                component.assignee_type == "COMPONENT_LEAD" and component.lead_id is None
            ):
                continue
            if component.assignee_type == "COMPONENT_LEAD":
                return _active(op, component.lead_id)
            if component.assignee_type == "PROJECT_LEAD":
                return _active(op, _project_rule(op, project_id)[1])
            return None  # UNASSIGNED
    assignee_type, lead_id = _project_rule(op, project_id)
    return _active(op, lead_id) if assignee_type == "PROJECT_LEAD" else None


def _project_rule(op: Operation, project_id: int) -> tuple[str, int | None]:
    """A project's default assignee type and lead, in one small query."""
    row = op.session.execute(
        select(Project.assignee_type, Project.lead_id).where(Project.id == project_id)
    ).one()
    return row[0], row[1]


def _active(op: Operation, user_id: int | None) -> int | None:
    user = op.session.get(User, user_id) if user_id is not None else None
    return user.id if user is not None and user.active else None


# -- categories --------------------------------------------------------------------------


def category_json(op: Operation, category: ProjectCategory) -> JsonDict:
    """A project category."""
    return {
        "self": f"{_api(op)}/projectCategory/{category.id}",
        "id": str(category.id),
        "name": category.name,
        "description": category.description,
    }


def _category_or_none(op: Operation, ref: object) -> ProjectCategory | None:
    number = row_id(str(ref)) if isinstance(ref, int | str) and not isinstance(ref, bool) else None
    return op.session.get(ProjectCategory, number) if number is not None else None


def list_categories(op: Operation) -> list[JsonDict]:
    """Jira's ``GET projectCategory``: every category, by name."""
    return [
        category_json(op, c)
        for c in op.session.scalars(select(ProjectCategory).order_by(ProjectCategory.name))
    ]


def get_category(op: Operation, category_id: str) -> JsonDict:
    """Jira's ``GET projectCategory/{id}``."""
    category = _category_or_none(op, category_id)
    if category is None:
        raise NotFoundError(f"The project category with id '{category_id}' does not exist.")
    return category_json(op, category)


def create_category(op: Operation, body: Mapping[str, object]) -> JsonDict:
    """Jira's ``POST projectCategory`` (administrators): ``{name, description?}``."""
    op.actor.require_admin()
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
        raise InvalidInputError(
            "The project category could not be created.",
            field_errors={"name": f"You must specify a name of at most {MAX_NAME} characters."},
        )
    name = name.strip()
    description = body.get("description")
    text = (
        check_length(description, "description", op.text_limit)
        if isinstance(description, str)
        else ""
    )
    clash = op.session.scalar(
        select(ProjectCategory).where(func.lower(ProjectCategory.name) == name.lower())
    )
    if clash is not None:
        raise ConflictError(
            f"A project category named '{name}' already exists.",
            field_errors={"name": "A project category with that name already exists."},
        )
    category = ProjectCategory(name=name, description=text)
    op.session.add(category)
    op.session.flush()
    return category_json(op, category)


# -- components --------------------------------------------------------------------------


def component_details(
    op: Operation, body: Mapping[str, object], *, project: Project
) -> dict[str, object]:
    """The checked lead and default assignee of a component body, as column values.

    ``leadUserName`` (or ``lead: {"name": ...}``) names the lead, null or "" clears
    it; ``assigneeType`` is one of :data:`COMPONENT_ASSIGNEE_TYPES`.
    ``isAssigneeTypeValid`` is Jira's answer, not a setting: it is taken and ignored.
    """
    del project  # every user may lead a component of any project here
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    if "leadUserName" in body or "lead" in body:
        ref = body.get("leadUserName") if "leadUserName" in body else body.get("lead")
        if ref in (None, ""):
            values["lead_id"] = None
        else:
            try:
                lead = op.users().resolve(ref, "leadUserName")
            except InvalidInputError as exc:
                errors.update(exc.field_errors)
            else:
                values["lead_id"] = lead.id if lead else None
    assignee_type = body.get("assigneeType")
    if assignee_type is not None:
        if assignee_type in COMPONENT_ASSIGNEE_TYPES:
            values["assignee_type"] = assignee_type
        else:
            errors["assigneeType"] = f"Use one of: {', '.join(COMPONENT_ASSIGNEE_TYPES)}."
    if errors:
        raise InvalidInputError("The component could not be saved.", field_errors=errors)
    return values


def component_detail_json(op: Operation, component: Component) -> JsonDict:
    """A component as ``GET component/{id}`` shows it: with its lead and default assignee."""
    api = _api(op)
    project = op.session.get(Project, component.project_id)
    assert project is not None  # a foreign key guarantees it
    lead = op.session.get(User, component.lead_id) if component.lead_id else None
    project_lead = op.session.get(User, project.lead_id) if project.lead_id else None
    real_type = component.assignee_type
    if real_type == "PROJECT_DEFAULT" or (real_type == "COMPONENT_LEAD" and lead is None):
        real_type = project.assignee_type
    chosen = {"COMPONENT_LEAD": lead, "PROJECT_LEAD": project_lead}
    assignee = chosen.get(component.assignee_type)
    if component.assignee_type == "PROJECT_DEFAULT":
        assignee = chosen.get(project.assignee_type)
    real_assignee = chosen.get(real_type)
    valid = real_type == "UNASSIGNED" or (real_assignee is not None and real_assignee.active)
    body: JsonDict = {
        "self": f"{api}/component/{component.id}",
        "id": str(component.id),
        "name": component.name,
        "description": component.description,
    }
    if lead is not None:
        body["lead"] = user_json(lead, api, op.emails)
        body["leadUserName"] = lead.name
    body["assigneeType"] = component.assignee_type
    if assignee is not None:
        body["assignee"] = user_json(assignee, api, op.emails)
    body["realAssigneeType"] = real_type
    if real_assignee is not None:
        body["realAssignee"] = user_json(real_assignee, api, op.emails)
    body["isAssigneeTypeValid"] = valid
    body["project"] = project.key
    body["projectId"] = project.id
    body["archived"] = False
    return body


def component(op: Operation, component_id: str) -> Component:
    """The component with this id; 404 otherwise."""
    number = row_id(component_id)
    found = op.session.get(Component, number) if number is not None else None
    if found is None:
        raise NotFoundError(f"The component with id {component_id} does not exist.")
    return found


def get_component(op: Operation, component_id: str) -> JsonDict:
    """Jira's ``GET component/{id}``."""
    return component_detail_json(op, component(op, component_id))


def edit_component(op: Operation, component_id: str, body: Mapping[str, object]) -> JsonDict:
    """Jira's ``PUT component/{id}`` (project admins): name, description, lead, assignee type.

    A field left out keeps its value. The project cannot change (Jira refuses it too).
    """
    found = component(op, component_id)
    project = op.session.get(Project, found.project_id)
    assert project is not None
    op.require_project_admin(project)
    moved = body.get("project") or body.get("projectId")
    if moved is not None and str(moved).upper() not in (project.key, str(project.id)):
        raise InvalidInputError(
            "A component cannot move to another project.",
            field_errors={"project": "A component cannot move to another project."},
        )
    values = component_details(op, body, project=project)
    if "name" in body:
        name = body.get("name")
        if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
            raise InvalidInputError(
                "A name is required.", field_errors={"name": "You must specify a valid name."}
            )
        name = name.strip()
        clash = op.session.scalar(
            select(Component).where(
                Component.project_id == project.id,
                func.lower(Component.name) == name.lower(),
                Component.id != found.id,
            )
        )
        if clash is not None:
            raise ConflictError(
                "A component with that name already exists.",
                field_errors={"name": "already exists"},
            )
        found.name = name
    description = body.get("description")
    if isinstance(description, str):
        found.description = check_length(description, "description", op.text_limit)
    for column, value in values.items():
        setattr(found, column, value)
    op.session.flush()
    return component_detail_json(op, found)


def delete_component(op: Operation, component_id: str, move_issues_to: str | None) -> None:
    """Jira's ``DELETE component/{id}`` (project admins); ``moveIssuesTo`` gives the
    component's issues another of the same project instead."""
    found = component(op, component_id)
    project = op.session.get(Project, found.project_id)
    assert project is not None
    op.require_project_admin(project)
    if move_issues_to:
        try:
            target = component(op, move_issues_to)
        except NotFoundError as exc:
            raise InvalidInputError(str(exc), field_errors={"moveIssuesTo": str(exc)}) from exc
        if target.project_id != found.project_id or target.id == found.id:
            raise InvalidInputError(
                "Issues can move only to another component of the same project.",
                field_errors={"moveIssuesTo": "must be another component of the same project"},
            )
        has_target = select(IssueComponent.issue_id).where(IssueComponent.component_id == target.id)
        # The moved issues changed: their update time moves, so a sync sees them.
        op.session.execute(
            update(Issue)
            .where(
                Issue.id.in_(
                    select(IssueComponent.issue_id).where(IssueComponent.component_id == found.id)
                )
            )
            .values(
                updated_ms=case((Issue.updated_ms >= op.now, Issue.updated_ms + 1), else_=op.now)
            )
        )
        op.session.execute(
            update(IssueComponent)
            .where(
                IssueComponent.component_id == found.id,
                IssueComponent.issue_id.not_in(has_target),
            )
            .values(component_id=target.id)
        )
    op.session.delete(found)
    op.session.flush()
