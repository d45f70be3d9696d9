"""Engine facts for RDS instances. Pure data, tested without Pulumi."""

from __future__ import annotations

# Parameters that make each engine refuse unencrypted connections. SQL Server's is static and
# needs a reboot; the others apply at once.
_TLS_PARAMETERS = {
    "mysql": ("require_secure_transport", "1", "immediate"),
    "mariadb": ("require_secure_transport", "1", "immediate"),
    "postgres": ("rds.force_ssl", "1", "immediate"),
    "sqlserver": ("rds.force_ssl", "1", "pending-reboot"),
}


def tls_only_parameters(engine: str) -> list[dict[str, str]]:
    """Parameter group entries that force TLS for `engine` (sqlserver-* share one)."""
    family = "sqlserver" if engine.startswith("sqlserver") else engine
    name, value, apply_method = _TLS_PARAMETERS[family]
    return [{"name": name, "value": value, "apply_method": apply_method}]
