"""The node API's routes: what a partner node calls (JWT), pairing, and the admins' routes.

``/rest/issuehub/2.4/relations/{relationName}/…`` is seed 003's (and what the seed
leaves out: blobs' content, acknowledgements, nudges, revocation);
``/rest/issuehub/2.4/pairings`` takes an invitation's token; ``/rest/issuehub/2.4/admin/…``
is for this node's administrators (HTTP Basic or a token, like the other APIs): relations,
invitations, the sync queue's counts and the sync errors, for a monitoring tool such as
Zabbix. ``docs/issuehub.md`` documents every route.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Body, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from issuesync.api.deps import PrincipalDep, ServicesDep
from issuesync.api.issuehub.nodeauth import served
from issuesync.application import relations
from issuesync.domain.ranges import whole_number
from issuesync.domain.relation import API_PREFIX
from issuesync.engine.transports.base import BlobArea
from issuesync.engine.transports.nodes import serving
from issuesync.errors import InvalidInputError
from issuesync.store.base import now_ms
from issuesync.store.relations import RelationRow

_SHA256: Final = re.compile(r"^[0-9a-f]{64}$")
RelationName = Annotated[str, Path(alias="relationName", max_length=64)]
AdminName = Annotated[str, Path(max_length=64)]
Limit = Annotated[int, Query(ge=1, le=serving.MAX_PAGE)]


# A row id of this node's store: a 64-bit signed integer in both databases.
MAX_EVENT_ID: Final = 2**63 - 1
EventId = Annotated[
    int, whole_number(0, MAX_EVENT_ID, " (a syncEventId)"), Field(ge=0, le=MAX_EVENT_ID)
]


class Acknowledgement(BaseModel):
    """The sync events (requests or responses) a partner has recorded."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    sync_event_ids: list[EventId] = Field(alias="syncEventIds", max_length=serving.MAX_ACKNOWLEDGED)


def build_node_router() -> APIRouter:
    """The routes a partner node calls, each with its request token."""
    router = APIRouter(prefix=f"{API_PREFIX}/relations/{{relationName}}", tags=["issuehub nodes"])

    @router.get("/syncevents/syncrequests")
    def syncrequests(
        request: Request,
        services: ServicesDep,
        name: RelationName,
        limit: Limit = serving.DEFAULT_PAGE,
    ) -> Response:
        """This node's sync events the partner has not acknowledged, oldest first."""
        return served(
            request,
            services,
            name,
            lambda s, r: serving.sync_events(s, r, responses=False, limit=limit),
        )

    @router.get("/syncrequests/syncresponses")
    def syncresponses(
        request: Request,
        services: ServicesDep,
        name: RelationName,
        limit: Limit = serving.DEFAULT_PAGE,
    ) -> Response:
        """This node's answers to the partner's sync requests (the twins' keys, trace ids)."""
        return served(
            request,
            services,
            name,
            lambda s, r: serving.sync_events(s, r, responses=True, limit=limit),
        )

    @router.get("/syncevents/blobrequests")
    def blobrequests(
        request: Request,
        services: ServicesDep,
        name: RelationName,
        limit: Limit = serving.DEFAULT_PAGE,
    ) -> Response:
        """The blobs of this node's unacknowledged sync events."""
        return served(request, services, name, lambda s, r: serving.blob_requests(s, r, limit))

    @router.get("/syncrequests/blobresponses")
    def blobresponses(request: Request, services: ServicesDep, name: RelationName) -> Response:
        """The partner's blobs that arrived here intact."""
        return served(request, services, name, serving.blob_responses)

    @router.get("/syncrequests/errorresponses")
    def errorresponses(request: Request, services: ServicesDep, name: RelationName) -> Response:
        """The partner's sync requests that failed here."""
        return served(request, services, name, serving.error_responses)

    @router.get("/syncrequests/bloberrorresponses")
    def bloberrorresponses(request: Request, services: ServicesDep, name: RelationName) -> Response:
        """The partner's blobs that did not arrive intact here."""
        return served(request, services, name, serving.blob_error_responses)

    return router


