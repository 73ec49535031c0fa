"""A controller team's tests against the reference ECS emulator, through the wheel's pytest
plugin: nothing here starts a server or cleans up after itself, the `ecs` fixture does.

`cargo xtask test` runs this suite from a fresh venv holding only the built wheel (with its
`pytest` extra). Run it yourself: `pip install "<the wheel>[pytest]"`, then `pytest`.
"""

import pytest
from botocore.exceptions import ClientError

CLUSTER = "sample"
SERVICE = "web"
NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-0a1b2c3d"], "assignPublicIp": "DISABLED"}}


def external_service(client):
    """A cluster, a task definition and a service whose task sets the test drives."""
    client.create_cluster(clusterName=CLUSTER)
    family = client.register_task_definition(
        family="web",
        containerDefinitions=[{"name": "app", "image": "nginx:1.27", "memory": 128}],
    )["taskDefinition"]["taskDefinitionArn"]
    client.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        desiredCount=4,
        deploymentController={"type": "EXTERNAL"},
    )
    return family


def task_set(client, task_definition, percent):
    return client.create_task_set(
        cluster=CLUSTER,
        service=SERVICE,
        taskDefinition=task_definition,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
        scale={"value": percent, "unit": "PERCENT"},
    )["taskSet"]


def settled_primary(ecs):
    """An EXTERNAL service whose one task set, at 100 %, is its primary, everything settled."""
    client = ecs.client
    created = task_set(client, external_service(client), 100)
    client.update_service_primary_task_set(
        cluster=CLUSTER, service=SERVICE, primaryTaskSet=created["taskSetArn"]
    )
    ecs.settle()
    return created


def describe(client, task_set_id):
    return client.describe_task_sets(cluster=CLUSTER, service=SERVICE, taskSets=[task_set_id])[
        "taskSets"
    ][0]


def test_a_new_task_set_is_answered_before_the_scheduler_has_counted(ecs):
    client = ecs.client
    created = task_set(client, external_service(client), 50)
    # As on AWS: the answer to CreateTaskSet comes before the service scheduler has
    # recomputed it, so it counts nothing yet and is not stable.
    assert created["computedDesiredCount"] == 0
    assert created["stabilityStatus"] == "STABILIZING"
    ecs.settle()
    settled = describe(client, created["id"])
    # 50 % of a desired count of 4, the tasks running, the set at steady state.
    assert settled["computedDesiredCount"] == 2
    assert settled["runningCount"] == 2
    assert settled["stabilityStatus"] == "STEADY_STATE"


def test_a_primary_task_set_is_the_service_s_deployment(ecs):
    client = ecs.client
    settled_primary(ecs)
    service = client.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
    assert service["taskSets"][0]["status"] == "PRIMARY"
    assert service["runningCount"] == 4


def test_a_throttled_call_fails_once_and_is_in_the_call_log(ecs):
    client = ecs.client
    task_definition = external_service(client)
    ecs.fault("throttle", operation="CreateTaskSet", times=1)
    with pytest.raises(ClientError) as refused:
        task_set(client, task_definition, 100)
    assert refused.value.response["Error"]["Code"] == "ThrottlingException"
    # The fault was owed once: the retry a controller makes goes through.
    task_set(client, task_definition, 100)
    calls = ecs.calls("CreateTaskSet")
    assert [("error" in c) for c in calls] == [True, False]
    assert calls[0]["error"]["code"] == "ThrottlingException"


def test_a_slow_recompute_keeps_the_old_count_until_the_time_comes(ecs):
    client = ecs.client
    created = task_set(client, external_service(client), 100)
    ecs.settle()
    ecs.fault("slowRecompute", delay_seconds=300)
    client.update_task_set(
        cluster=CLUSTER,
        service=SERVICE,
        taskSet=created["id"],
        scale={"value": 50, "unit": "PERCENT"},
    )
    ecs.advance(299)
    assert describe(client, created["id"])["computedDesiredCount"] == 4
    ecs.advance(2)
    assert describe(client, created["id"])["computedDesiredCount"] == 2


def test_the_boto3_waiter_sees_a_rolling_deployment_stable(ecs):
    client = ecs.client
    task_definition = external_service(client)
    client.create_service(
        cluster=CLUSTER,
        serviceName="api",
        taskDefinition=task_definition,
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration=NETWORK,
    )
    ecs.settle()
    # Everything is done, so boto3's own waiter succeeds on its first poll.
    client.get_waiter("services_stable").wait(
        cluster=CLUSTER, services=["api"], WaiterConfig={"Delay": 1, "MaxAttempts": 1}
    )


def test_the_boto3_waiter_never_sees_an_external_service_stable(ecs):
    from botocore.exceptions import WaiterError

    client = ecs.client
    created = settled_primary(ecs)
    # As on AWS: an EXTERNAL service answers no deployments, and services_stable asks for
    # exactly one, so a controller of task sets must watch the sets themselves.
    assert describe(client, created["id"])["stabilityStatus"] == "STEADY_STATE"
    with pytest.raises(WaiterError):
        client.get_waiter("services_stable").wait(
            cluster=CLUSTER, services=[SERVICE], WaiterConfig={"Delay": 1, "MaxAttempts": 1}
        )


def test_a_refused_control_request_names_its_reason(ecs):
    from ecs_conformance import ControlError

    with pytest.raises(ControlError) as refused:
        ecs.set_time_scale(0)
    assert refused.value.status == 400
    assert "scale" in refused.value.message


def test_each_test_starts_from_an_empty_account(ecs_client):
    # Last in the file, after tests that made clusters: whatever they created is gone,
    # because the fixture reset the emulator before this test.
    assert ecs_client.list_clusters()["clusterArns"] == []
    ecs_client.create_cluster(clusterName=CLUSTER)
    assert len(ecs_client.list_clusters()["clusterArns"]) == 1
