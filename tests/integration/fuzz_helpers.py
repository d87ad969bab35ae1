"""One bounded schemathesis run per API operation, shared by the fuzz tests.

Each operation is fuzzed on its own, so that one failure does not hide the
others; the pytest plugin of schemathesis is not used because it does not run
on pytest 9.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Err

from issuesync.api.backbone.documents.bodies import IntegrationSpec
from issuesync.api.backbone.documents.integrations import create_from_spec
from issuesync.api.backbone.documents.syncinfo import import_sync_info
from issuesync.application.integrations import project_checker
from issuesync.application.lifecycle import request_start
from issuesync.services import Services
from issuesync.trackers.local import catalog, issues, subresources

# An operation as schemathesis reads it from a document (its own type parameters are
# left open there).
Operation = schemathesis.APIOperation[Any, Any, Any, Any]


def all_operations(schema: schemathesis.BaseSchema) -> list[Operation]:
    """Every operation of ``schema``; one that schemathesis cannot read raises its error."""
    operations: list[Operation] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise result.err()
        operations.append(result.ok())
    return operations


# What a schema may say of a value besides its type without constraining it.
_ANNOTATIONS = frozenset({"title", "description"})


def _any_string(schema: Mapping[str, Any]) -> bool:
    """Whether every string fits ``schema``: a string with no format, pattern, length or enum,
    optionally nullable (``anyOf`` a string and null)."""
    if schema.get("type") == "string":
        return set(schema) <= _ANNOTATIONS | {"type"}
    variants = schema.get("anyOf")
    if variants is None or not set(schema) <= _ANNOTATIONS | {"anyOf"}:
        return False
    return all(_any_string(v) or v == {"type": "null"} for v in variants)


def can_be_invalid(raw: Mapping[str, Any]) -> bool:
    """Whether schemathesis can make an invalid request of the operation ``raw`` describes.

    It needs an input to break: a body, a query parameter, or a path or header parameter
    with a type or a constraint (the auth header is ours to send). Where every input is a
    path or header value that any string fits (an issue key, an id, an optional header),
    every invalid value it draws is filtered out before a request is made, and after some
    hundreds of draws, about a second of an operation, hypothesis gives up (Unsatisfiable)
    having sent nothing; so it is not asked.
    """
    if "requestBody" in raw:
        return True
    inputs = [p for p in raw.get("parameters", []) if p.get("name") != "authorization"]
    return any(
        p.get("in") not in {"path", "header"} or not _any_string(p.get("schema", {}))
        for p in inputs
    )


def fuzz_operations(
    operations: Sequence[Operation],
    *,
    authorization: str,
    real_values: Mapping[str, str],
    checks: Sequence[schemathesis.CheckFunction],
    max_examples: int,
) -> list[str]:
    """Fuzz each operation with valid and invalid inputs; returns the failures found.

    ``real_values`` name the fixture's objects by path parameter, so that some
    valid requests reach the services instead of stopping at a 404. Deletions
    run last, so that the other operations still find those objects.
    """
    failures: list[str] = []
    ordered = sorted(operations, key=lambda operation: operation.method.upper() == "DELETE")
    for operation in ordered:
        real = {
            name: value for name, value in real_values.items() if "{" + name + "}" in operation.path
        }
        strategies = [operation.as_strategy(GenerationMode.POSITIVE)]
        if can_be_invalid(operation.definition.raw):
            strategies.append(operation.as_strategy(GenerationMode.NEGATIVE))
        if real:
            strategies.append(operation.as_strategy(GenerationMode.POSITIVE, path_parameters=real))
        for strategy in strategies:

            @given(case=strategy)
            @settings(
                max_examples=max_examples,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def fuzz(case: schemathesis.Case[Operation]) -> None:
                response = case.call(headers={"Authorization": authorization})
                case.validate_response(response, checks=list(checks))

            try:
                fuzz()
            except Unsatisfiable:
                continue  # no request could be drawn (see can_be_invalid)
            except Exception as exc:  # noqa: BLE001 - collect every operation's failure
                failures.append(f"{operation.label}: {exc}")
    return failures


def make_fuzz_world(services: Services, authorization: str) -> str:
    """What fuzzed paths name, made as the administrator of ``authorization``: projects PA
    and PB, issue PA-1 with a comment, INT-1 (connectors PA-1 and PB-2) with a sync
    information entry, and a start task; returns the task's id."""
    admin = services.authenticator.authenticate(authorization)
    for key in ("PA", "PB"):
        with services.tracker.write(admin) as op:
            catalog.create_project(op, {"key": key, "name": f"Project {key}"})
    with services.tracker.write(admin) as op:
        issues.create_issue(
            op,
            {"project": {"key": "PA"}, "summary": "Fuzz target", "issuetype": {"name": "Task"}},
            {},
        )
    with services.tracker.write(admin) as op:
        subresources.add_comment(op, "PA-1", {"body": "a comment"})
    body = {"firstConnector": {"projectKey": "PA"}, "secondConnector": {"projectKey": "PB"}}
    with services.uow_factory() as uow:
        row = create_from_spec(
            uow.session,
            IntegrationSpec.model_validate(body),
            actor="admin",
            secrets=services.secrets,
            project_exists=project_checker(services),
            places=services.queue_places,
        )
        import_sync_info(uow.session, "PA-1", [{"localIssueKey": "PA-1", "remoteIssueKey": "PB-1"}])
        task_id = request_start(uow.session, row.key, "admin").id
        uow.commit()
    return task_id
