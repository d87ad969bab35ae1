"""More of an issue's Jira REST v2 resources: its assignee, work logs and remote links.

Mounted next to ``routers.build_router()`` under ``/rest/api/2`` (and so under Jira's
``/rest/api/latest`` alias too, see ``latest.py``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from fastapi.responses import JSONResponse

from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.api.jira.bodies import AssigneeBody, WorklogBody
from issuesync.api.jira.operations import read, write
from issuesync.api.jira.routers import JIRA_PREFIX
from issuesync.trackers.local import assignment, remotelinks, worklogs
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.timetracking import Adjustment, WorklogChange

# Jira's estimate parameters of the work-log resources (see ``timetracking.py``).
AdjustEstimate = Annotated[str | None, Query(alias="adjustEstimate", max_length=16)]
NewEstimate = Annotated[str | None, Query(alias="newEstimate", max_length=64)]
GlobalId = Annotated[str | None, Query(alias="globalId", max_length=255)]


def build_issue_extras_router() -> APIRouter:  # noqa: C901 - one route table, read top to bottom
    """The assignee, work-log and remote-link routes of an issue."""
    router = APIRouter(prefix=JIRA_PREFIX, tags=["built-in tracker (Jira REST v2)"])

    @router.put("/issue/{key}/assignee", status_code=204)
    async def assign(
        key: str, body: AssigneeBody, services: ServicesDep, actor: PrincipalDep
    ) -> Response:
        await write(services, actor, assignment.assign_issue, key, body.username())
        return Response(status_code=204)

    # -- work logs ------------------------------------------------------------------------

    @router.get("/issue/{key}/worklog")
    async def list_worklogs(key: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, worklogs.list_worklogs, key)

    @router.post("/issue/{key}/worklog", status_code=201)
    async def add_worklog(
        key: str,
        body: WorklogBody,
        services: ServicesDep,
        actor: PrincipalDep,
        adjust_estimate: AdjustEstimate = None,
        new_estimate: NewEstimate = None,
        reduce_by: Annotated[str | None, Query(alias="reduceBy", max_length=64)] = None,
    ) -> JsonDict:
        adjustment = Adjustment.parse(
            WorklogChange.ADD,
            {"adjustEstimate": adjust_estimate, "newEstimate": new_estimate, "reduceBy": reduce_by},
        )
        values = body.model_dump(exclude_none=True)
        return await write(services, actor, worklogs.add_worklog, key, values, adjustment)

    @router.get("/issue/{key}/worklog/{worklog_id}")
    async def get_worklog(
        key: str, worklog_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await read(services, actor, worklogs.get_worklog, key, worklog_id)

    @router.put("/issue/{key}/worklog/{worklog_id}")
    async def update_worklog(
        key: str,
        worklog_id: str,
        body: WorklogBody,
        services: ServicesDep,
        actor: PrincipalDep,
        adjust_estimate: AdjustEstimate = None,
        new_estimate: NewEstimate = None,
    ) -> JsonDict:
        adjustment = Adjustment.parse(
            WorklogChange.UPDATE, {"adjustEstimate": adjust_estimate, "newEstimate": new_estimate}
        )
        values = body.model_dump(exclude_none=True)
        return await write(
            services, actor, worklogs.update_worklog, key, worklog_id, values, adjustment
        )

    @router.delete("/issue/{key}/worklog/{worklog_id}", status_code=204)
    async def delete_worklog(
        key: str,
        worklog_id: str,
        services: ServicesDep,
        actor: PrincipalDep,
        adjust_estimate: AdjustEstimate = None,
        new_estimate: NewEstimate = None,
        increase_by: Annotated[str | None, Query(alias="increaseBy", max_length=64)] = None,
    ) -> Response:
        adjustment = Adjustment.parse(
            WorklogChange.DELETE,
            {
                "adjustEstimate": adjust_estimate,
                "newEstimate": new_estimate,
                "increaseBy": increase_by,
            },
        )
        await write(services, actor, worklogs.delete_worklog, key, worklog_id, adjustment)
        return Response(status_code=204)

    # -- remote links ---------------------------------------------------------------------

    @router.get("/issue/{key}/remotelink")
    async def remote_links(
        key: str, services: ServicesDep, actor: PrincipalDep, global_id: GlobalId = None
    ) -> Any:  # noqa: ANN401 - a list, or the one link of globalId, as Jira answers
        return await read(services, actor, remotelinks.list_remote_links, key, global_id)

    @router.post("/issue/{key}/remotelink", status_code=201)
    async def add_remote_link(
        key: str, body: dict[str, Any], services: ServicesDep, actor: PrincipalDep
    ) -> JSONResponse:
        made, created = await write(
            services, actor, remotelinks.create_or_update_remote_link, key, body
        )
        return JSONResponse(made, status_code=201 if created else 200)

    @router.delete("/issue/{key}/remotelink", status_code=204)
    async def delete_remote_link_by_global_id(
        key: str,
        services: ServicesDep,
        actor: PrincipalDep,
        global_id: Annotated[str, Query(alias="globalId", min_length=1, max_length=255)],
    ) -> Response:
        await write(services, actor, remotelinks.delete_remote_link_by_global_id, key, global_id)
        return Response(status_code=204)

    @router.get("/issue/{key}/remotelink/{link_id}")
    async def remote_link(
        key: str, link_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await read(services, actor, remotelinks.get_remote_link, key, link_id)

    @router.put("/issue/{key}/remotelink/{link_id}", status_code=204)
    async def update_remote_link(
        key: str,
        link_id: str,
        body: dict[str, Any],
        services: ServicesDep,
        actor: PrincipalDep,
    ) -> Response:
        await write(services, actor, remotelinks.update_remote_link, key, link_id, body)
        return Response(status_code=204)

    @router.delete("/issue/{key}/remotelink/{link_id}", status_code=204)
    async def delete_remote_link(
        key: str, link_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> Response:
        await write(services, actor, remotelinks.delete_remote_link, key, link_id)
        return Response(status_code=204)

    return router
