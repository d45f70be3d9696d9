"""Stack config: parsed once into frozen dataclasses, validated before any resource exists."""

from stack_config.errors import ConfigError
from stack_config.load import load_stack_config
from stack_config.model import (
    AwsAccount,
    Deployment,
    HubConfig,
    HubNetwork,
    LandingBucket,
    LoaderSettings,
    PlatformLink,
    ReplicaSource,
    ReportingDatabase,
    SourcePlatformSettings,
    SpokeConfig,
    StackConfig,
)
from stack_config.parse import parse_stack_config

__all__ = [
    "AwsAccount",
    "ConfigError",
    "Deployment",
    "HubConfig",
    "HubNetwork",
    "LandingBucket",
    "LoaderSettings",
    "PlatformLink",
    "ReplicaSource",
    "ReportingDatabase",
    "SourcePlatformSettings",
    "SpokeConfig",
    "StackConfig",
    "load_stack_config",
    "parse_stack_config",
]
