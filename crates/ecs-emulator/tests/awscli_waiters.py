"""The AWS CLI's ECS waiters against the reference emulator, as deployment scripts call them:
`aws ecs wait services-stable` on a rolling Fargate service (after creation and after a new
revision), `tasks-running` and `tasks-stopped` on a RunTask task, `services-inactive` after
the service's deletion. Run by `cargo xtask test`, which installs the CLI in a venv of its own
and starts the emulator:  python awscli_waiters.py AWS_EXECUTABLE http://127.0.0.1:PORT

Each waiter is the CLI's own (botocore's waiters-2.json, its default delays): it fails unless
the emulator answers what the waiter's acceptors read, as AWS does.
"""

import json
import os
import subprocess
import sys
import time

from pycheck import check, summary

aws, endpoint = sys.argv[1], sys.argv[2]
env = dict(
    os.environ,
    AWS_ACCESS_KEY_ID="AKIDEXAMPLE",
    AWS_SECRET_ACCESS_KEY="emulator-secret",
    AWS_DEFAULT_REGION="eu-west-1",
    AWS_PAGER="",
)
env.pop("AWS_PROFILE", None)


def ecs(*args):
    """`aws ecs ARGS --endpoint-url URL`; its JSON answer (None for a waiter)."""
    started = time.time()
    done = subprocess.run(
        [aws, "ecs", *args, "--endpoint-url", endpoint, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise AssertionError(f"aws ecs {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    if args[0] == "wait":
        print(f"aws ecs {' '.join(args[:2])}: done in {time.time() - started:.1f} s", flush=True)
    return json.loads(done.stdout) if done.stdout.strip() else None


network = "awsvpcConfiguration={subnets=[subnet-0a1b2c3d],securityGroups=[sg-0a1b2c3d],assignPublicIp=DISABLED}"
container = json.dumps([{"name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "essential": True}])
ecs("create-cluster", "--cluster-name", "cli")
for _ in range(2):
    ecs(
        "register-task-definition", "--family", "web", "--network-mode", "awsvpc",
        "--requires-compatibilities", "FARGATE", "--cpu", "256", "--memory", "512",
        "--container-definitions", container,
    )
created = ecs(
    "create-service", "--cluster", "cli", "--service-name", "web", "--task-definition", "web:1",
    "--desired-count", "2", "--launch-type", "FARGATE", "--network-configuration", network,
)["service"]
check(created["deployments"][0]["rolloutState"] == "IN_PROGRESS", "a new service's deployment is IN_PROGRESS")

ecs("wait", "services-stable", "--cluster", "cli", "--services", "web")
svc = ecs("describe-services", "--cluster", "cli", "--services", "web")["services"][0]
check(svc["runningCount"] == 2 and len(svc["deployments"]) == 1, "services-stable: both tasks run, one deployment")

ecs("update-service", "--cluster", "cli", "--service", "web", "--task-definition", "web:2")
ecs("wait", "services-stable", "--cluster", "cli", "--services", "web")
svc = ecs("describe-services", "--cluster", "cli", "--services", "web")["services"][0]
check(svc["taskDefinition"].endswith("task-definition/web:2") and len(svc["deployments"]) == 1, "services-stable after a new revision")
arns = ecs("list-tasks", "--cluster", "cli", "--service-name", "web")["taskArns"]
tasks = ecs("describe-tasks", "--cluster", "cli", "--tasks", *arns)["tasks"]
check(len(tasks) == 2 and all(t["taskDefinitionArn"].endswith("web:2") for t in tasks), "the new revision's tasks run")
check(all(t["attachments"][0]["type"] == "ElasticNetworkInterface" for t in tasks), "awsvpc tasks carry their interface")

run = ecs(
    "run-task", "--cluster", "cli", "--task-definition", "web:2", "--launch-type", "FARGATE",
    "--network-configuration", network, "--started-by", "cli-probe",
)["tasks"][0]
check(run["lastStatus"] == "PROVISIONING" and run["group"] == "family:web", "RunTask answers the task PROVISIONING")
ecs("wait", "tasks-running", "--cluster", "cli", "--tasks", run["taskArn"])
ecs("stop-task", "--cluster", "cli", "--task", run["taskArn"], "--reason", "probe done")
ecs("wait", "tasks-stopped", "--cluster", "cli", "--tasks", run["taskArn"])
stopped = ecs("describe-tasks", "--cluster", "cli", "--tasks", run["taskArn"])["tasks"][0]
check(stopped["stoppedReason"] == "probe done" and stopped["stopCode"] == "UserInitiated", "tasks-stopped: the reason given")

ecs("delete-service", "--cluster", "cli", "--service", "web", "--force")
ecs("wait", "services-inactive", "--cluster", "cli", "--services", "web")
ecs("delete-cluster", "--cluster", "cli")
print(summary("aws cli waiters"))
