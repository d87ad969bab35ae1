"""What a proposal does to an integration (``application/proposals.py``): when one is made,
what it keeps of a draft, what a new one would change, and which warnings still stand."""

from __future__ import annotations

import dataclasses
import json

from issuesync.application.proposals import (
    NOT_PROPOSED,
    PROPOSAL_NOT_MADE,
    UNMAPPED_VALUE,
    ProposalOutcome,
    differences,
    proposal_conflicts,
    record_text,
    wants_proposal,
    with_proposal,
)
from issuesync.domain.configuration import (
    GLOBAL_WORKFLOW,
    Configuration,
    FieldMapping,
    StatusMapping,
    SyncSettings,
    WorkflowMapping,
    complete_configurations,
)
from issuesync.domain.conflict import WARNING
from issuesync.domain.connection import Queue
from issuesync.domain.integration import ConnectorDraft, IntegrationDraft
from issuesync.domain.outline import (
    OutlineField,
    OutlineIssueType,
    OutlineStatus,
    SchemaOutline,
    StatusCategory,
)
from issuesync.domain.proposal import Proposal, propose
from issuesync.engine.connectors import ConnectorConfig
from issuesync.store.sync import IntegrationRow

NEW, UNDER_WAY, DONE = StatusCategory.NEW, StatusCategory.INDETERMINATE, StatusCategory.DONE
SUMMARY = OutlineField("summary", "Summary", "string")
LABELS = OutlineField("labels", "Labels", "array", multi=True)

BUILT_IN = SchemaOutline(
    system="local",
    project_key="PA",
    statuses=(
        OutlineStatus("To Do", NEW, 0),
        OutlineStatus("In Progress", UNDER_WAY, 1),
        OutlineStatus("Done", DONE, 2),
    ),
    issue_types=(OutlineIssueType("Bug"), OutlineIssueType("Task")),
    priorities=("High", "Medium", "Low"),
    fields=(SUMMARY, LABELS),
)
REDMINE = SchemaOutline(
    system="redmine",
    project_key="web",
    statuses=(
        OutlineStatus("New", NEW, 0),
        OutlineStatus("In Progress", UNDER_WAY, 1),
        OutlineStatus("Closed", DONE, 2),
    ),
    issue_types=(OutlineIssueType("Bug"), OutlineIssueType("Feature"), OutlineIssueType("Support")),
    priorities=("Urgent", "High", "Normal", "Low"),
    fields=(SUMMARY,),
)


def proposal() -> Proposal:
    return propose(BUILT_IN, REDMINE)


def draft(
    first: Configuration | None = None, second: Configuration | None = None
) -> IntegrationDraft:
    return IntegrationDraft(
        first=ConnectorDraft(project_key="PA", configuration=first),
        second=ConnectorDraft(project_key="PB", configuration=second),
    )


def config(key: str, project: str, position: int, configuration: Configuration) -> ConnectorConfig:
    queue = Queue(type="vm")
    return ConnectorConfig(
        id=position,
        key=key,
        position=position,
        integration_id=1,
        integration_key="INT-1",
        project_key=project,
        project_connector_key=f"k15t.backbone.syncinfo.{key}",
        system="local",
        base_url=None,
        user="sync",
        send_queue=queue,
        receive_queue=queue,
        configuration=configuration,
        partner_id=3 - position,
        partner_key="x",
        initial_delay_ms=0,
        polling_interval_ms=1000,
    )


def stored(outcome: ProposalOutcome) -> tuple[IntegrationRow, list[ConnectorConfig]]:
    """An integration holding the outcome, and its connectors with the proposed mappings."""
    assert outcome.proposal is not None
    first, second = complete_configurations(outcome.proposal.first, outcome.proposal.second)
    row = IntegrationRow(key="INT-1", proposal=record_text(outcome))
    return row, [config("PA-1", "PA", 1, first), config("PB-2", "PB", 2, second)]


