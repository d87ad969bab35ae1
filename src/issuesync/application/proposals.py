"""Mappings proposed from both projects' schemas: when an integration is created without any,
as a preview before it is, and again later to show what a schema change would alter.

An integration created with no mappings on either side (no field, issue-type or status
mappings) gets the configuration ``domain/proposal.py`` draws from both trackers' schemas
(``Tracker.outline``), stored explicitly: ``GET`` shows it and a user edits it like any
other. The proposal's pairs with their reasons and its warnings (values that will not
cross) are stored with the integration (``IntegrationRow.proposal``, JSON) and shown by
``/conflicts`` as warnings for as long as the configuration still holds what was proposed.
A tracker whose schema cannot be read at creation (down, wrong credentials) leaves the
former defaults in place and says so, as a warning naming the command that proposes again.

The schemas are read outside any write transaction: a remote tracker may take seconds.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Final

from sqlalchemy.orm import Session

from issuesync.application.fields import SIDES
from issuesync.application.sync_users import Editor, given_user
from issuesync.domain.configuration import (
    GLOBAL_WORKFLOW,
    Configuration,
    complete_configurations,
)
from issuesync.domain.conflict import WARNING, Conflict
from issuesync.domain.connection import LOCAL, TrackerConnection
from issuesync.domain.integration import ConnectorDraft, IntegrationDraft
from issuesync.domain.outline import SchemaOutline
from issuesync.domain.proposal import Kind, Proposal, ProposedPair, Side, Unmapped, propose
from issuesync.domain.redaction import redact
from issuesync.engine.connectors import (
    PARTNER_SYSTEM,
    ConnectorConfig,
    configuration_text,
    connector_configs,
    connector_rows,
    load_configuration,
    tracker_access,
)
from issuesync.errors import IssueSyncError
from issuesync.services import Services
from issuesync.store.base import now_ms
from issuesync.store.sync import IntegrationRow
from issuesync.trackers.access import TrackerAccess
from issuesync.trackers.adapter import read_outline
from issuesync.trackers.credentials import ProxySettings

PROPOSED: Final = "proposed"
NOT_PROPOSED: Final = "notProposed"
UNMAPPED_VALUE: Final = "unmappedValue"
PROPOSAL_NOT_MADE: Final = "proposalNotMade"
PROPOSE_COMMAND: Final = "issuesync integration propose {key} --apply"
READ_DEADLINE_S: Final = 20.0  # for both schemas, read side by side


@dataclass(frozen=True)
class ProposalOutcome:
    """A proposal drawn from both schemas, or why none could be: ``unread`` names, per side
    (``first``/``second``), why its schema could not be read."""

    proposal: Proposal | None
    unread: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What is stored with the integration (``IntegrationRow.proposal``), as JSON."""
        if self.proposal is None:
            return {"state": NOT_PROPOSED, "unread": self.unread, "at": now_ms()}
        return {
            "state": PROPOSED,
            "at": now_ms(),
            "pairs": [_pair_json(p) for p in self.proposal.pairs],
            "warnings": [_warning_json(w) for w in self.proposal.warnings],
        }


def _pair_json(pair: ProposedPair) -> dict[str, str]:
    return {
        "kind": pair.kind.value,
        "side": pair.side.value,
        "source": pair.source,
        "target": pair.target,
        "reason": pair.reason,
    }


def _warning_json(warning: Unmapped) -> dict[str, str]:
    return {
        "kind": warning.kind.value,
        "side": warning.side.value,
        "name": warning.name,
        "reason": warning.reason,
    }


def unmapped(configuration: Configuration | None) -> bool:
    """Whether a side said nothing of how values map: no field, type or status mapping."""
    if configuration is None:
        return True
    types = configuration.issue_type_mappings
    return (
        not configuration.field_mappings
        and not types.incoming
        and not types.outgoing
        and not any(w.status_mappings for w in configuration.workflow_mappings)
    )


def wants_proposal(draft: IntegrationDraft) -> bool:
    """A draft whose mappings are all left out gets a proposal; a distributed one does not
    (the partner node's schema is not readable here)."""
    return not draft.distributed and all(unmapped(c.configuration) for c in draft.connectors)


def with_proposal(draft: IntegrationDraft, proposal: Proposal) -> IntegrationDraft:
    """The draft with the proposal's mappings; everything else it says (sync settings,
    queries, field defaults) stays."""
    connectors = [
        connector.model_copy(update={"configuration": merged(connector.configuration, proposed)})
        for connector, proposed in zip(
            draft.connectors, (proposal.first, proposal.second), strict=True
        )
    ]
    return draft.model_copy(update={"first": connectors[0], "second": connectors[1]})


def merged(configuration: Configuration | None, proposed: Configuration) -> Configuration:
    """``configuration`` with the proposed field, issue-type and status mappings."""
    result = (configuration or Configuration()).model_copy(deep=True)
    result.field_mappings = proposed.field_mappings
    result.issue_type_mappings = proposed.issue_type_mappings
    result.workflow_mappings = proposed.workflow_mappings
    return result


