"""The extractor (issue 5): on a schedule, in the app tier, it reads only the declared columns
of rows past each dataset's watermark from the platforms' read replicas and writes gzip CSV parts
to `incoming/<platform>/<dataset>/` of the landing bucket, where the loader takes them.

The hub creates one Secrets Manager secret per replica the catalog extracts from, for the
platform's read-only login (its value is put once by an operator of the reporting account, with
the login the platform's team supplies; never in config or state), and the key that hashes
`privacy: hash` columns (generated; in Secrets Manager and, encrypted, in the stack's state).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.dataset_catalog import catalog_assets
from components.extractor_policies import ExtractorGrants, extractor_policy
from components.lambda_function import (
    ODBC_LAYER_ENVIRONMENT,
    FunctionSpec,
    LambdaFunction,
    LambdaFunctionArgs,
)
from components.scheduled_invocation import Invocation, invoke_on_schedule
from components.security_rules import HTTPS, tcp_rule
from contract import PlatformOutputs
from functions.catalog import Catalog, Dataset
from stack_config import ExtractorSettings

EXTRACTOR_PACKAGES = ["functions.extractor", "functions.catalog"]
HANDLER = "functions.extractor.handler.lambda_handler"
# A missed run is not retried after this: the next scheduled run reads the same rows anyway.
MAXIMUM_EVENT_AGE_SECONDS = 3600
HASH_KEY_CHARACTERS = 64


@dataclass(frozen=True)
class ExtractorArgs:
    settings: ExtractorSettings
    environment: str
    account_id: str
    catalog: Catalog
    # The attached platforms' stack outputs, by platform name.
    platforms: dict[str, PlatformOutputs]
    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    storage_key_arn: pulumi.Input[str]
    secrets_key_arn: pulumi.Input[str]
    operations_key_arn: pulumi.Input[str]
    alert_topic_arn: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    subnet_ids: list[pulumi.Input[str]]
    replica_clients_security_group_id: pulumi.Input[str]
    s3_prefix_list_id: pulumi.Input[str]
    endpoints_security_group_id: pulumi.Input[str]
    tags: dict[str, str]


class Extractor(pulumi.ComponentResource):
    """The extractor function, its schedule, the replica login secrets and the hash key."""

    function_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: ExtractorArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reporting:extracts:Extractor", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        settings = args.settings
        extracted = {
            platform: datasets
            for platform in sorted(args.platforms)
            if (datasets := extracted_datasets(args.catalog, platform))
        }
        prefix = f"reporting/{args.environment}"
        logins = {
            (platform, database): aws.secretsmanager.Secret(
                f"{name}-{platform}-{database}-login",
                name=f"{prefix}/replicas/{platform}/{database}",
                description=(
                    f"Read-only login to the {platform} replica '{database}': JSON "
                    '{"username": ..., "password": ...}, put by a reporting-account operator'
                ),
                kms_key_id=args.secrets_key_arn,
                tags=args.tags,
                opts=child,
            )
            for platform, datasets in extracted.items()
            for database in sorted({d.extract.database for d in datasets})
        }
        hash_key = aws.secretsmanager.Secret(
            f"{name}-hash-key",
            name=f"{prefix}/extracts/hash-key",
            description="Key of the HMAC that hashes `privacy: hash` columns: rotating it "
            "changes every hashed value",
            kms_key_id=args.secrets_key_arn,
            tags=args.tags,
            opts=child,
        )
        # Default providers are disabled for every package (Pulumi.yaml): random gets its own.
        random_provider = random.Provider(f"{name}-random", opts=child)
        key_value = random.RandomPassword(
            f"{name}-hash-key-value",
            length=HASH_KEY_CHARACTERS,
            special=False,
            opts=pulumi.ResourceOptions(parent=self, provider=random_provider),
        )
        aws.secretsmanager.SecretVersion(
            f"{name}-hash-key-version",
            secret_id=hash_key.id,
            secret_string=key_value.result,
            opts=child,
        )
        security_group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Extractor: S3 and AWS API endpoints (replicas through replica-clients)",
            vpc_id=args.vpc_id,
            ingress=[],
            egress=pulumi.Output.all(
                args.s3_prefix_list_id, args.endpoints_security_group_id
            ).apply(
                lambda ids: [
                    tcp_rule("S3 through the gateway endpoint", HTTPS, prefix_list_ids=[ids[0]]),
                    tcp_rule(
                        "AWS APIs through the interface endpoints", HTTPS, security_groups=[ids[1]]
                    ),
                ]
            ),
            tags={**args.tags, "Name": f"{name}-sg"},
            opts=child,
        )
        replicas = _replicas(extracted, args.platforms, logins)
        incoming = [d.qualified_name for datasets in extracted.values() for d in datasets]
        secret_arns = [secret.arn for secret in logins.values()] + [hash_key.arn]
        function = LambdaFunction(
            f"{name}-fn",
            LambdaFunctionArgs(
                spec=FunctionSpec(
                    function_name=f"reporting-{args.environment}-extractor",
                    description="Extractor (read replicas to the landing bucket)",
                    handler=HANDLER,
                    packages=EXTRACTOR_PACKAGES,
                    environment={
                        "LANDING_BUCKET": args.bucket_name,
                        "HASH_KEY_SECRET_ARN": hash_key.arn,
                        "REPLICAS": replicas,
                        "OVERLAP_SECONDS": str(settings.overlap_seconds),
                        "POWERTOOLS_SERVICE_NAME": "extractor",
                        **ODBC_LAYER_ENVIRONMENT,
                    },
                    policy=lambda logs, queue: pulumi.Output.all(
                        args.bucket_arn,
                        args.storage_key_arn,
                        pulumi.Output.all(*secret_arns),
                        args.secrets_key_arn,
                        args.operations_key_arn,
                    ).apply(
                        lambda values: extractor_policy(
                            ExtractorGrants(
                                bucket_arn=values[0],
                                incoming_prefixes=[f"incoming/{name}/" for name in incoming],
                                storage_key_arn=values[1],
                                secret_arns=values[2],
                                secrets_key_arn=values[3],
                                failure_queue_arn=queue,
                                failure_queue_key_arn=values[4],
                                log_group_arn=logs,
                            )
                        )
                    ),
                    code_assets=catalog_assets(),
                    vpc_config={
                        "subnet_ids": args.subnet_ids,
                        "security_group_ids": [
                            security_group.id,
                            args.replica_clients_security_group_id,
                        ],
                    },
                ),
                account_id=args.account_id,
                architecture=settings.architecture,
                memory_mb=settings.memory_mb,
                timeout_seconds=settings.timeout_seconds,
                layer_arns=[settings.powertools_layer_arn, settings.odbc_layer_arn],
                log_retention_days=settings.log_retention_days,
                key_arn=args.operations_key_arn,
                alert_topic_arn=args.alert_topic_arn,
                tags=args.tags,
            ),
            opts=child,
        )
        invoke_on_schedule(
            name,
            function,
            Invocation(
                schedule_name=f"reporting-{args.environment}-extracts",
                expression=settings.schedule,
                timezone=settings.timezone,
                maximum_event_age_seconds=MAXIMUM_EVENT_AGE_SECONDS,
                account_id=args.account_id,
                queue_key_arn=args.operations_key_arn,
                tags=args.tags,
            ),
            parent=self,
        )
        self.function_arn = function.function_arn
        self.register_outputs({"function_arn": self.function_arn})


def extracted_datasets(catalog: Catalog, platform: str) -> list[Dataset]:
    """The platform's datasets the extractor pulls, in catalog order."""
    return [d for d in catalog.datasets if d.platform == platform and d.extract is not None]