def build_control_router() -> APIRouter:
    """What the seed leaves out and the exchange needs: acknowledgements, blobs' content,
    nudges and revocation (each with the partner's request token)."""
    router = APIRouter(prefix=f"{API_PREFIX}/relations/{{relationName}}", tags=["issuehub nodes"])

    @router.post("/syncevents/acknowledgements")
    def acknowledgements(
        request: Request,
        services: ServicesDep,
        name: RelationName,
        body: Annotated[Acknowledgement, Body()],
    ) -> Response:
        """The partner recorded these sync events: they are not served again."""

        def work(session: Session, relation: RelationRow) -> dict[str, int]:
            count = serving.acknowledge(session, relation, body.sync_event_ids, now_ms())
            return {"acknowledged": count}

        return served(request, services, name, work, writes=True)

    @router.get("/blobs/{checksum}")
    def blob(
        request: Request,
        services: ServicesDep,
        name: RelationName,
        checksum: Annotated[str, Path(max_length=64)],
    ) -> Response:
        """A blob's content (``application/octet-stream``), for one of this node's events."""
        if not _SHA256.match(checksum):
            raise InvalidInputError("A blob is named by its sha256 (64 hex digits).")

        def work(session: Session, relation: RelationRow) -> bool:
            return serving.offers_blob(session, relation, checksum)

        def content(offered: bool) -> Response:
            area = BlobArea(services.settings.transit_dir)
            if not offered or not area.has(checksum):
                return JSONResponse(
                    {"status": 404, "message": f"This node offers no blob {checksum}."},
                    status_code=404,
                )
            # As stored, not checked here: the partner checks what it gets (and reports a
            # mismatch as a blob error response, which is how a damaged file shows).
            return FileResponse(
                area.store.path(checksum),
                media_type="application/octet-stream",
                headers={"X-Checksum-SHA256": checksum},
            )

        return served(request, services, name, work, render=content)

    @router.post("/nudges", status_code=204)
    def nudge(request: Request, services: ServicesDep, name: RelationName) -> Response:
        """The partner has new sync events: this node pulls at once."""

        def work(_: Session, relation: RelationRow) -> None:
            relations.nudged(relation, now_ms())

        return served(
            request, services, name, work, render=lambda _: Response(status_code=204), writes=True
        )

    @router.post("/revocation", status_code=204)
    def revocation(request: Request, services: ServicesDep, name: RelationName) -> Response:
        """The partner ended the relation: it is broken here, with the seed's reason."""

        def work(_: Session, relation: RelationRow) -> None:
            relations.partner_revoked(relation, now_ms())

        return served(
            request, services, name, work, render=lambda _: Response(status_code=204), writes=True
        )

    return router


class PairingBody(BaseModel):
    """Node B's acceptance of an invitation (``docs/issuehub.md``)."""

    model_config = ConfigDict(extra="forbid")
    relation: str = Field(min_length=1, max_length=64)
    token: str = Field(min_length=1, max_length=200)
    node: str = Field(min_length=1, max_length=64)
    url: str = Field(min_length=1, max_length=1000)
    projectKey: str = Field(min_length=1, max_length=255)  # noqa: N815 - the wire's name
    publicKey: str = Field(min_length=1, max_length=200)  # noqa: N815


class RelationBody(BaseModel):
    """A new relation: its name (the relationKey), this node's project, where it is reached."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64)
    projectKey: str = Field(min_length=1, max_length=255)  # noqa: N815 - the wire's name
    url: str | None = Field(default=None, max_length=1000)
    interval: str = Field(default="5s", max_length=16)
    hours: int = Field(default=24, ge=1, le=relations.MAX_INVITATION_HOURS)


class AcceptBody(BaseModel):
    """An invitation code accepted for this node's project."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(min_length=1, max_length=4096)
    projectKey: str = Field(min_length=1, max_length=255)  # noqa: N815
    url: str | None = Field(default=None, max_length=1000)
    caBundle: str | None = Field(default=None, max_length=1024)  # noqa: N815