# -- reading both schemas ---------------------------------------------------------------------


def _draft_access(connector: ConnectorDraft, editor: Editor) -> TrackerAccess:
    """How the draft's connector would open its tracker. A built-in project is read as the
    sync user the draft names when the editor may name it, else as the editor."""
    connection: TrackerConnection = connector.connection
    system = connection.resolved_system
    if system == LOCAL:
        named = given_user(connection)
        user = named if named and (editor.is_admin or named in editor.proven) else editor.name
        return TrackerAccess(system, connector.project_key, None, user, None)
    secret: tuple[str, str] | None = None
    if connection.password is not None:
        secret = ("password", connection.password.get_secret_value())
    elif connection.token is not None:
        secret = ("token", connection.token.get_secret_value())
    proxy = connection.proxy
    proxy_settings = (
        ProxySettings(
            proxy.uri,
            proxy.username,
            proxy.password.get_secret_value() if proxy.password else None,
        )
        if proxy is not None
        else None
    )
    return TrackerAccess(
        system, connector.project_key, connection.base_url, connection.user, secret, proxy_settings
    )


def _read(services: Services, access: TrackerAccess) -> SchemaOutline | str:
    """The project's outline, or why it cannot be read (secrets redacted)."""
    try:
        tracker = services.trackers(access)
        try:
            return read_outline(tracker)
        finally:
            tracker.close()
    # OSError: a network failure an adapter did not translate is still only a reason.
    except (IssueSyncError, OSError) as exc:
        said = exc.describe() if isinstance(exc, IssueSyncError) else type(exc).__name__
        return redact(said, access.known_secrets()).rstrip(".") or type(exc).__name__