def _replicas(
    extracted: dict[str, list[Dataset]],
    platforms: dict[str, PlatformOutputs],
    logins: dict[tuple[str, str], aws.secretsmanager.Secret],
) -> pulumi.Output[str]:
    """REPLICAS for the function: per platform and replica, where it is and its login secret.
    A catalog naming a replica its platform does not have stops the deployment."""
    rows = [
        pulumi.Output.all(platform, database, platforms[platform].replica_endpoints, secret.arn)
        for (platform, database), secret in logins.items()
    ]

    def replicas(found: list[list]) -> str:
        table: dict[str, dict[str, dict]] = {}
        for platform, database, endpoints, secret_arn in found:
            endpoint = next((e for e in endpoints if e["name"] == database), None)
            if endpoint is None:
                names = ", ".join(sorted(e["name"] for e in endpoints)) or "none"
                raise ValueError(
                    f"datasets/{platform}.yaml extracts from replica '{database}', but the "
                    f"{platform} stack has no such replica (it has: {names})"
                )
            table.setdefault(platform, {})[database] = {
                "engine": endpoint["engine"],
                "host": endpoint["address"],
                # Stack references return numbers as floats; the function takes a whole port.
                "port": int(endpoint["port"]),
                "database": database,
                "secret_arn": secret_arn,
            }
        return json.dumps(table, sort_keys=True)

    return pulumi.Output.all(*rows).apply(replicas)
