"""The whole task-set lifecycle against the reference emulator through boto3, a client this
project did not write. Run by `cargo xtask test` (which creates the venv and starts the
emulator):  python boto3_lifecycle.py http://127.0.0.1:PORT
"""

import sys
import time

import boto3
from botocore.exceptions import ClientError

endpoint = sys.argv[1]
ecs = boto3.client(
    "ecs",
    endpoint_url=endpoint,
    region_name="us-west-2",
    aws_access_key_id="AKIDEXAMPLE",
    aws_secret_access_key="emulator-secret",
)
checks = 0


def check(condition, what):
    global checks
    if not condition:
        raise AssertionError(what)
    checks += 1


def error_code(call, **kwargs):
    try:
        call(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def wait_steady(task_set_id, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        ts = ecs.describe_task_sets(cluster="py", service="web", taskSets=[task_set_id])["taskSets"][0]
        if ts["stabilityStatus"] == "STEADY_STATE":
            return ts
        time.sleep(0.05)
    raise AssertionError(f"{task_set_id} not steady within {timeout}s")


ecs.create_cluster(clusterName="py")
td1 = ecs.register_task_definition(
    family="web", containerDefinitions=[{"name": "web", "image": "nginx:1.26", "memory": 128}]
)["taskDefinition"]
ecs.register_task_definition(family="web", containerDefinitions=[{"name": "web", "image": "nginx:1.27", "memory": 128}])
check(td1["taskDefinitionArn"] == "arn:aws:ecs:us-west-2:123456789012:task-definition/web:1", "full task definition ARN")

svc = ecs.create_service(
    cluster="py", serviceName="web", desiredCount=4, deploymentController={"type": "EXTERNAL"}
)["service"]
check(svc["deploymentController"]["type"] == "EXTERNAL", "EXTERNAL controller")
check(svc["deployments"] == [] and svc["taskSets"] == [], "an EXTERNAL service starts with no deployments or task sets")

blue = ecs.create_task_set(
    cluster="py", service="web", taskDefinition="web:1", scale={"value": 100.0, "unit": "PERCENT"}
)["taskSet"]
check(blue["id"].startswith("ecs-svc/") and len(blue["id"]) == len("ecs-svc/") + 19, "task set id format")
check(blue["taskSetArn"].endswith("/py/web/" + blue["id"]), "task set ARN format")
check(blue["status"] == "ACTIVE", "a new task set is ACTIVE")
check(blue["computedDesiredCount"] == 4, "computedDesiredCount = ceil(4 x 100%)")
check(blue["launchType"] == "EC2", "default launch type")
check(blue["stabilityStatus"] == "STABILIZING", "a new task set is STABILIZING")

primary = ecs.update_service_primary_task_set(cluster="py", service="web", primaryTaskSet=blue["taskSetArn"])["taskSet"]
check(primary["status"] == "PRIMARY", "UpdateServicePrimaryTaskSet makes the set PRIMARY")
steady = wait_steady(blue["id"])
check(steady["runningCount"] == 4 and steady["pendingCount"] == 0, "steady state counts")

green = ecs.create_task_set(
    cluster="py", service="web", taskDefinition="web:2", scale={"value": 30.0, "unit": "PERCENT"}
)["taskSet"]
check(green["computedDesiredCount"] == 2, "ceil(4 x 30%) = ceil(1.2) = 2")
updated = ecs.update_task_set(cluster="py", service="web", taskSet=green["id"], scale={"value": 100.0, "unit": "PERCENT"})["taskSet"]
check(updated["computedDesiredCount"] == 4, "recomputed after UpdateTaskSet")
wait_steady(green["id"])

ecs.update_service_primary_task_set(cluster="py", service="web", primaryTaskSet=green["id"])
sets = {s["id"]: s for s in ecs.describe_task_sets(cluster="py", service="web")["taskSets"]}
check(sets[green["id"]]["status"] == "PRIMARY" and sets[blue["id"]]["status"] == "ACTIVE", "the previous primary is ACTIVE")
svc = ecs.describe_services(cluster="py", services=["web"])["services"][0]
check(svc["taskDefinition"].endswith("task-definition/web:2"), "the service takes the primary's task definition")

ecs.update_service(cluster="py", service="web", desiredCount=10)
sets = {s["id"]: s for s in ecs.describe_task_sets(cluster="py", service="web")["taskSets"]}
check(sets[green["id"]]["computedDesiredCount"] == 10, "recomputed after the desired count changes")
check(
    error_code(ecs.update_service, cluster="py", service="web", taskDefinition="web:1") == "InvalidParameterException",
    "UpdateService cannot change the task definition of an EXTERNAL service",
)

check(error_code(ecs.delete_task_set, cluster="py", service="web", taskSet=blue["id"]) == "InvalidParameterException", "force rule")
ecs.update_task_set(cluster="py", service="web", taskSet=blue["id"], scale={"value": 0.0, "unit": "PERCENT"})
draining = ecs.delete_task_set(cluster="py", service="web", taskSet=blue["id"])["taskSet"]
check(draining["status"] == "DRAINING", "DeleteTaskSet answers DRAINING")
time.sleep(0.3)
gone = ecs.describe_task_sets(cluster="py", service="web", taskSets=[blue["id"]])
check(gone["taskSets"] == [] and gone["failures"][0]["reason"] == "MISSING", "a drained set is gone, with a failures entry")

tagged = ecs.describe_task_sets(cluster="py", service="web", include=["TAGS"])
check("tags" in tagged["taskSets"][0], "tags with include TAGS")
check("tags" not in ecs.describe_task_sets(cluster="py", service="web")["taskSets"][0], "no tags without include")
check(error_code(ecs.describe_task_sets, cluster="nope", service="web") == "ClusterNotFoundException", "unknown cluster")

ecs.update_service(cluster="py", service="web", desiredCount=0)
ecs.delete_service(cluster="py", service="web", force=True)
print(f"boto3 lifecycle: {checks} passed, 0 failed")
