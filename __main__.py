"""Pulumi entry point: read the stack's config, build its component, export the contract.

The config's `role` decides what this stack is: the reporting account (hub) or one source
platform (spoke). Stack references are made here, never inside components.
"""

from pathlib import Path

import pulumi

import contract
from components import ReportingAccount, ReportingAccountArgs, SourcePlatform, SourcePlatformArgs
from stack_config import HubConfig, load_stack_config

config = load_stack_config(Path(__file__).parent)

if isinstance(config, HubConfig):
    # Only attached platforms are read: a spoke that is not deployed yet is never referenced.
    platforms = {
        link.name: contract.read(contract.PlatformOutputs, pulumi.StackReference(link.stack))
        for link in config.attached_platforms
    }
    hub = ReportingAccount("reporting", ReportingAccountArgs(config, platforms))
    contract.export(hub.outputs)
else:
    hub_outputs = contract.read(contract.HubOutputs, pulumi.StackReference(config.hub_stack))
    spoke = SourcePlatform(config.platform.name, SourcePlatformArgs(config, hub_outputs))
    contract.export(spoke.outputs)