def _outcome(
    read: Callable[[TrackerAccess], SchemaOutline | str], accesses: Sequence[TrackerAccess]
) -> ProposalOutcome:
    """Both schemas read side by side, each within :data:`READ_DEADLINE_S`: a tracker that
    does not answer (an address that drops packets) never holds a creation for long. A
    read left behind ends within its adapter's own timeout."""
    pool = ThreadPoolExecutor(max_workers=len(accesses), thread_name_prefix="proposal")
    try:
        futures = [pool.submit(read, access) for access in accesses]
        wait(futures, timeout=READ_DEADLINE_S)
        late = f"no answer within {READ_DEADLINE_S:.0f} s"
        outlines = [f.result() if f.done() else late for f in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    unread = {
        side: outline
        for side, outline in zip(SIDES, outlines, strict=True)
        if isinstance(outline, str)
    }
    first, second = outlines
    if isinstance(first, str) or isinstance(second, str):
        return ProposalOutcome(None, unread)
    return ProposalOutcome(propose(first, second))


def propose_for_draft(
    services: Services, draft: IntegrationDraft, editor: Editor
) -> ProposalOutcome:
    """The proposal for a draft: both projects' schemas read through their adapters."""
    accesses = [_draft_access(connector, editor) for connector in draft.connectors]
    return _outcome(lambda access: _read(services, access), accesses)


def propose_for_integration(
    session: Session, services: Services, integration: IntegrationRow
) -> tuple[ProposalOutcome, tuple[ConnectorConfig, ConnectorConfig]]:
    """The proposal for a stored integration, from both trackers' schemas as they are now,
    read as its connectors' sync users. Call it with a read-only session."""
    configs = connector_configs(session, integration.id)
    pair = (configs[0], configs[1])
    if any(config.system == PARTNER_SYSTEM for config in pair):
        reason = "the partner node's project is not readable here"
        return ProposalOutcome(None, {SIDES[1]: reason}), pair
    accesses = [tracker_access(session, services.secrets, config) for config in pair]
    return _outcome(lambda access: _read(services, access), accesses), pair


# -- what a new proposal would change ---------------------------------------------------------


@dataclass(frozen=True)
class Difference:
    """One value whose mapping a new proposal would change: ``stored`` or ``proposed`` is
    None where that one has no mapping of it."""

    side: str
    kind: str
    value: str
    stored: str | None
    proposed: str | None


def mappings_of(configuration: Configuration) -> dict[tuple[str, str], str]:
    """A configuration's mappings, flat: (kind, this side's value) -> the partner's value."""
    flat: dict[tuple[str, str], str] = {}
    for workflow in configuration.workflow_mappings:
        if workflow.id == GLOBAL_WORKFLOW:
            for status in workflow.status_mappings:
                flat[(Kind.STATUS.value, str(status.local))] = str(status.remote)
    for issue_type in configuration.issue_type_mappings.outgoing:
        flat[(Kind.ISSUE_TYPE.value, str(issue_type.local))] = str(issue_type.remote)
    for mapping in configuration.field_mappings:
        flat[(Kind.FIELD.value, mapping.local_field)] = mapping.remote_field
        if mapping.local_field == "priority":
            for value in mapping.value_mappings:
                flat[(Kind.PRIORITY.value, str(value.local))] = str(value.remote)
    return flat


def differences(stored: Sequence[Configuration], proposal: Proposal) -> list[Difference]:
    """What storing the proposal would change, per side, kind and value."""
    found: list[Difference] = []
    for side, mine, theirs in zip(SIDES, stored, (proposal.first, proposal.second), strict=True):
        old, new = mappings_of(mine), mappings_of(theirs)
        for kind, value in sorted(old.keys() | new.keys()):
            before, after = old.get((kind, value)), new.get((kind, value))
            if before != after:
                found.append(Difference(side, kind, value, before, after))
    return found


# -- storing ----------------------------------------------------------------------------------


def record_text(outcome: ProposalOutcome) -> str:
    """The stored form of an outcome."""
    return json.dumps(outcome.record(), separators=(",", ":"))


def apply_proposal(
    session: Session, integration: IntegrationRow, proposal: Proposal, actor: str
) -> None:
    """Store the proposal's mappings in both connectors (everything else stays) and its
    record with the integration. The caller's unit of work commits; a running integration
    restarts with it as after any change (the caller's business)."""
    rows = connector_rows(session, integration.id)
    configurations = complete_configurations(
        merged(load_configuration(rows[0].configuration), proposal.first),
        merged(load_configuration(rows[1].configuration), proposal.second),
    )
    now = now_ms()
    for row, configuration in zip(rows, configurations, strict=True):
        row.configuration = configuration_text(configuration)
        row.modified_user = actor
        row.modified_ms = now
    integration.proposal = record_text(ProposalOutcome(proposal))
    integration.modified_user = actor
    integration.modified_ms = now


# -- warnings for /conflicts ------------------------------------------------------------------


def proposal_conflicts(
    integration: IntegrationRow, configs: Sequence[ConnectorConfig]
) -> list[Conflict]:
    """The stored proposal's warnings that the configuration still holds, as conflicts of
    severity ``warning``: a value that will not cross, or crosses only approximately, never
    blocks an issue. A warning the user settled (by mapping the value) is not shown."""
    if not integration.proposal or len(configs) != len(SIDES):
        return []
    record = json.loads(integration.proposal)
    command = PROPOSE_COMMAND.format(key=integration.key)
    if record.get("state") == NOT_PROPOSED:
        unread = record.get("unread") or {}
        said = "; ".join(
            f"project {configs[SIDES.index(side)].project_key}: {why}"
            for side, why in unread.items()
            if side in SIDES
        )
        config = configs[0]
        return [
            Conflict(
                f"{PROPOSAL_NOT_MADE}-{integration.key}",
                "validation",
                PROPOSAL_NOT_MADE,
                config.key,
                config.project_key,
                "No mappings could be proposed from both trackers' schemas when the integration "
                f"was created ({said}); it holds the default mappings, drawn for two Jira-like "
                "projects.",
                f"Once both trackers answer, run '{command}' (or PUT "
                f"/integrations/{integration.key}/proposal), or map the values yourself.",
                severity=WARNING,
            )
        ]
    pairs = [
        ProposedPair(Kind(p["kind"]), Side(p["side"]), p["source"], p["target"], p["reason"])
        for p in record.get("pairs", [])
    ]
    shown: list[Conflict] = []
    for index, item in enumerate(record.get("warnings", [])):
        warning = Unmapped(Kind(item["kind"]), Side(item["side"]), item["name"], item["reason"])
        config = configs[SIDES.index(warning.side.value)]
        if not _still_holds(warning, pairs, config.configuration):
            continue
        partner = configs[1 - SIDES.index(warning.side.value)]
        shown.append(
            Conflict(
                f"{UNMAPPED_VALUE}-{config.key}-{index}",
                "validation",
                UNMAPPED_VALUE,
                config.key,
                config.project_key,
                f"The {warning.kind.value} '{warning.name}' of project {config.project_key} "
                f"does not cross to project {partner.project_key} as it is: {warning.reason}.",
                f"Nothing is blocked. To carry it, map it in connector {config.key}'s "
                f"configuration (PUT /integrations/{integration.key}), or leave it as proposed.",
                severity=WARNING,
            )
        )
    return shown


def _still_holds(
    warning: Unmapped, pairs: Sequence[ProposedPair], configuration: Configuration
) -> bool:
    """Whether the configuration still maps the warned value as proposed (or still not)."""
    proposed = next(
        (
            p.target
            for p in pairs
            if p.kind is warning.kind and p.side is warning.side and p.source == warning.name
        ),
        None,
    )
    kind = Kind.FIELD if warning.kind is Kind.FIELD else warning.kind
    return mappings_of(configuration).get((kind.value, warning.name)) == proposed