def test_only_a_draft_that_maps_nothing_gets_a_proposal() -> None:
    assert wants_proposal(draft())
    assert wants_proposal(draft(Configuration(sync=SyncSettings(outgoing_interval="1s"))))
    one_field = Configuration(
        field_mappings=[FieldMapping(local_field="summary", remote_field="summary")]
    )
    assert not wants_proposal(draft(second=one_field))
    one_status = Configuration(
        workflow_mappings=[
            WorkflowMapping(
                id=GLOBAL_WORKFLOW, status_mappings=[StatusMapping(local="Done", remote="Closed")]
            )
        ]
    )
    assert not wants_proposal(draft(first=one_status))
    distributed = draft().model_copy(update={"distributed": True})
    assert not wants_proposal(distributed)


def test_the_proposal_replaces_the_mappings_and_keeps_the_rest() -> None:
    settings = Configuration(
        sync=SyncSettings(outgoing_interval="1s", outgoing_jqls=["labels = x"])
    )
    made = with_proposal(draft(settings), proposal())
    first = made.first.configuration
    assert first is not None
    assert first.sync.outgoing_interval == "1s"
    assert first.sync.outgoing_jqls == ["labels = x"]
    statuses = {s.local: s.remote for s in first.workflow_mappings[0].status_mappings}
    assert statuses == {"To Do": "New", "In Progress": "In Progress", "Done": "Closed"}
    assert [m.local_field for m in first.field_mappings] == [
        "summary",
        "priority",
        "comment",
        "attachment",
    ]
    assert draft(settings).first.configuration == settings  # the draft itself is not changed


def test_differences_name_each_value_whose_mapping_changes() -> None:
    made = proposal()
    first, second = complete_configurations(made.first, made.second)
    assert differences([first, second], made) == []
    edited = first.model_copy(deep=True)
    edited.workflow_mappings[0].status_mappings[0] = StatusMapping(
        local="To Do", remote="In Progress"
    )
    edited.field_mappings = [m for m in edited.field_mappings if m.local_field != "comment"]
    found = {
        (d.side, d.kind, d.value): (d.stored, d.proposed)
        for d in differences([edited, second], made)
    }
    assert found == {
        ("first", "status", "To Do"): ("In Progress", "New"),
        ("first", "field", "comment"): (None, "comment"),
    }


def test_warnings_show_while_the_configuration_still_holds_them() -> None:
    outcome = ProposalOutcome(proposal())
    row, configs = stored(outcome)
    shown = proposal_conflicts(row, configs)
    assert shown, "labels (built-in only) and priorities by rank must be warned of"
    assert {c.severity for c in shown} == {WARNING}
    assert {c.type for c in shown} == {UNMAPPED_VALUE}
    labels = [c for c in shown if "'labels'" in c.message]
    assert [(c.connector_key, c.project_key) for c in labels] == [("PA-1", "PA")]
    assert "redmine" in labels[0].message
    assert "Nothing is blocked" in labels[0].resolution
    # The user maps labels to a custom field: that warning goes, the others stay.
    mapped = configs[0].configuration.model_copy(deep=True)
    mapped.field_mappings.append(FieldMapping(local_field="labels", remote_field="Tags"))
    settled = [dataclasses.replace(configs[0], configuration=mapped), configs[1]]
    after = proposal_conflicts(row, settled)
    assert not [c for c in after if "'labels'" in c.message]
    assert len(after) == len(shown) - 1


def test_a_proposal_not_made_is_one_warning_with_the_command_that_makes_it() -> None:
    outcome = ProposalOutcome(None, {"second": "Redmine at http://127.0.0.1:9/ cannot be reached"})
    assert json.loads(record_text(outcome))["state"] == NOT_PROPOSED
    row = IntegrationRow(key="INT-1", proposal=record_text(outcome))
    configs = [config("PA-1", "PA", 1, Configuration()), config("PB-2", "PB", 2, Configuration())]
    (shown,) = proposal_conflicts(row, configs)
    assert shown.type == PROPOSAL_NOT_MADE
    assert shown.severity == WARNING
    assert "project PB: Redmine at http://127.0.0.1:9/ cannot be reached" in shown.message
    assert "issuesync integration propose INT-1 --apply" in shown.resolution


def test_an_integration_whose_mappings_were_given_shows_no_proposal_warning() -> None:
    configs = [config("PA-1", "PA", 1, Configuration()), config("PB-2", "PB", 2, Configuration())]
    assert proposal_conflicts(IntegrationRow(key="INT-1", proposal=None), configs) == []
