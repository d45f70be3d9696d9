"""Operations under mocks, on every stack file: alarms with the right metric, threshold and
action; the alert topic encrypted and subscribed; schedule tags on compute; the scheduler,
mailer, freshness check and sweeper wired as configured."""

from __future__ import annotations

import json

import pytest

from components.alert_topic import address_digest
from components.tags import SCHEDULE_TAG
from components.working_hours import schedules_environment
from functions.working_hours.working_time import schedule_from_dict
from offline.engine import StackRun
from offline.estate import environment_of
from offline.mocks import RegisteredResource
from tests.stack_helpers import ALL_STACKS, HUB_STACKS, SPOKE_STACKS, parsed_config

ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
FUNCTION = "aws:lambda/function:Function"
COMPUTE = ("aws:rds/instance:Instance", "aws:ec2/instance:Instance")


@pytest.fixture(params=ALL_STACKS)
def stack_run(request, estates) -> StackRun:
    return estates[environment_of(request.param)].run_of(request.param)


def _alarms_of(run: StackRun, dimension: str, value: str) -> dict[str, RegisteredResource]:
    return {
        alarm.inputs["metricName"]: alarm
        for alarm in run.of_type(ALARM)
        if alarm.inputs.get("dimensions", {}).get(dimension) == value
    }


def test_the_alert_topic_is_encrypted_and_every_alarm_notifies_it(stack_run: StackRun):
    topic = stack_run.one("aws:sns/topic:Topic")
    keys = {key.outputs["arn"] for key in stack_run.of_type("aws:kms/key:Key")}
    assert topic.inputs["kmsMasterKeyId"] in keys
    alarms = stack_run.of_type(ALARM)
    assert alarms
    for alarm in alarms:
        assert alarm.inputs["alarmActions"] == [topic.outputs["arn"]], alarm.name
        assert alarm.inputs["okActions"] == [topic.outputs["arn"]], alarm.name


def test_every_function_has_error_throttle_and_failure_queue_alarms(stack_run: StackRun):
    for function in stack_run.of_type(FUNCTION):
        alarms = _alarms_of(stack_run, "FunctionName", function.outputs["name"])
        assert {"Errors", "Throttles"} <= set(alarms), function.name
        for metric, periods in (("Errors", 1), ("Throttles", 3)):
            alarm = alarms[metric]
            assert (alarm.inputs["statistic"], alarm.inputs["threshold"]) == ("Sum", 0)
            assert alarm.inputs["comparisonOperator"] == "GreaterThanThreshold"
            assert alarm.inputs["evaluationPeriods"] == periods
    queues = stack_run.of_type("aws:sqs/queue:Queue")
    for queue in queues:
        (depth,) = _alarms_of(stack_run, "QueueName", queue.outputs["name"]).values()
        assert depth.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
        assert depth.inputs["threshold"] == 0


def test_email_subscriptions_are_the_configured_addresses_named_by_address(stack_run: StackRun):
    emails = parsed_config(stack_run.stack).operations.alerts.emails
    subscriptions = [
        s
        for s in stack_run.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["protocol"] == "email"
    ]
    assert sorted(s.inputs["endpoint"] for s in subscriptions) == sorted(emails)
    assert emails
    # Removing one address must not rename (replace) the others' subscriptions.
    for subscription in subscriptions:
        assert subscription.name.endswith(address_digest(subscription.inputs["endpoint"]))


def test_compute_carries_the_stacks_schedule_tag(stack_run: StackRun):
    schedule = parsed_config(stack_run.stack).deployment.schedule
    compute = [r for r in stack_run.resources if r.type in COMPUTE]
    assert compute
    for resource in compute:
        assert resource.inputs["tags"][SCHEDULE_TAG] == schedule, resource.name


@pytest.mark.parametrize("stack", HUB_STACKS)
def test_the_reporting_database_backs_up_and_is_maintained_in_working_hours(estates, stack):
    run = estates[stack].hub
    settings = parsed_config(stack).database
    database = run.one("aws:rds/instance:Instance")
    assert database.inputs["backupWindow"] == settings.backup_window == "08:00-08:30"
    assert database.inputs["maintenanceWindow"] == settings.maintenance_window


def test_every_provider_leaves_the_schedulers_tags_alone(stack_run: StackRun):
    (provider,) = stack_run.of_type("pulumi:providers:aws")
    # Providers take nested settings as JSON.
    assert json.loads(provider.inputs["ignoreTags"]) == {"keyPrefixes": ["Scheduler"]}


@pytest.mark.parametrize("stack", HUB_STACKS)
def test_reporting_database_alarms_on_cpu_and_free_storage(estates, stack):
    run = estates[stack].hub
    settings = parsed_config(stack).database
    database = run.one("aws:rds/instance:Instance")
    alarms = _alarms_of(run, "DBInstanceIdentifier", database.outputs["identifier"])
    cpu, storage = alarms["CPUUtilization"], alarms["FreeStorageSpace"]
    assert (cpu.inputs["threshold"], cpu.inputs["evaluationPeriods"]) == (80, 3)
    assert cpu.inputs["comparisonOperator"] == "GreaterThanThreshold"
    assert storage.inputs["comparisonOperator"] == "LessThanThreshold"
    # Below 5% for 15 minutes: RDS storage autoscaling acts at 10%, so this is it failing.
    assert storage.inputs["threshold"] == settings.allocated_storage_gb * 1024**3 // 20
    assert storage.inputs["evaluationPeriods"] == 3
    # Stopped out of hours, the database sends no data: that is not a breach.
    assert {cpu.inputs["treatMissingData"], storage.inputs["treatMissingData"]} == {"notBreaching"}