def build_admin_router() -> APIRouter:
    """Pairing, and the administrators' routes."""
    router = APIRouter(prefix=API_PREFIX, tags=["issuehub admin"])

    @router.post("/pairings")
    def pairings(services: ServicesDep, body: PairingBody) -> dict[str, Any]:
        """Node B accepts this node's invitation (the token is the credential)."""
        return relations.pair(services, body.model_dump())

    @router.get("/admin/relations")
    def list_relations(services: ServicesDep, principal: PrincipalDep) -> list[dict[str, Any]]:
        """Every relation of this node, with its state and sync queue."""
        principal.require_admin()
        return [view.to_json() for view in relations.list_relations(services)]

    @router.post("/admin/relations", status_code=201)
    def create_relation(
        services: ServicesDep, principal: PrincipalDep, body: RelationBody
    ) -> dict[str, Any]:
        """A new relation and its invitation code (shown once)."""
        principal.require_admin()
        invited = relations.invite(
            services,
            name=body.name,
            project_key=body.projectKey,
            actor=principal.name,
            url=body.url,
            interval=body.interval,
            hours=body.hours,
        )
        return invited.relation.to_json() | {"invitation": invited.code}

    @router.post("/admin/relations/accept", status_code=201)
    async def accept(
        services: ServicesDep, principal: PrincipalDep, body: AcceptBody
    ) -> dict[str, Any]:
        """Accept another node's invitation for one of this node's projects."""
        principal.require_admin()
        view = await run_in_threadpool(
            lambda: relations.accept(
                services,
                code=body.code,
                project_key=body.projectKey,
                actor=principal.name,
                url=body.url,
                ca_bundle=body.caBundle,
            )
        )
        return view.to_json()

    @router.get("/admin/relations/{name}")
    def get_relation(
        services: ServicesDep, principal: PrincipalDep, name: AdminName
    ) -> dict[str, Any]:
        """One relation."""
        principal.require_admin()
        return relations.get_relation(services, name).to_json()

    @router.post("/admin/relations/{name}/invitation")
    def new_invitation(
        services: ServicesDep, principal: PrincipalDep, name: AdminName
    ) -> dict[str, str]:
        """A new invitation code for a relation not yet paired."""
        principal.require_admin()
        return {"invitation": relations.reinvite(services, name)}

    @router.post("/admin/relations/{name}/revoke")
    async def revoke(
        services: ServicesDep, principal: PrincipalDep, name: AdminName
    ) -> dict[str, Any]:
        """End the relation (the partner is told; its requests get the seed's 400)."""
        principal.require_admin()
        view = await run_in_threadpool(relations.revoke, services, name, actor=principal.name)
        return view.to_json()

    @router.delete("/admin/relations/{name}", status_code=204)
    def delete_relation(
        services: ServicesDep, principal: PrincipalDep, name: AdminName
    ) -> Response:
        """Forget a revoked or broken relation, with its integration."""
        principal.require_admin()
        relations.delete(services, name, actor=principal.name)
        return Response(status_code=204)

    return router


def build_monitoring_router() -> APIRouter:
    """The sync queue and the sync errors, for administrators and their monitoring."""
    router = APIRouter(prefix=API_PREFIX, tags=["issuehub admin"])

    @router.get("/admin/syncqueue")
    def sync_queue(services: ServicesDep, principal: PrincipalDep) -> dict[str, Any]:
        """Event counts, summed and per relation (flat JSON for a Zabbix HTTP agent)."""
        principal.require_admin()
        return relations.sync_queue(services)

    @router.get("/admin/syncerrors")
    def sync_errors(
        services: ServicesDep,
        principal: PrincipalDep,
        relation: Annotated[str | None, Query(max_length=64)] = None,
    ) -> list[dict[str, Any]]:
        """Every sync error: relation, issue, reason, time; retry or discard each."""
        principal.require_admin()
        return relations.sync_errors(services, relation)

    @router.post("/admin/syncerrors/{errorId}/retry")
    def retry(
        services: ServicesDep,
        principal: PrincipalDep,
        error_id: Annotated[str, Path(alias="errorId", max_length=32)],
    ) -> dict[str, Any]:
        """Apply (or fetch) it again."""
        principal.require_admin()
        return relations.settle_error(services, error_id, retry=True)

    @router.post("/admin/syncerrors/{errorId}/discard")
    def discard(
        services: ServicesDep,
        principal: PrincipalDep,
        error_id: Annotated[str, Path(alias="errorId", max_length=32)],
    ) -> dict[str, Any]:
        """Give it up."""
        principal.require_admin()
        return relations.settle_error(services, error_id, retry=False)

    return router
