"""Pulumi components: the hub (ReportingAccount) and a spoke (SourcePlatform), and their parts."""

from components.reporting_account import ReportingAccount, ReportingAccountArgs
from components.source_platform import SourcePlatform, SourcePlatformArgs

__all__ = ["ReportingAccount", "ReportingAccountArgs", "SourcePlatform", "SourcePlatformArgs"]
