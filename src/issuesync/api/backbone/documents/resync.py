"""The body of ``POST /connectors/{key}/resync`` (seed 000), and the request carried out."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.orm import Session

from issuesync.api.backbone.documents.fields import RESYNC_FIELDS, backbone_fields
from issuesync.application import tasks
from issuesync.domain.task import Task
from issuesync.engine.pipeline.resync import ResyncRequest as Resync
from issuesync.errors import InvalidInputError


class ResyncRequest(BaseModel):
    """The body of ``POST /connectors/{key}/resync`` (seed 000)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    jql: str | None = None
    field_mappings: list[str] | None = Field(default=None, alias="fieldMappings")
    responsibility: bool = False
    send_status_field: bool = Field(default=False, alias="sendStatusField")

    @classmethod
    def parse(cls, body: object) -> ResyncRequest:
        """Validate a body; errors name the field."""
        try:
            return cls.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "body"
            raise InvalidInputError(
                f"The resync request is not valid: {where}: {first['msg']}",
                field_errors={where: first["msg"]},
            ) from exc

    def request(self) -> Resync:
        """The core's resync request."""
        ids = tuple(self.field_mappings) if self.field_mappings is not None else None
        return Resync(
            query=self.jql,
            field_mapping_ids=ids,
            responsibility=self.responsibility,
            send_status=self.send_status_field,
        )


def request_resync(session: Session, connector_key: str, body: ResyncRequest) -> Task:
    """Queue the resync the body asks for as a task of the connector."""
    with backbone_fields(RESYNC_FIELDS):
        return tasks.request_resync(session, connector_key, body.request())
