"""Proposed mappings as ``POST /integrations/proposal`` and ``/integrations/{key}/proposal``
show them: each connector's proposed configuration (seed 001's block), the pairs with
their reasons, the warnings, and, for a stored integration, what a new proposal changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from issuesync.api.backbone.documents.configuration import configuration_json
from issuesync.application.fields import SIDES
from issuesync.application.proposals import NOT_PROPOSED, PROPOSED, Difference, ProposalOutcome
from issuesync.domain.configuration import Configuration, complete_configurations

JsonDict = dict[str, Any]


def proposal_json(
    outcome: ProposalOutcome,
    project_keys: Sequence[str],
    differences: Sequence[Difference] | None = None,
) -> JsonDict:
    """An outcome for the API: values named by project key, ``first``/``second`` never."""

    def project(side: str) -> str:
        return project_keys[SIDES.index(side)]

    proposal = outcome.proposal
    if proposal is None:
        return {
            "state": NOT_PROPOSED,
            "unread": [
                {"projectKey": project(side), "reason": why} for side, why in outcome.unread.items()
            ],
        }
    configurations: tuple[Configuration, Configuration] = complete_configurations(
        proposal.first, proposal.second
    )
    body: JsonDict = {
        "state": PROPOSED,
        "connectors": [
            {"projectKey": key, "configuration": configuration_json(configuration)}
            for key, configuration in zip(project_keys, configurations, strict=True)
        ],
        "pairs": [
            {
                "kind": pair.kind.value,
                "projectKey": project(pair.side.value),
                "value": pair.source,
                "partnerValue": pair.target,
                "reason": pair.reason,
            }
            for pair in proposal.pairs
        ],
        "warnings": [
            {
                "kind": warning.kind.value,
                "projectKey": project(warning.side.value),
                "value": warning.name,
                "reason": warning.reason,
            }
            for warning in proposal.warnings
        ],
    }
    if differences is not None:
        body["differences"] = [
            {
                "kind": difference.kind,
                "projectKey": project(difference.side),
                "value": difference.value,
                "stored": difference.stored,
                "proposed": difference.proposed,
            }
            for difference in differences
        ]
    return body
