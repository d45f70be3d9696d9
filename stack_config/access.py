"""Parsing of the hub's `access` key: Session Manager access host, the roles and groups of
people, and the optional SSH bastion."""

from __future__ import annotations

import base64
import binascii
import re

from stack_config import checks
from stack_config.model import AccessHost, AccessSettings, SshBastion
from stack_config.retention import log_retention
from stack_config.section import Section

_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9]+")
_PUBLIC_KEY = re.compile(r"(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256) [A-Za-z0-9+/]+={0,3}( \S.*)?")

instance_type = checks.matching(_INSTANCE_TYPE, "an EC2 instance type such as t4g.nano")
_public_key_line = checks.matching(
    _PUBLIC_KEY, "an OpenSSH public key line (ssh-ed25519 AAAA... comment), never a private key"
)


def public_key(value: str) -> str:
    """An OpenSSH public key line whose key data decodes and names the same key type (EC2
    refuses a key pair otherwise, at `pulumi up`)."""
    _public_key_line(value)
    key_type, data = value.split()[:2]
    try:
        blob = base64.b64decode(data, validate=True)
    except binascii.Error:
        raise ValueError("the key data (after the key type) is not valid base64") from None
    length = int.from_bytes(blob[:4], "big")
    if blob[4 : 4 + length] != key_type.encode():
        raise ValueError(f"the key data is not a {key_type} key: copy the whole .pub file's line")
    return value


def access(section: Section) -> AccessSettings:
    host = section.section("accessHost", default={})
    bastion = section.section("sshBastion", default={})
    settings = AccessSettings(
        access_host=_access_host(host),
        report_developer_roles=section.texts(
            "reportDeveloperRoles", check=checks.iam_name, default=[], min_items=0
        ),
        office_only_roles=section.texts(
            "officeOnlyRoles", check=checks.iam_name, default=[], min_items=0
        ),
        office_only_groups=section.texts(
            "officeOnlyGroups", check=checks.iam_name, default=[], min_items=0
        ),
        ssh_bastion=_bastion(bastion) if bastion.written_keys() else None,
    )
    section.finish()
    return settings


def _access_host(section: Section) -> AccessHost:
    host = AccessHost(
        instance_type=section.text("instanceType", default="t4g.nano", check=instance_type),
        session_log_retention_days=log_retention(section, "sessionLogRetentionDays"),
    )
    section.finish()
    return host


def _bastion(section: Section) -> SshBastion:
    bastion = SshBastion(
        instance_type=section.text("instanceType", default="t4g.nano", check=instance_type),
        public_key=section.text("publicKey", check=public_key),
    )
    section.finish()
    return bastion
