"""Resource models shared by both backends, shaped like the service's JSON.

Python attributes are snake_case; ``model_dump(by_alias=True)`` gives the service's
camelCase field names, so the same objects travel to and from Azure unchanged.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, StrictBool, StrictStr
from pydantic.alias_generators import to_camel

from ._exceptions import EmptyTextError, InvalidInputError, LimitExceededError

__all__ = [
    "BLOCKLIST_LIMITS",
    "BlocklistLimits",
    "BuildStatus",
    "CategoryVersion",
    "INCIDENT_LIMITS",
    "Incident",
    "IncidentImage",
    "IncidentSample",
    "IncidentStatus",
    "TextBlocklist",
    "TextBlocklistItem",
    "TextBlocklistItemInput",
    "check_blocklist_name",
    "check_category_name",
    "check_incident_name",
    "check_resource_id",
]


class _Resource(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


class TextBlocklist(_Resource):
    blocklist_name: str
    description: str = ""


class TextBlocklistItem(_Resource):
    blocklist_item_id: str
    text: str
    description: str = ""
    is_regex: bool = False


class TextBlocklistItemInput(_Resource):
    """An item to add: ``text`` (a term, or a regular expression when ``is_regex``)."""

    text: StrictStr
    description: StrictStr = ""
    is_regex: StrictBool = False  # "yes" or 1 is refused, not read as true


class BlocklistLimits:
    """The service's limits, enforced by the local engine too so moving is painless."""

    name_length = 64
    description_length = 1024
    item_text_length = 128
    items_per_list = 10_000
    items_per_request = 100  # the service's per-call cap; the Azure client splits larger adds


BLOCKLIST_LIMITS = BlocklistLimits()
# The service's name patterns. Every name and id ends up in a URL path (Azure) or a store
# key (local), so each is checked in full (fullmatch: "abc\n" is not "abc"), and names of
# dots alone are refused: "/.." in a path would address another resource.
_NAME = re.compile(r"[0-9A-Za-z._~-]+")
_INCIDENT_NAME = re.compile(r"(?=[a-zA-Z0-9])[a-zA-Z0-9-]*[a-zA-Z0-9]")


def _check(name: object, what: str, pattern: re.Pattern[str], limit: int, rule: str) -> str:
    if not isinstance(name, str):
        raise InvalidInputError(f"a {what} must be a string, got {type(name).__name__}")
    if not name:
        raise EmptyTextError(f"a {what} cannot be empty")
    if len(name) > limit:
        raise LimitExceededError(f"{what} {name[:20]!r}... is {len(name)} characters; the limit is {limit}")
    if pattern.fullmatch(name) is None or not name.strip("."):
        raise InvalidInputError(f"{what} {name!r} is not allowed: {rule}")
    return name


def check_blocklist_name(name: object) -> str:
    return _check(name, "blocklist name", _NAME, BLOCKLIST_LIMITS.name_length,
                  "use letters, digits and . _ ~ - (not only dots)")


def check_incident_name(name: object) -> str:
    return _check(name, "incident name", _INCIDENT_NAME, INCIDENT_LIMITS.name_length,
                  "use letters, digits and -, starting and ending with a letter or digit")


def check_category_name(name: object) -> str:
    return _check(name, "category name", _NAME, 128, "use letters, digits and . _ ~ - (not only dots)")


def check_resource_id(value: object, what: str = "id") -> str:
    """An item or sample id as it goes into a URL path: the service's ids are UUIDs."""
    return _check(value, what, _NAME, 128, "ids use letters, digits and . _ ~ - (not only dots)")


def check_description(description: object, what: str) -> str:
    if description is None:
        return ""
    if not isinstance(description, str):
        raise InvalidInputError(f"{what} description must be a string")
    if len(description) > BLOCKLIST_LIMITS.description_length:
        raise LimitExceededError(
            f"{what} description is {len(description)} characters; "
            f"the limit is {BLOCKLIST_LIMITS.description_length}"
        )
    return description


# -- incidents --------------------------------------------------------------------------


class IncidentStatus:
    """Whether an incident is live: only deployed incidents are detected."""

    NOT_DEPLOYED = "NotDeployed"
    DEPLOYING = "Deploying"
    DEPLOYED = "Deployed"
    PENDING = "DeployedWithPendingChanges"  # samples added since the last deploy
    FAILED = "Failed"


class Incident(_Resource):
    """A text or image incident. ``description`` is sent as the seeds' ``description``."""

    incident_name: str
    description: str = ""
    kind: str = "text"
    status: str | None = None
    created: str | None = None
    last_updated: str | None = None
    threshold: float | None = None


class IncidentImage(_Resource):
    content: str | None = None
    blob_url: str | None = None


class IncidentSample(_Resource):
    incident_sample_id: str
    text: str | None = None
    image: IncidentImage | None = None


class IncidentLimits:
    name_length = 64  # the service's limit (and pattern: see check_incident_name)
    samples_per_incident = 1000
    sample_text_length = 500  # "less than 500 characters"
    incidents_per_kind = 100
    image_bytes = 4 * 1024 * 1024
    samples_per_request = 1000


INCIDENT_LIMITS = IncidentLimits()


# -- custom categories ------------------------------------------------------------------


class BuildStatus:
    """Build status of a custom category version (the service's values in brackets)."""

    NOT_STARTED = "NotStarted"  # BuildNotStarted
    RUNNING = "Running"  # Building
    SUCCEEDED = "Succeeded"  # BuildSucceeded
    FAILED = "Failed"  # BuildFailed
    DELETING = "Deleting"
    DELETE_FAILED = "DeleteFailed"

    FROM_SERVICE = {
        "BuildNotStarted": NOT_STARTED,
        "Building": RUNNING,
        "BuildSucceeded": SUCCEEDED,
        "BuildFailed": FAILED,
        "Deleting": DELETING,
        "DeleteFailed": DELETE_FAILED,
    }


class CategoryVersion(_Resource):
    """One version of a custom category."""

    category_name: str
    definition: str
    version: int
    status: str = BuildStatus.NOT_STARTED
    sample_blob_url: str | None = None
    created_time: str | None = None
    error: str | None = None
    positives: int | None = None
    negatives: int | None = None
    warnings: tuple[str, ...] = ()