@pytest.mark.parametrize("stack", SPOKE_STACKS)
def test_every_replica_alarms_on_lag(estates, stack):
    run = estates[environment_of(stack)].run_of(stack)
    replicas = run.of_type("aws:rds/instance:Instance")
    assert replicas
    for replica in replicas:
        lag = _alarms_of(run, "DBInstanceIdentifier", replica.outputs["identifier"])["ReplicaLag"]
        assert (lag.inputs["threshold"], lag.inputs["statistic"]) == (600, "Maximum")


def _scheduler(run: StackRun) -> RegisteredResource | None:
    found = [f for f in run.of_type(FUNCTION) if f.inputs["name"].endswith("-scheduler")]
    return found[0] if found else None


def test_the_scheduler_runs_where_configured_with_the_stacks_schedules(stack_run: StackRun):
    operations = parsed_config(stack_run.stack).operations
    function = _scheduler(stack_run)
    if operations.scheduler is None:
        assert function is None
        return
    assert function is not None
    variables = function.inputs["environment"]["variables"]
    assert variables["SCHEDULES"] == schedules_environment(operations.schedules)
    decoded = {
        name: schedule_from_dict(name, raw)
        for name, raw in json.loads(variables["SCHEDULES"]).items()
    }
    assert tuple(decoded.values()) == operations.schedules
    assert variables["DRY_RUN"] == ("true" if operations.scheduler.dry_run else "false")
    (schedule,) = [
        s
        for s in stack_run.of_type("aws:scheduler/schedule:Schedule")
        if s.inputs["target"]["arn"] == function.outputs["arn"]
    ]
    assert schedule.inputs["scheduleExpression"] == operations.scheduler.expression
    for configured in operations.schedules:
        (errors,) = _alarms_of(stack_run, "Schedule", configured.name).values()
        assert (errors.inputs["namespace"], errors.inputs["metricName"]) == (
            "ReportingPlatform/Scheduler",
            "Errors",
        )


def test_the_scheduler_touches_only_tagged_compute_and_writes_only_its_own_tags(
    estates,
):
    run = estates["prod"].hub
    function = _scheduler(run)
    (policy,) = [
        p for p in run.of_type("aws:iam/rolePolicy:RolePolicy") if p.parent == function.parent
    ]
    statements = {s["Sid"]: s for s in json.loads(policy.inputs["policy"])["Statement"]}
    tagged = {"Null": {f"aws:ResourceTag/{SCHEDULE_TAG}": "false"}}
    assert statements["StartAndStopScheduledInstances"]["Condition"] == tagged
    assert statements["StartAndStopScheduledDatabases"]["Condition"] == tagged
    assert statements["TagWhatItDid"]["Condition"]["ForAllValues:StringLike"] == {
        "aws:TagKeys": ["Scheduler*"]
    }
    assert all(s["Resource"] != "*" for sid, s in statements.items() if sid != "ListInstances")


@pytest.mark.parametrize("stack", HUB_STACKS)
def test_the_mailer_is_subscribed_and_may_only_be_invoked_by_the_topic(estates, stack):
    run = estates[stack].hub
    mail = parsed_config(stack).operations.alerts.mail
    (mailer,) = [f for f in run.of_type(FUNCTION) if f.inputs["name"].endswith("-alert-mailer")]
    topic = run.one("aws:sns/topic:Topic")
    (subscription,) = [
        s
        for s in run.of_type("aws:sns/topicSubscription:TopicSubscription")
        if s.inputs["protocol"] == "lambda"
    ]
    assert subscription.inputs["endpoint"] == mailer.outputs["arn"]
    (permission,) = [
        p
        for p in run.of_type("aws:lambda/permission:Permission")
        if p.inputs["function"] == mailer.outputs["name"]
    ]
    assert permission.inputs["principal"] == "sns.amazonaws.com"
    assert permission.inputs["sourceArn"] == topic.outputs["arn"]
    assert permission.urn in subscription.depends_on
    variables = mailer.inputs["environment"]["variables"]
    assert variables["SENDER"] == mail.sender
    assert variables["RECIPIENTS"].split(",") == list(mail.recipients)


@pytest.mark.parametrize("stack", HUB_STACKS)
def test_the_freshness_check_watches_every_loaded_dataset_with_its_window(estates, stack):
    run = estates[stack].hub
    config = parsed_config(stack)
    (check,) = [f for f in run.of_type(FUNCTION) if f.inputs["name"].endswith("-freshness")]
    windows = json.loads(check.inputs["environment"]["variables"]["WINDOWS"])
    overrides = dict(config.freshness.datasets)
    attached = {link.name for link in config.attached_platforms}
    assert {name.split("/")[0] for name in windows} == attached
    for name, hours in windows.items():
        assert hours == overrides.get(name, config.freshness.window_hours)
    assert "maths/staff" in windows
    assert check.inputs["vpcConfig"]["subnetIds"]


@pytest.mark.parametrize("stack", HUB_STACKS)
def test_the_loader_and_sweeper_follow_the_databases_schedule(estates, stack):
    run = estates[stack].hub
    config = parsed_config(stack)
    functions = {f.inputs["name"]: f for f in run.of_type(FUNCTION)}
    loader = functions[f"reporting-{stack}-landing-loader"]
    sweeper = functions[f"reporting-{stack}-incoming-sweeper"]
    expected = config.operations.schedule(config.deployment.schedule)
    for function in (loader, sweeper):
        raw = json.loads(function.inputs["environment"]["variables"]["DATABASE_SCHEDULE"])
        assert schedule_from_dict(raw.pop("name"), raw) == expected
    assert (
        sweeper.inputs["environment"]["variables"]["LOADER_FUNCTION_NAME"]
        == (loader.outputs["name"])
    )
