"""The built-in tracker's Jira REST v2 routes for setting up projects and creating in bulk.

What ``jira.JIRA.create_project`` and ``atlassian.Jira`` ask before and while
they create a project (its schemes and categories), a component's own routes,
Jira 8.4's paged create metadata and ``POST issue/bulk``. Mounted beside
:func:`issuesync.api.jira.routers.build_router`, under the same prefix.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.api.jira.bodies import MAX_INT, BulkIssueBody, CategoryBody, ComponentBody, IssueBody
from issuesync.api.jira.errors import JIRA_STATUSES, jira_error
from issuesync.api.jira.operations import read, write
from issuesync.api.jira.routers import JIRA_PREFIX
from issuesync.errors import RequestError, nearest
from issuesync.services import Services
from issuesync.store.principals import Principal
from issuesync.trackers.local import issues, meta, projects, schemes
from issuesync.trackers.local.fielddefs import JsonDict

StartAt = Annotated[int, Query(alias="startAt", ge=0, le=MAX_INT)]
MaxResults = Annotated[int, Query(alias="maxResults", ge=0, le=MAX_INT)]
Expand = Annotated[str | None, Query()]
MAX_PAGE = 1000  # beyond this a page is cut, as the other paged routes do


def build_admin_router() -> APIRouter:  # noqa: C901 - one route table, read top to bottom
    """Schemes, project categories, components, paged create metadata and bulk create."""
    router = APIRouter(prefix=JIRA_PREFIX, tags=["built-in tracker (Jira REST v2)"])

    # -- schemes: one of each, fixed (trackers/local/schemes.py) ------------------------------

    @router.get("/permissionscheme")
    async def permission_schemes(
        services: ServicesDep, actor: PrincipalDep, expand: Expand = None
    ) -> JsonDict:
        return await read(services, actor, schemes.permission_schemes, expand)

    @router.get("/permissionscheme/{scheme_id}")
    async def permission_scheme(
        scheme_id: str, services: ServicesDep, actor: PrincipalDep, expand: Expand = None
    ) -> JsonDict:
        return await read(services, actor, schemes.permission_scheme, scheme_id, expand)

    @router.get("/issuesecurityschemes")
    async def issue_security_schemes(services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, schemes.issue_security_schemes)

    @router.get("/issuesecurityschemes/{scheme_id}")
    async def issue_security_scheme(
        scheme_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await read(services, actor, schemes.issue_security_scheme, scheme_id)

    @router.get("/notificationscheme")
    async def notification_schemes(
        services: ServicesDep,
        actor: PrincipalDep,
        start_at: StartAt = 0,
        max_results: MaxResults = 50,
        expand: Expand = None,
    ) -> JsonDict:
        return await read(
            services,
            actor,
            schemes.notification_schemes,
            start_at,
            min(max_results, MAX_PAGE),
            expand,
        )

    @router.get("/notificationscheme/{scheme_id}")
    async def notification_scheme(
        scheme_id: str, services: ServicesDep, actor: PrincipalDep, expand: Expand = None
    ) -> JsonDict:
        return await read(services, actor, schemes.notification_scheme, scheme_id, expand)

    @router.get("/project/{key}/permissionscheme")
    async def project_permission_scheme(
        key: str, services: ServicesDep, actor: PrincipalDep, expand: Expand = None
    ) -> JsonDict:
        return await read(services, actor, schemes.project_scheme, key, "permissionscheme", expand)

    @router.get("/project/{key}/notificationscheme")
    async def project_notification_scheme(
        key: str, services: ServicesDep, actor: PrincipalDep, expand: Expand = None
    ) -> JsonDict:
        return await read(
            services, actor, schemes.project_scheme, key, "notificationscheme", expand
        )

    @router.get("/project/{key}/issuesecuritylevelscheme")
    async def project_issue_security_scheme(
        key: str, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await read(
            services, actor, schemes.project_scheme, key, "issuesecuritylevelscheme", None
        )

    # -- project categories ---------------------------------------------------------------

    @router.get("/projectCategory")
    async def categories(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, projects.list_categories)

    @router.post("/projectCategory", status_code=201)
    async def create_category(
        body: CategoryBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(
            services, actor, projects.create_category, body.model_dump(exclude_none=True)
        )

    @router.get("/projectCategory/{category_id}")
    async def category(category_id: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, projects.get_category, category_id)

    # -- components (POST component is in routers.py) -------------------------------------

    @router.get("/component/{component_id}")
    async def component(component_id: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, projects.get_component, component_id)

    @router.put("/component/{component_id}")
    async def edit_component(
        component_id: str, body: ComponentBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        # Unset, not None: an explicit null lead clears the lead.
        fields = body.model_dump(exclude_unset=True)
        return await write(services, actor, projects.edit_component, component_id, fields)

    @router.delete("/component/{component_id}", status_code=204)
    async def delete_component(
        component_id: str,
        services: ServicesDep,
        actor: PrincipalDep,
        move_issues_to: Annotated[str | None, Query(alias="moveIssuesTo")] = None,
    ) -> Response:
        await write(services, actor, projects.delete_component, component_id, move_issues_to)
        return Response(status_code=204)

    # -- Jira 8.4's paged create metadata ---------------------------------------------------

    @router.get("/issue/createmeta/{project_key}/issuetypes")
    async def create_meta_issue_types(
        project_key: str,
        services: ServicesDep,
        actor: PrincipalDep,
        start_at: StartAt = 0,
        max_results: MaxResults = 50,
    ) -> JsonDict:
        return await read(
            services,
            actor,
            meta.create_meta_issue_types,
            project_key,
            start_at,
            min(max_results, MAX_PAGE),
        )

    @router.get("/issue/createmeta/{project_key}/issuetypes/{issue_type_id}")
    async def create_meta_fields(
        project_key: str,
        issue_type_id: str,
        services: ServicesDep,
        actor: PrincipalDep,
        start_at: StartAt = 0,
        max_results: MaxResults = 50,
    ) -> JsonDict:
        return await read(
            services,
            actor,
            meta.create_meta_fields,
            project_key,
            issue_type_id,
            start_at,
            min(max_results, MAX_PAGE),
        )

    # -- bulk create ------------------------------------------------------------------------

    @router.post("/issue/bulk", status_code=201)
    async def create_issues(
        body: BulkIssueBody, services: ServicesDep, actor: PrincipalDep
    ) -> JSONResponse:
        result = await run_in_threadpool(_create_each, services, actor, body.issueUpdates)
        # Jira answers 201 when any issue was created, 400 (the same body) when none was.
        failed_all = bool(result["errors"]) and not result["issues"]
        return JSONResponse(result, status_code=400 if failed_all else 201)

    return router


def _create_each(services: Services, actor: Principal, items: list[JsonDict]) -> JsonDict:
    """Create each item in its own transaction, as Jira does: a bad item is reported with
    its index (``failedElementNumber``) and status, the others are created."""
    created: list[JsonDict] = []
    errors: list[JsonDict] = []
    for number, item in enumerate(items):
        try:
            body = IssueBody.model_validate(item)
            with services.tracker.write(actor) as op:
                created.append(issues.create_issue(op, body.fields, body.update))
        except ValidationError as exc:
            fields = {".".join(str(p) for p in e["loc"]) or "body": e["msg"] for e in exc.errors()}
            errors.append(_failure(number, 400, "The issue is not valid.", fields))
        except RequestError as exc:
            # Only the caller's mistakes are one item's: the store failing stops the request.
            status = nearest(JIRA_STATUSES, exc) or 400
            errors.append(_failure(number, status, exc.message, exc.field_errors))
    return {"issues": created, "errors": errors}


def _failure(number: int, status: int, message: str, fields: Mapping[str, str]) -> JsonDict:
    return {
        "status": status,
        "elementErrors": jira_error(status, message, fields),
        "failedElementNumber": number,
    }
