"""Stack config: parsed once into frozen dataclasses, validated before any resource exists."""

from stack_config.errors import ConfigError
from stack_config.load import load_stack_config
from stack_config.model import (
    AwsAccount,
    ChangeStreams,
    Deployment,
    ExtractorSettings,
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
    StreamedTable,
    StreamFunctions,
)
from stack_config.parse import parse_stack_config

__all__ = [
    "AwsAccount",
    "ChangeStreams",
    "ConfigError",
    "Deployment",
    "ExtractorSettings",
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
    "StreamFunctions",
    "StreamedTable",
    "load_stack_config",
    "parse_stack_config",
]
