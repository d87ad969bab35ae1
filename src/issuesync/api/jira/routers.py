"""The built-in tracker's Jira REST v2 compatible routes under ``/rest/api/2``."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from issuesync import __version__
from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.api.jira.bodies import (
    MAX_INT,
    CommentBody,
    ComponentBody,
    CustomFieldBody,
    IssueBody,
    LinkBody,
    ProjectBody,
    SearchBody,
    TransitionBody,
    VersionBody,
)
from issuesync.api.jira.operations import read, write
from issuesync.errors import InvalidInputError, PermissionDeniedError
from issuesync.store.base import now_ms
from issuesync.trackers.local import catalog, issues, meta, subresources
from issuesync.trackers.local.context import Operation
from issuesync.trackers.local.fielddefs import JsonDict
from issuesync.trackers.local.jiratime import format_ms
from issuesync.trackers.local.search import search

JIRA_PREFIX = "/rest/api/2"

StartAt = Annotated[int, Query(alias="startAt", ge=0, le=MAX_INT)]
MaxResults = Annotated[int, Query(alias="maxResults", ge=0, le=MAX_INT)]


def build_router() -> APIRouter:  # noqa: C901, PLR0915 - one route table, read top to bottom
    """Every route of the Jira-compatible API."""
    router = APIRouter(prefix=JIRA_PREFIX, tags=["built-in tracker (Jira REST v2)"])

    @router.get("/serverInfo")
    def server_info(services: ServicesDep, _: PrincipalDep) -> JsonDict:
        return {
            "baseUrl": services.settings.resolved_base_url,
            "version": "8.20.0",
            "versionNumbers": [8, 20, 0],
            "deploymentType": "Server",
            "buildNumber": 820000,
            "serverTitle": f"issuesync {__version__} built-in tracker",
            "serverTime": format_ms(now_ms()),
        }

    @router.get("/myself")
    async def myself(services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        user = await read(services, actor, catalog.get_user, actor.name)
        user["groups"] = {
            "size": 1,
            "items": [{"name": "jira-administrators" if actor.is_admin else "jira-users"}],
        }
        return user

    # -- projects and their parts ---------------------------------------------------------

    @router.get("/project")
    async def projects(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, catalog.list_projects)

    @router.post("/project", status_code=201)
    async def create_project(
        body: ProjectBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(
            services, actor, catalog.create_project, body.model_dump(exclude_none=True)
        )

    @router.get("/project/{key}")
    async def project(key: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, catalog.get_project, key)

    @router.get("/project/{key}/statuses")
    async def project_statuses(
        key: str, services: ServicesDep, actor: PrincipalDep
    ) -> list[JsonDict]:
        return await read(services, actor, catalog.project_statuses, key)

    @router.get("/project/{key}/components")
    async def project_components(
        key: str, services: ServicesDep, actor: PrincipalDep
    ) -> list[JsonDict]:
        return await read(services, actor, catalog.list_components, key)

    @router.get("/project/{key}/versions")
    async def project_versions(
        key: str, services: ServicesDep, actor: PrincipalDep
    ) -> list[JsonDict]:
        return await read(services, actor, catalog.list_versions, key)

    @router.post("/component", status_code=201)
    async def create_component(
        body: ComponentBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(
            services, actor, catalog.create_component, body.model_dump(exclude_none=True)
        )

    @router.post("/version", status_code=201)
    async def create_version(
        body: VersionBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(
            services, actor, catalog.create_version, body.model_dump(exclude_none=True)
        )

    @router.get("/version/{version_id}")
    async def version(version_id: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, catalog.get_version, version_id)

    # -- lists ------------------------------------------------------------------------------

    @router.get("/issuetype")
    async def issue_types(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, catalog.list_issue_types)

    @router.get("/priority")
    async def priorities(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, catalog.list_priorities)

    @router.get("/status")
    async def statuses(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, catalog.list_statuses)

    @router.get("/resolution")
    async def resolutions(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, catalog.list_resolutions)

    # One of each by id (status by name too): the targets of their self links.
    for path, getter in (
        ("/issuetype/{row}", catalog.get_issue_type),
        ("/priority/{row}", catalog.get_priority),
        ("/status/{row}", catalog.get_status),
        ("/resolution/{row}", catalog.get_resolution),
        ("/issueLinkType/{row}", catalog.get_link_type),
    ):
        router.add_api_route(path, _reference_route(getter), methods=["GET"])

    @router.get("/field")
    async def fields(services: ServicesDep, actor: PrincipalDep) -> list[JsonDict]:
        return await read(services, actor, catalog.list_fields)

    @router.post("/field", status_code=201)
    async def create_field(
        body: CustomFieldBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(
            services, actor, catalog.create_custom_field, body.model_dump(exclude_none=True)
        )

    @router.get("/issueLinkType")
    async def link_types(services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, catalog.list_link_types)

    @router.get("/user")
    async def user(
        services: ServicesDep, actor: PrincipalDep, username: Annotated[str, Query(min_length=1)]
    ) -> JsonDict:
        return await read(services, actor, catalog.get_user, username)

    @router.get("/user/search")
    async def user_search(
        services: ServicesDep,
        actor: PrincipalDep,
        username: Annotated[str, Query()] = "",
        start_at: StartAt = 0,
        max_results: MaxResults = 50,
    ) -> list[JsonDict]:
        return await read(
            services, actor, catalog.search_users, username, start_at, min(max_results, 1000)
        )

    # -- issues -----------------------------------------------------------------------------

    @router.post("/issue", status_code=201)
    async def create_issue(body: IssueBody, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await write(services, actor, issues.create_issue, body.fields, body.update)

    # Before "/issue/{key}", which would take "createmeta" for an issue key.
    @router.get("/issue/createmeta")
    async def create_meta(
        services: ServicesDep,
        actor: PrincipalDep,
        project_keys: Annotated[list[str] | None, Query(alias="projectKeys")] = None,
        project_ids: Annotated[list[str] | None, Query(alias="projectIds")] = None,
        issuetype_names: Annotated[list[str] | None, Query(alias="issuetypeNames")] = None,
        issuetype_ids: Annotated[list[str] | None, Query(alias="issuetypeIds")] = None,
        expand: Annotated[str | None, Query()] = None,
    ) -> JsonDict:
        with_fields = "projects.issuetypes.fields" in (expand or "")
        return await read(
            services,
            actor,
            partial(meta.create_meta, with_fields=with_fields),
            [*(project_keys or []), *(project_ids or [])],
            issuetype_names or [],
            issuetype_ids or [],
        )

    @router.get("/issue/{key}/editmeta")
    async def edit_meta(key: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, meta.edit_meta, key)

    @router.get("/mypermissions")
    async def my_permissions(
        services: ServicesDep,
        actor: PrincipalDep,
        project_key: Annotated[str | None, Query(alias="projectKey")] = None,
        permissions: Annotated[str | None, Query()] = None,
    ) -> JsonDict:
        return await read(services, actor, meta.my_permissions, project_key, permissions)

    @router.get("/issue/{key}")
    async def get_issue(
        key: str,
        services: ServicesDep,
        actor: PrincipalDep,
        fields: Annotated[list[str] | None, Query()] = None,
        expand: Annotated[str | None, Query()] = None,
    ) -> JsonDict:
        return await read(services, actor, issues.get_issue, key, fields, expand)

    @router.put("/issue/{key}", status_code=204)
    async def edit_issue(
        key: str,
        body: IssueBody,
        services: ServicesDep,
        actor: PrincipalDep,
        notify_users: Annotated[str | None, Query(alias="notifyUsers", max_length=16)] = None,
    ) -> Response:
        # As Jira (a Java Boolean): anything but "true" is false; absent is true.
        notify = notify_users is None or notify_users.lower() == "true"
        await write(
            services,
            actor,
            partial(issues.edit_issue, notify=notify),
            key,
            body.fields,
            body.update,
        )
        return Response(status_code=204)

    @router.delete("/issue/{key}", status_code=204)
    async def delete_issue(
        key: str,
        services: ServicesDep,
        actor: PrincipalDep,
        delete_subtasks: Annotated[bool, Query(alias="deleteSubtasks")] = False,
    ) -> Response:
        freed = await write(services, actor, issues.delete_issue, key, delete_subtasks)
        services.tracker.forget_blobs(freed)
        return Response(status_code=204)

    @router.get("/issue/{key}/transitions")
    async def transitions(key: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, issues.list_transitions, key)

    @router.post("/issue/{key}/transitions", status_code=204)
    async def transition(
        key: str, body: TransitionBody, services: ServicesDep, actor: PrincipalDep
    ) -> Response:
        await write(
            services, actor, issues.do_transition, key, body.transition, body.fields, body.update
        )
        return Response(status_code=204)

    # -- comments ---------------------------------------------------------------------------

    @router.get("/issue/{key}/comment")
    async def comments(
        key: str,
        services: ServicesDep,
        actor: PrincipalDep,
        start_at: StartAt = 0,
        max_results: MaxResults = 50,
    ) -> JsonDict:
        return await read(
            services, actor, subresources.list_comments, key, start_at, min(max_results, 1000)
        )

    @router.post("/issue/{key}/comment", status_code=201)
    async def add_comment(
        key: str, body: CommentBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(services, actor, subresources.add_comment, key, body.model_dump())

    @router.get("/issue/{key}/comment/{comment_id}")
    async def comment(
        key: str, comment_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await read(services, actor, subresources.get_comment, key, comment_id)

    @router.put("/issue/{key}/comment/{comment_id}")
    async def edit_comment(
        key: str, comment_id: str, body: CommentBody, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await write(
            services,
            actor,
            subresources.edit_comment,
            key,
            comment_id,
            body.model_dump(exclude_unset=True),  # no visibility given: the comment keeps its
        )

    @router.delete("/issue/{key}/comment/{comment_id}", status_code=204)
    async def delete_comment(
        key: str, comment_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> Response:
        await write(services, actor, subresources.delete_comment, key, comment_id)
        return Response(status_code=204)

    # -- attachments ------------------------------------------------------------------------

    @router.post("/issue/{key}/attachments")
    async def add_attachments(
        key: str,
        request: Request,
        services: ServicesDep,
        actor: PrincipalDep,
        atlassian_token: Annotated[str | None, Header(alias="X-Atlassian-Token")] = None,
    ) -> list[JsonDict]:
        if (atlassian_token or "").lower() != "no-check":
            raise PermissionDeniedError(
                "XSRF check failed: send the header 'X-Atlassian-Token: no-check'."
            )
        # The request guard has bounded the upload's size; the blob store bounds each file.
        form = await request.form()
        uploads = [v for k, v in form.multi_items() if k == "file" and isinstance(v, UploadFile)]
        if not uploads:
            raise InvalidInputError(
                "No file was sent: use multipart/form-data with a part named 'file'."
            )
        files = [
            (u.filename or "attachment", u.content_type or "application/octet-stream", u.file)
            for u in uploads
        ]
        try:
            return await run_in_threadpool(services.tracker.attach, actor, key, files)
        finally:
            await form.close()

    # Before "/attachment/{attachment_id}", which would take "meta" for an id.
    @router.get("/attachment/meta")
    def attachment_meta(services: ServicesDep, _: PrincipalDep) -> JsonDict:
        return {"enabled": True, "uploadLimit": services.settings.max_attachment_size}

    @router.get("/attachment/{attachment_id}")
    async def attachment(
        attachment_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> JsonDict:
        return await read(services, actor, subresources.get_attachment, attachment_id)

    @router.delete("/attachment/{attachment_id}", status_code=204)
    def delete_attachment(
        attachment_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> Response:
        services.tracker.detach(actor, attachment_id)
        return Response(status_code=204)

    @router.get("/attachment/content/{attachment_id}", response_class=FileResponse)
    def attachment_content(
        attachment_id: str, services: ServicesDep, actor: PrincipalDep
    ) -> FileResponse:
        return _content(services, actor, attachment_id)

    # -- watchers, links (work logs: issue_extras.py) ---------------------------------------

    @router.get("/issue/{key}/watchers")
    async def watchers(key: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, subresources.list_watchers, key)

    @router.post("/issue/{key}/watchers", status_code=204)
    async def add_watcher(
        key: str, request: Request, services: ServicesDep, actor: PrincipalDep
    ) -> Response:
        # Jira's body is a bare JSON string (the user name); an empty body means the caller.
        raw = await request.body()
        username = _json_string(raw) if raw.strip() else None

        def run() -> None:
            with services.tracker.write(actor) as op:
                subresources.add_watcher(op, key, username)

        await run_in_threadpool(run)
        return Response(status_code=204)

    @router.delete("/issue/{key}/watchers", status_code=204)
    async def remove_watcher(
        key: str,
        services: ServicesDep,
        actor: PrincipalDep,
        username: Annotated[str, Query(min_length=1)],
    ) -> Response:
        await write(services, actor, subresources.remove_watcher, key, username)
        return Response(status_code=204)

    @router.post("/issueLink", status_code=201)
    async def create_link(body: LinkBody, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await write(
            services, actor, subresources.create_link, body.model_dump(exclude_none=True)
        )

    @router.get("/issueLink/{link_id}")
    async def link(link_id: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, subresources.link_json, link_id)

    @router.delete("/issueLink/{link_id}", status_code=204)
    async def delete_link(link_id: str, services: ServicesDep, actor: PrincipalDep) -> Response:
        await write(services, actor, subresources.delete_link, link_id)
        return Response(status_code=204)

    # -- search -----------------------------------------------------------------------------

    @router.get("/search")
    async def search_get(
        services: ServicesDep,
        actor: PrincipalDep,
        jql: str = "",
        start_at: StartAt = 0,
        max_results: MaxResults = 50,
        fields: Annotated[list[str] | None, Query()] = None,
        expand: Annotated[str | None, Query()] = None,
        validate_query: Annotated[str | None, Query(alias="validateQuery")] = None,
    ) -> JsonDict:
        find = partial(search, validate=_validates(validate_query))
        return await read(services, actor, find, jql, start_at, max_results, fields, expand)

    @router.post("/search")
    async def search_post(body: SearchBody, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(
            services,
            actor,
            partial(search, validate=_validates(body.validateQuery)),
            body.jql,
            body.startAt,
            body.maxResults,
            body.fields,
            body.expand,
        )

    return router


def _reference_route(getter: Callable[[Operation, str], JsonDict]) -> Callable[..., object]:
    async def one(row: str, services: ServicesDep, actor: PrincipalDep) -> JsonDict:
        return await read(services, actor, getter, row)

    return one


def build_content_router() -> APIRouter:
    """Jira's attachment content URL, ``/secure/attachment/{id}/{filename}``."""
    router = APIRouter(tags=["built-in tracker (Jira REST v2)"])

    @router.get("/secure/attachment/{attachment_id}/{filename}", response_class=FileResponse)
    def content(
        attachment_id: str, filename: str, services: ServicesDep, actor: PrincipalDep
    ) -> FileResponse:
        del filename  # Jira puts it in the URL for browsers; the id is what counts
        return _content(services, actor, attachment_id)

    return router


def _content(services: ServicesDep, actor: PrincipalDep, attachment_id: str) -> FileResponse:
    with services.tracker.read(actor) as op:
        row = subresources.attachment(op, attachment_id)
        sha, filename, mime = row.sha256, row.filename, row.mime_type
    return FileResponse(services.tracker.blobs.path(sha), media_type=mime, filename=filename)


def _validates(validate_query: bool | str | None) -> bool:
    """Jira's ``validateQuery``: true unless it says false (or "none"/"warn", as Jira 9 does)."""
    if isinstance(validate_query, str):
        return validate_query.strip().lower() not in {"false", "none", "warn"}
    return validate_query is not False


def _json_string(raw: bytes) -> str:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise InvalidInputError("The body must be a JSON string: the user name.") from exc
    if not isinstance(value, str) or not value:
        raise InvalidInputError("The body must be a JSON string: the user name.")
    return value
