"""The package's own contract, beside the sample suite that uses it: where it finds the
program, what it says when the program does not come up, and that it stops what it started.
`cargo xtask test` runs these from the wheel's fresh venv."""

import os
import subprocess
import sys
import time

import pytest

import ecs_conformance
from ecs_conformance import Emulator, EmulatorNotStarted


def test_the_program_is_the_one_the_wheel_installed_beside_this_python():
    program = ecs_conformance.binary()
    assert os.path.dirname(program) == os.path.dirname(sys.executable)
    said = subprocess.run([program, "--version"], capture_output=True, text=True, check=True)
    assert said.stdout.startswith("ecs-conformance ")


def test_a_missing_program_named_by_the_environment_is_refused(monkeypatch, tmp_path):
    monkeypatch.setenv("ECS_CONFORMANCE_BIN", str(tmp_path / "absent"))
    with pytest.raises(EmulatorNotStarted, match="ECS_CONFORMANCE_BIN"):
        ecs_conformance.binary()


def test_a_program_that_prints_no_url_is_reported_with_its_output(tmp_path):
    fake = tmp_path / "fake-serve"
    fake.write_text("#!/bin/sh\necho 'no port for you' >&2\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(EmulatorNotStarted) as refused:
        Emulator.start(program=str(fake), timeout=5)
    assert "no port for you" in str(refused.value)
    assert "exited with 3" in str(refused.value)


def test_a_started_emulator_answers_and_is_gone_after_its_block():
    with Emulator.start(timing="instant") as emulator:
        process = emulator._process
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator.client.list_clusters()["clusterArns"] == []
        before = emulator.time()["now"]
        assert emulator.advance(60) >= before + 60
    assert process.poll() is not None


def test_the_session_emulator_honours_the_timing_option(ecs_emulator, pytestconfig):
    # The fixture passed --ecs-timing through to serve, and the timing shows in the answers.
    timing = pytestconfig.getoption("ecs_timing")
    if timing != "instant":
        pytest.fail("run these tests with --ecs-timing instant, as cargo xtask test does")
    client = ecs_emulator.client
    client.create_cluster(clusterName="timing")
    client.register_task_definition(
        family="t", containerDefinitions=[{"name": "a", "image": "nginx", "memory": 64}]
    )
    client.create_service(
        cluster="timing",
        serviceName="s",
        desiredCount=1,
        deploymentController={"type": "EXTERNAL"},
    )
    created = client.create_task_set(
        cluster="timing", service="s", taskDefinition="t", scale={"value": 100, "unit": "PERCENT"}
    )["taskSet"]
    # The answer to CreateTaskSet precedes the recompute under every timing; under `instant`
    # the recompute is done by the next call (under serve's default it takes about 0.5 s).
    assert created["computedDesiredCount"] == 0
    described = client.describe_task_sets(cluster="timing", service="s", taskSets=[created["id"]])
    assert described["taskSets"][0]["computedDesiredCount"] == 1


def test_the_log_has_a_line_per_request_and_outlives_stop():
    with Emulator.start(timing="instant") as emulator:
        emulator.client.list_clusters()
        assert "ListClusters 200" in emulator.log()
    assert "ListClusters 200" in emulator.log()


def test_a_server_that_died_is_named_with_its_exit_code():
    emulator = Emulator.start(timing="instant")
    try:
        emulator._process.kill()
        emulator._process.wait()
        with pytest.raises(EmulatorNotStarted, match="exited with -9"):
            emulator.reset()
    finally:
        emulator.stop()


def running(pid):
    """Whether the process is alive: a zombie waiting for whoever adopted it has exited."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_the_server_ends_with_the_process_that_started_it_even_killed():
    # A child Python starts an emulator, says its URL, and is then killed outright: no
    # `finally`, no `atexit`. The server must notice its standard input closing and stop.
    script = (
        "import sys, time\n"
        "from ecs_conformance import Emulator\n"
        "e = Emulator.start(timing='instant')\n"
        "print(e.url, e._process.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    url, pid = parent.stdout.readline().split()
    parent.kill()
    parent.wait()
    for _ in range(100):
        if not running(pid):
            break
        time.sleep(0.05)
    else:
        os.kill(int(pid), 9)
        pytest.fail(f"the server {pid} at {url} outlived its killed parent")
