"""Every path of the emulator's control API (docs/control.md) from Python, as a test in another
language reaches it: plain HTTP for the control path, boto3 for the ECS calls whose outcome
shows that it worked. Run by `cargo xtask test` after the other scripts, because it resets the
emulator:  python control_paths.py http://127.0.0.1:PORT
"""

import json
import sys
import urllib.error
import urllib.request

from botocore.config import Config

from pycheck import check, emulator_client, error_code, summary

endpoint = sys.argv[1].rstrip("/")
ecs = emulator_client(
    "ecs",
    endpoint,
    "us-east-1",
    # One attempt, so that an injected fault reaches the test instead of botocore's retries.
    config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
)


def control(method, path, body=None, headers=None):
    """The status and JSON body of one control request."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{endpoint}/_emulator/{path}", data=data, method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def cluster_names():
    return sorted(arn.rsplit("/", 1)[1] for arn in ecs.list_clusters()["clusterArns"])


# POST reset: every resource is gone.
ecs.create_cluster(clusterName="control-a")
check("control-a" in cluster_names(), "the cluster exists before the reset")
check(control("POST", "reset") == (200, {}), "reset answers 200 {}")
check(cluster_names() == [], f"no cluster after the reset: {cluster_names()}")

# POST faults: the next call of the operation fails, the one after does not.
status, body = control("POST", "faults", {"fault": "throttle", "operation": "ListClusters", "times": 1})
check((status, body) == (200, {}), f"a throttle fault is taken: {status} {body}")
check(error_code(ecs.list_clusters) == "ThrottlingException", "the first ListClusters is throttled")
check(error_code(ecs.list_clusters) is None, "the second ListClusters is answered")

status, _ = control("POST", "faults", {"fault": "serverError", "operation": "DescribeClusters", "times": 5})
check(status == 200, "a server-error fault is taken")
check(error_code(ecs.describe_clusters) == "ServerException", "DescribeClusters fails with a 500")

# DELETE faults: the four calls still owed are forgotten.
check(control("DELETE", "faults") == (200, {}), "faults are cleared")
check(error_code(ecs.describe_clusters) is None, "DescribeClusters is answered once cleared")

status, body = control("POST", "faults", {"fault": "throttle", "operation": "ListClusters"})
check(status == 400 and "/_emulator/faults" in body["message"], f"a fault without times is refused: {body}")

# GET calls: what was called, with the answer or the error, oldest first.
status, body = control("GET", "calls")
check(status == 200, "the call log answers 200")
calls = [c for c in body["calls"] if c["operation"] in ("ListClusters", "DescribeClusters")]
errors = [c["error"]["code"] for c in calls if "error" in c]
check(errors == ["ThrottlingException", "ServerException"], f"the log keeps the two failures: {errors}")
check(all(isinstance(c["at"], float) and c["at"] > 0 for c in calls), "every call has its time")
check(any("answer" in c and "clusterArns" in c["answer"] for c in calls), "an answered call keeps its answer")
check([c["at"] for c in body["calls"]] == sorted(c["at"] for c in body["calls"]), "oldest first")

# POST hooks: a Lambda hook's answers are taken; a body that names no reply is refused.
hook = "arn:aws:lambda:us-east-1:123456789012:function:control-paths"
status, body = control("POST", "hooks", {"hookTargetArn": hook, "replies": ["IN_PROGRESS", "SUCCEEDED"], "latencySeconds": 0})
check((status, body) == (200, {}), f"a hook's replies are taken: {status} {body}")
status, body = control("POST", "hooks", {"hookTargetArn": hook, "replies": []})
check(status == 400 and "replies" in body["message"], f"a hook without replies is refused: {body}")
status, body = control("POST", "hooks", {"hookTargetArn": hook, "replies": ["MAYBE"]})
check(status == 400, f"a reply Lambda cannot give is refused: {body}")

# POST alarms: an alarm's state is taken; a state CloudWatch has not is refused.
status, body = control("POST", "alarms", {"alarmName": "5xx", "state": "ALARM"})
check((status, body) == (200, {}), f"an alarm state is taken: {status} {body}")
status, body = control("POST", "alarms", {"alarmName": "5xx", "state": "RED"})
check(status == 400 and "/_emulator/alarms" in body["message"], f"an unknown alarm state is refused: {body}")

# POST time: the emulator's time moves on at once, and what was due by then is done (a "settle
# now" for tests on the system clock). GET time reads it.
status, body = control("GET", "time")
check(status == 200 and isinstance(body["now"], float), f"the emulator tells its time: {body}")
started = body["now"]
control("POST", "faults", {"fault": "slowRecompute", "delaySeconds": 300})
ecs.create_cluster(clusterName="timed")
ecs.register_task_definition(
    family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}]
)
ecs.create_service(
    cluster="timed", serviceName="svc", desiredCount=4, deploymentController={"type": "EXTERNAL"}
)
set_id = ecs.create_task_set(
    cluster="timed", service="svc", taskDefinition="web", scale={"value": 50.0, "unit": "PERCENT"}
)["taskSet"]["id"]


def computed():
    described = ecs.describe_task_sets(cluster="timed", service="svc", taskSets=[set_id])
    return described["taskSets"][0]["computedDesiredCount"]


check(computed() == 0, "the recompute is 300 s away")
status, body = control("POST", "time", {"advanceSeconds": 301})
check(status == 200 and body["now"] >= started + 301, f"time moved on by 301 s: {body}")
check(computed() == 2, "the recompute is done once time is past it")
status, body = control("POST", "time", {"advanceSeconds": -5})
check(status == 400 and "/_emulator/time" in body["message"], f"time does not go back: {body}")
status, body = control("POST", "time", {"advanceSeconds": 1e12})
check(status == 400 and "3650 days" in body["message"], f"time runs at most ten years ahead: {body}")
status, body = control("POST", "time", {"scale": 4})
check(status == 200 and body["scale"] == 4, f"the delays run four times as long: {body}")
check(control("GET", "time")[1]["scale"] == 4, "the scale is kept")
status, body = control("POST", "time", {"scale": 0})
check(status == 400 and "scale" in body["message"], f"a scale of 0 is refused: {body}")
check(control("POST", "time", {"scale": 1})[1]["scale"] == 1, "back to the scale it started with")
control("DELETE", "faults")

# The contract around the paths: wrong method, unknown path, a web page's request.
status, body = control("GET", "reset")
check(status == 405, f"GET reset is not allowed: {status} {body}")
status, body = control("POST", "nothing-here")
check(status == 404, f"an unknown path is 404: {status} {body}")
status, body = control("POST", "reset", headers={"Origin": "http://example.com"})
check(status == 403 and "Origin" in body["message"], f"a web page's request is refused: {status} {body}")
ecs.create_cluster(clusterName="control-b")
check(control("POST", "reset", headers={"Origin": "null"})[0] == 403, "Origin: null is a web page too")
check(cluster_names() == ["control-b", "timed"], "a refused reset resets nothing")
check(control("POST", "reset") == (200, {}), "the last reset leaves the emulator empty")

print(summary("control paths"))
