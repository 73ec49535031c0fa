"""The whole task-set lifecycle against the reference emulator through boto3, a client this
project did not write. Run by `cargo xtask test` (which creates the venv and starts the
emulator):  python boto3_lifecycle.py http://127.0.0.1:PORT
"""

import sys
import time


from pycheck import check, emulator_client, error_code, summary

endpoint = sys.argv[1]
ecs = emulator_client("ecs", endpoint, "us-west-2")


def describe(task_set_id):
    return ecs.describe_task_sets(cluster="py", service="web", taskSets=[task_set_id])["taskSets"][0]


def settles_at(task_set_id, expected, timeout=10.0):
    """Whether computedDesiredCount reaches `expected` within `timeout`, polling
    DescribeTaskSets (AWS recomputes it seconds after the call that changed it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if describe(task_set_id)["computedDesiredCount"] == expected:
            return True
        time.sleep(0.05)
    return False


def all_sets():
    return {s["id"]: s for s in ecs.describe_services(cluster="py", services=["web"])["services"][0]["taskSets"]}


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
check(blue["computedDesiredCount"] == 0, "CreateTaskSet answers the count from before the recompute")
check(settles_at(blue["id"], 4), "computedDesiredCount settles at ceil(4 x 100%)")
check(blue["launchType"] == "EC2", "default launch type")
check(blue["stabilityStatus"] == "STABILIZING", "a new task set is STABILIZING")

primary = ecs.update_service_primary_task_set(cluster="py", service="web", primaryTaskSet=blue["taskSetArn"])["taskSet"]
check(primary["status"] == "PRIMARY", "UpdateServicePrimaryTaskSet makes the set PRIMARY")
steady = wait_steady(blue["id"])
check(steady["runningCount"] == 4 and steady["pendingCount"] == 0, "steady state counts")

green = ecs.create_task_set(
    cluster="py", service="web", taskDefinition="web:2", scale={"value": 30.0, "unit": "PERCENT"}
)["taskSet"]
check(green["computedDesiredCount"] == 0, "a new set answers 0")
check(settles_at(green["id"], 2), "ceil(4 x 30%) = ceil(1.2) = 2 once settled")
updated = ecs.update_task_set(cluster="py", service="web", taskSet=green["id"], scale={"value": 100.0, "unit": "PERCENT"})["taskSet"]
check(updated["computedDesiredCount"] == 2, "UpdateTaskSet answers the previous value")
check(settles_at(green["id"], 4), "recomputed after UpdateTaskSet")
wait_steady(green["id"])

ecs.update_service_primary_task_set(cluster="py", service="web", primaryTaskSet=green["id"])
sets = all_sets()
check(sets[green["id"]]["status"] == "PRIMARY" and sets[blue["id"]]["status"] == "ACTIVE", "the previous primary is ACTIVE")
svc = ecs.describe_services(cluster="py", services=["web"])["services"][0]
check(svc["taskDefinition"].endswith("task-definition/web:2"), "the service takes the primary's task definition")

answer = ecs.update_service(cluster="py", service="web", desiredCount=10)["service"]
check({s["id"]: s for s in answer["taskSets"]}[green["id"]]["computedDesiredCount"] == 4, "UpdateService answers the counts from before")
check(settles_at(green["id"], 10), "every set is recomputed after the desired count changes")
# 250 x 64.4% is exactly 161 (a binary float multiply-then-ceil says 162).
ecs.update_service(cluster="py", service="web", desiredCount=250)
ecs.update_task_set(cluster="py", service="web", taskSet=green["id"], scale={"value": 64.4, "unit": "PERCENT"})
check(settles_at(green["id"], 161), "ceil(250 x 64.4%) settles at exactly 161")
check(
    error_code(ecs.update_service, cluster="py", service="web", taskDefinition="web:1") == "InvalidParameterException",
    "UpdateService cannot change the task definition of an EXTERNAL service",
)

check(error_code(ecs.delete_task_set, cluster="py", service="web", taskSet=green["id"]) == "InvalidParameterException", "the PRIMARY set is not deleted without force")
ecs.update_task_set(cluster="py", service="web", taskSet=blue["id"], scale={"value": 0.0, "unit": "PERCENT"})
draining = ecs.delete_task_set(cluster="py", service="web", taskSet=blue["id"])["taskSet"]
check(draining["status"] == "DRAINING", "DeleteTaskSet answers DRAINING")
deadline = time.time() + 10
while time.time() < deadline:
    gone = ecs.describe_task_sets(cluster="py", service="web", taskSets=[blue["id"]])
    if not gone["taskSets"]:
        break
    time.sleep(0.05)
check(gone["taskSets"] == [] and gone["failures"][0]["reason"] == "MISSING", "a drained set is gone, with a failures entry")

tagged = ecs.describe_task_sets(cluster="py", service="web", taskSets=[green["id"]], include=["TAGS"])
check("tags" in tagged["taskSets"][0], "tags with include TAGS")
check("tags" not in describe(green["id"]), "no tags without include")
check(error_code(ecs.describe_task_sets, cluster="py", service="web") == "InvalidParameterException", "DescribeTaskSets needs ids, as AWS answers")
check(error_code(ecs.describe_task_sets, cluster="nope", service="web", taskSets=[green["id"]]) == "ClusterNotFoundException", "unknown cluster")

ecs.update_service(cluster="py", service="web", desiredCount=0)
ecs.delete_service(cluster="py", service="web", force=True)

# botocore's own waiters, as deployment tools call them: services-stable on a rolling (ECS
# controller) service after a new revision, and services-inactive after its deletion. The
# waiter reads deployments, runningCount and desiredCount exactly as it does against AWS.
rolling = ecs.create_service(cluster="py", serviceName="rolling", taskDefinition="web:1", desiredCount=3)["service"]
check(rolling["deployments"][0]["rolloutState"] == "IN_PROGRESS", "a new service's deployment is IN_PROGRESS")
fast = {"Delay": 1, "MaxAttempts": 30}
ecs.get_waiter("services_stable").wait(cluster="py", services=["rolling"], WaiterConfig=fast)
stable = ecs.describe_services(cluster="py", services=["rolling"])["services"][0]
check(len(stable["deployments"]) == 1 and stable["runningCount"] == 3, "services-stable: one deployment, all tasks running")
# The service's tasks are objects: listed, described RUNNING, started by the deployment.
arns = ecs.list_tasks(cluster="py", serviceName="rolling")["taskArns"]
check(len(arns) == 3, "ListTasks lists the service's three tasks")
ecs.get_waiter("tasks_running").wait(cluster="py", tasks=arns, WaiterConfig=fast)
tasks = ecs.describe_tasks(cluster="py", tasks=arns)["tasks"]
check(all(t["lastStatus"] == "RUNNING" and t["group"] == "service:rolling" for t in tasks), "tasks-running")
check({t["startedBy"] for t in tasks} == {stable["deployments"][0]["id"]}, "started by the deployment")
stopped = ecs.stop_task(cluster="py", task=arns[0])["task"]
check(stopped["desiredStatus"] == "STOPPED" and stopped["stopCode"] == "UserInitiated", "StopTask answers desired STOPPED")
ecs.get_waiter("tasks_stopped").wait(cluster="py", tasks=[arns[0]], WaiterConfig=fast)
ecs.get_waiter("services_stable").wait(cluster="py", services=["rolling"], WaiterConfig=fast)
check(len(ecs.list_tasks(cluster="py", serviceName="rolling")["taskArns"]) == 3, "the scheduler replaced the stopped task")
ecs.update_service(cluster="py", service="rolling", taskDefinition="web:2")
ecs.get_waiter("services_stable").wait(cluster="py", services=["rolling"], WaiterConfig=fast)
stable = ecs.describe_services(cluster="py", services=["rolling"])["services"][0]
check(stable["taskDefinition"].endswith("task-definition/web:2") and len(stable["deployments"]) == 1, "services-stable after a new revision")
ecs.delete_service(cluster="py", service="rolling", force=True)
ecs.get_waiter("services_inactive").wait(cluster="py", services=["rolling"], WaiterConfig=fast)
check(ecs.describe_services(cluster="py", services=["rolling"])["services"][0]["status"] == "INACTIVE", "services-inactive")
print(summary("boto3 lifecycle"))
