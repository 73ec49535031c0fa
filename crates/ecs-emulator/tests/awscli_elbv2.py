"""`aws elbv2` against the reference emulator, on the endpoint that answers ECS: an application
load balancer, an `ip` target group and a listener; a Fargate service behind the group, whose
tasks ECS registers and the CLI's own `target-in-service` waiter sees healthy; a weighted
forward; then the tasks stopped and their targets drained (`target-deregistered`).

Run by `cargo xtask test` (the CLI in its own venv, `serve --timing fast --time-scale 1`, where a
load-balancer second lasts 1 ms):  python awscli_elbv2.py AWS_EXECUTABLE http://127.0.0.1:PORT

Every answer goes through botocore's own awsQuery parser, as it would from AWS.
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
    # One URL for both services, as an emulator user sets it.
    AWS_ENDPOINT_URL=endpoint,
)
env.pop("AWS_PROFILE", None)


def cli(service, *args):
    """`aws SERVICE ARGS`; its JSON answer (None for a waiter or an empty answer)."""
    started = time.time()
    done = subprocess.run(
        [aws, service, *args, "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    if done.returncode != 0:
        raise AssertionError(f"aws {service} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
    if args[0] == "wait":
        print(f"aws {service} {' '.join(args[:2])}: done in {time.time() - started:.1f} s", flush=True)
    return json.loads(done.stdout) if done.stdout.strip() else None


def refused(service, *args):
    """The error text of a call that must fail."""
    done = subprocess.run([aws, service, *args], env=env, capture_output=True, text=True, timeout=120)
    if done.returncode == 0:
        raise AssertionError(f"aws {service} {' '.join(args)} should have failed")
    return done.stderr.strip()


lb = cli("elbv2", "create-load-balancer", "--name", "web", "--subnets", "subnet-0a1b2c3d", "subnet-0b2c3d4e")["LoadBalancers"][0]
check(lb["State"]["Code"] == "provisioning" and lb["Type"] == "application", "a new load balancer is provisioning")
cli("elbv2", "wait", "load-balancer-available", "--load-balancer-arns", lb["LoadBalancerArn"])
groups = {}
for name in ("blue", "green"):
    group = cli(
        "elbv2", "create-target-group", "--name", name, "--protocol", "HTTP", "--port", "80",
        "--target-type", "ip", "--vpc-id", lb["VpcId"],
    )["TargetGroups"][0]
    check(
        (group["HealthCheckIntervalSeconds"], group["HealthyThresholdCount"], group["Matcher"]["HttpCode"]) == (30, 5, "200"),
        "an HTTP target group's health-check defaults",
    )
    groups[name] = group["TargetGroupArn"]
forward = json.dumps([{
    "Type": "forward",
    "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": groups["blue"], "Weight": 100},
        {"TargetGroupArn": groups["green"], "Weight": 0},
    ]},
}])
listener = cli(
    "elbv2", "create-listener", "--load-balancer-arn", lb["LoadBalancerArn"], "--protocol", "HTTP",
    "--port", "80", "--default-actions", forward,
)["Listeners"][0]

network = "awsvpcConfiguration={subnets=[subnet-0a1b2c3d],securityGroups=[sg-0a1b2c3d],assignPublicIp=DISABLED}"
container = json.dumps([{
    "name": "web", "image": "public.ecr.aws/nginx/nginx:1.27", "essential": True,
    "portMappings": [{"containerPort": 80}],
}])
cli("ecs", "create-cluster", "--cluster-name", "elb")
cli(
    "ecs", "register-task-definition", "--family", "web", "--network-mode", "awsvpc",
    "--requires-compatibilities", "FARGATE", "--cpu", "256", "--memory", "512",
    "--container-definitions", container,
)
cli(
    "ecs", "create-service", "--cluster", "elb", "--service-name", "web", "--task-definition", "web:1",
    "--desired-count", "2", "--launch-type", "FARGATE", "--network-configuration", network,
    "--load-balancers", f"targetGroupArn={groups['blue']},containerName=web,containerPort=80",
)
cli("ecs", "wait", "services-stable", "--cluster", "elb", "--services", "web")
# The CLI's own waiter: DescribeTargetHealth until every target is healthy.
cli("elbv2", "wait", "target-in-service", "--target-group-arn", groups["blue"])
health = cli("elbv2", "describe-target-health", "--target-group-arn", groups["blue"])["TargetHealthDescriptions"]
arns = cli("ecs", "list-tasks", "--cluster", "elb", "--service-name", "web")["taskArns"]
tasks = cli("ecs", "describe-tasks", "--cluster", "elb", "--tasks", *arns)["tasks"]
addresses = sorted(
    d["value"] for t in tasks for d in t["attachments"][0]["details"] if d["name"] == "privateIPv4Address"
)
check(sorted(h["Target"]["Id"] for h in health) == addresses, "ECS registered each task's address")
check(all(h["TargetHealth"]["State"] == "healthy" and h["Target"]["Port"] == 80 for h in health), "both targets healthy on port 80")

shifted = json.dumps([{
    "Type": "forward",
    "ForwardConfig": {"TargetGroups": [
        {"TargetGroupArn": groups["blue"], "Weight": 90},
        {"TargetGroupArn": groups["green"], "Weight": 10},
    ]},
}])
cli("elbv2", "modify-listener", "--listener-arn", listener["ListenerArn"], "--default-actions", shifted)
now = cli("elbv2", "describe-listeners", "--listener-arns", listener["ListenerArn"])["Listeners"][0]
weights = [t["Weight"] for t in now["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]]
check(weights == [90, 10], f"the listener forwards 90/10, not {weights}")
error = refused("elbv2", "delete-target-group", "--target-group-arn", groups["green"])
check("ResourceInUse" in error and "is currently in use by a listener or a rule" in error, f"a group in use is kept: {error}")

cli("ecs", "update-service", "--cluster", "elb", "--service", "web", "--desired-count", "0")
targets = [f"Id={h['Target']['Id']},Port=80" for h in health]
cli("elbv2", "wait", "target-deregistered", "--target-group-arn", groups["blue"], "--targets", *targets)
cli("ecs", "wait", "services-stable", "--cluster", "elb", "--services", "web")
cli("ecs", "delete-service", "--cluster", "elb", "--service", "web")
cli("elbv2", "delete-listener", "--listener-arn", listener["ListenerArn"])
for arn in groups.values():
    cli("elbv2", "delete-target-group", "--target-group-arn", arn)
cli("elbv2", "delete-load-balancer", "--load-balancer-arn", lb["LoadBalancerArn"])
left = cli("elbv2", "describe-load-balancers")["LoadBalancers"]
check(left == [], "the load balancer is gone")
print(summary("aws elbv2"))
