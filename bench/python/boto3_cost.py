"""CPU per call of boto3 against the canned server of `ecs-bench cost`.

Usage: boto3_cost.py URL OPERATION CALLS EXPECTED_SETS. Prints JSON: cpu_s, wall_s, calls.
The request is the same as the Rust clients send (bench/src/payloads.rs).
"""

import json
import sys
import time

import boto3

url, op, calls, sets = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
client = boto3.client(
    "ecs",
    endpoint_url=url,
    region_name="us-east-1",
    aws_access_key_id="AKIDBENCHEXAMPLE",
    aws_secret_access_key="bench-secret-not-a-real-key",
)

CREATE = dict(
    cluster="bench",
    service="web",
    taskDefinition="web:1",
    externalId="deploy-42",
    launchType="FARGATE",
    networkConfiguration={
        "awsvpcConfiguration": {
            "subnets": ["subnet-0a1b2c3d", "subnet-1a2b3c4d", "subnet-2a3b4c5d"],
            "securityGroups": ["sg-0a1b2c3d"],
            "assignPublicIp": "DISABLED",
        }
    },
    loadBalancers=[
        {
            "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-blue/0123456789abcdef",
            "containerName": "web",
            "containerPort": 8080,
        }
    ],
    scale={"value": 50.0, "unit": "PERCENT"},
)


def call():
    if op == "CreateTaskSet":
        got = 1 if "taskSet" in client.create_task_set(**CREATE) else 0
    else:
        got = len(client.describe_task_sets(cluster="bench", service="web", taskSets=["ecs-svc/1000000000000000001"])["taskSets"])
    if got != sets:
        raise SystemExit(f"boto3 read {got} task sets, expected {sets}")


for _ in range(max(calls // 10, 20)):
    call()
cpu, wall = time.process_time(), time.perf_counter()
for _ in range(calls):
    call()
print(json.dumps({"cpu_s": time.process_time() - cpu, "wall_s": time.perf_counter() - wall, "calls": calls}))
