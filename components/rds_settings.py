"""Engine facts for RDS instances. Pure data, tested without Pulumi."""

from __future__ import annotations

from stack_config import ReplicaSource

# Parameters that make each engine refuse unencrypted connections. SQL Server's is static and
# needs a reboot; the others apply at once.
_TLS_PARAMETERS = {
    "mysql": ("require_secure_transport", "1", "immediate"),
    "mariadb": ("require_secure_transport", "1", "immediate"),
    "postgres": ("rds.force_ssl", "1", "immediate"),
    "sqlserver": ("rds.force_ssl", "1", "pending-reboot"),
}


def replica_parameters(database: ReplicaSource) -> list[dict[str, str]]:
    """A replica's parameter group: TLS forced, plus the source settings it must match. Static
    parameters wait for a reboot; RDS reboots a replica when its parameter group changes."""
    tls = tls_only_parameters(database.engine)
    forced = {entry["name"] for entry in tls}
    source = [
        {"name": name, "value": value, "apply_method": "pending-reboot"}
        for name, value in database.source_parameters
        if name not in forced
    ]
    return tls + source


def tls_only_parameters(engine: str) -> list[dict[str, str]]:
    """Parameter group entries that force TLS for `engine` (sqlserver-* share one)."""
    family = "sqlserver" if engine.startswith("sqlserver") else engine
    name, value, apply_method = _TLS_PARAMETERS[family]
    return [{"name": name, "value": value, "apply_method": apply_method}]
