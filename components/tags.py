"""The tags every resource carries, so cost, ownership and schedules can be read off AWS."""

from __future__ import annotations

from stack_config import Deployment

PROJECT = "reporting-platform"
HUB_PLATFORM = "reporting"
SCHEDULE_TAG = "Schedule"
# The scheduler's own informational tags (SchedulerLastAction, ...) start with this.
SCHEDULER_TAG_PREFIX = "Scheduler"


def base_tags(deployment: Deployment, platform: str) -> dict[str, str]:
    """Project, Environment, Platform and Owner: on every taggable resource."""
    return {
        "Project": PROJECT,
        "Environment": deployment.environment,
        "Platform": platform,
        "Owner": deployment.owner,
    }


def compute_tags(deployment: Deployment, platform: str) -> dict[str, str]:
    """Base tags plus the schedule that stops the resource out of hours."""
    return {**base_tags(deployment, platform), SCHEDULE_TAG: deployment.schedule}
