"""ODBC connections to the read replicas: TLS required, logins from Secrets Manager.

pyodbc is imported only when a connection is opened: it needs the ODBC layer, which the unit
tests and the handler's import do not.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from functions.extractor.settings import Replica

# The drivers' names as unixODBC registers them by default; a replica's `driver` overrides.
DEFAULT_DRIVERS = {
    "postgres": "PostgreSQL Unicode",
    "mysql": "MySQL ODBC 8.0 Unicode Driver",
    "mariadb": "MySQL ODBC 8.0 Unicode Driver",
    "sqlserver-ee": "ODBC Driver 18 for SQL Server",
}
# The RDS certificate authorities, where the ODBC layer puts them (as for the loader): the
# connection is refused unless the replica's certificate chains to them and names its host.
RDS_CA_BUNDLE = "/opt/etc/rds-ca-bundle.pem"
# Below any sensible function timeout, so an unreachable replica fails its dataset clearly.
LOGIN_TIMEOUT_SECONDS = 10
# Values are read in the session's zone: UTC, the zone the loader takes a value without one in.
SESSION_SETUP = {
    "postgres": ["SET TIME ZONE 'UTC'"],
    "mysql": ["SET time_zone = '+00:00'"],
    "mariadb": ["SET time_zone = '+00:00'"],
    "sqlserver-ee": [],
}
# pyodbc has no converter of its own for SQL Server's datetimeoffset.
SQL_SS_TIMESTAMPOFFSET = -155


def replica_connection_string(replica: Replica, username: str, password: str) -> str:
    """The ODBC connection string of `replica`: encrypted, and only to a server whose
    certificate the RDS certificate authorities vouch for under the replica's host name."""
    driver = replica.driver or DEFAULT_DRIVERS[replica.engine]
    login = {"Database": replica.database, "Uid": username, "Pwd": password}
    if replica.engine == "postgres":
        # BoolsAsChar=0: booleans arrive as booleans, not "1"/"0" text.
        attributes = {
            "Driver": driver,
            "Server": replica.host,
            "Port": str(replica.port),
            **login,
            "SSLmode": "verify-full",
            "pqopt": f"sslrootcert={RDS_CA_BUNDLE}",
            "BoolsAsChar": "0",
        }
    elif replica.engine in ("mysql", "mariadb"):
        attributes = {
            "Driver": driver,
            "Server": replica.host,
            "Port": str(replica.port),
            **login,
            "SSLMODE": "VERIFY_IDENTITY",
            "SSLCA": RDS_CA_BUNDLE,
            "CHARSET": "utf8mb4",
        }
    else:
        attributes = {
            "Driver": driver,
            "Server": f"tcp:{replica.host},{replica.port}",
            **login,
            "Encrypt": "yes",
            "TrustServerCertificate": "no",
        }
    return odbc_connection_string(attributes)


def odbc_connection_string(attributes: Mapping[str, str]) -> str:
    """`Key=value;` pairs in order, each value braced when it holds characters that end it."""
    return "".join(f"{key}={_odbc_value(value)};" for key, value in attributes.items())


def open_odbc(connection_string: str) -> Any:
    """A pyodbc connection in autocommit: each page is its own short statement, so no
    transaction holds back the replica's replay."""
    import pyodbc  # noqa: PLC0415 -- needs the ODBC layer, which importing the handler does not

    return pyodbc.connect(connection_string, autocommit=True, timeout=LOGIN_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class ReplicaConnector:
    """Opens connections to replicas with their logins from Secrets Manager."""

    secrets: Any
    # Takes the connection string; pyodbc's connect, or a stand-in in tests.
    connect: Callable[[str], Any] = open_odbc

    def open(self, replica: Replica) -> Any:
        """An open connection to `replica`, its session in UTC."""
        # Read on every connect, not once: RDS rotates the password behind the secret.
        secret = json.loads(
            self.secrets.get_secret_value(SecretId=replica.secret_arn)["SecretString"]
        )
        connection = self.connect(
            replica_connection_string(replica, secret["username"], secret["password"])
        )
        if replica.engine.startswith("sqlserver"):
            connection.add_output_converter(SQL_SS_TIMESTAMPOFFSET, datetimeoffset)
        cursor = connection.cursor()
        for statement in SESSION_SETUP[replica.engine]:
            cursor.execute(statement)
        cursor.close()
        return connection


def datetimeoffset(raw: bytes) -> datetime:
    """A SQL Server datetimeoffset as the driver sends it (SQL_SS_TIMESTAMPOFFSET_STRUCT)."""
    year, month, day, hour, minute, second, nanoseconds, offset_hours, offset_minutes = (
        struct.unpack("<6hI2h", raw)
    )
    zone = timezone(timedelta(hours=offset_hours, minutes=offset_minutes))
    return datetime(year, month, day, hour, minute, second, nanoseconds // 1000, tzinfo=zone)


def _odbc_value(value: str) -> str:
    if any(character in value for character in ";{}=") or value != value.strip():
        return "{" + value.replace("}", "}}") + "}"
    return value
