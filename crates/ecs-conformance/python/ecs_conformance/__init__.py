"""The reference ECS emulator of `ecs-conformance`, from Python.

The wheel carries the `ecs-conformance` program (the conformance suite and the reference
emulator, one binary) and this package, which starts `ecs-conformance serve` on a free loopback
port and drives its control path (`/_emulator/`: reset, faults, the call log, hook answers,
alarms and time). The pytest plugin of the same wheel (`ecs_conformance.pytest_plugin`) builds
its fixtures on it; a test outside pytest can use `Emulator` directly:

    with Emulator.start() as emulator:
        ecs = emulator.client()
        ecs.create_cluster(clusterName="demo")
        emulator.settle()

The standard library is all this module needs; `Emulator.client` imports boto3 when called.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import urllib.error
import urllib.request

__all__ = ["ControlError", "Emulator", "EmulatorNotStarted", "binary"]

#: The executable's name inside the wheel's scripts directory (the package is POSIX-only: it
#: stops the server with SIGINT and reads its log with `os.pread`).
PROGRAM = "ecs-conformance"

#: Dummy keys for boto3 to sign with: the emulator reads the signature's region, not its secret.
ACCESS_KEY_ID = "AKIDEXAMPLE"
SECRET_ACCESS_KEY = "emulator-secret"

# The control path is on loopback: never through an HTTP proxy of the environment.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmulatorNotStarted(RuntimeError):
    """`ecs-conformance serve` could not be found, exited, or never printed its URL."""


class ControlError(RuntimeError):
    """The control path refused a request: `status` is the HTTP status (None when no answer
    came), `message` its reason."""

    def __init__(self, method, path, status, message):
        super().__init__(f"{method} {path}: {status} {message}")
        self.method = method
        self.path = path
        self.status = status
        self.message = message


def binary():
    """The path of the `ecs-conformance` program this package runs.

    In order: the `ECS_CONFORMANCE_BIN` environment variable, the scripts directory of the
    running interpreter's environment (where pip installed the wheel's program), then `PATH`.
    """
    chosen = os.environ.get("ECS_CONFORMANCE_BIN")
    if chosen:
        if not os.path.isfile(chosen):
            raise EmulatorNotStarted(f"ECS_CONFORMANCE_BIN names {chosen!r}, which is no file")
        return chosen
    scripts = sysconfig.get_path("scripts")
    beside = os.path.join(scripts, PROGRAM) if scripts else None
    if beside and os.path.isfile(beside):
        return beside
    found = shutil.which(PROGRAM)
    if found:
        return found
    raise EmulatorNotStarted(
        f"no {PROGRAM} in {scripts!r} nor on PATH: install the ecs-conformance wheel into this "
        f"environment ({sys.executable}), or set ECS_CONFORMANCE_BIN"
    )


class Emulator:
    """A running `ecs-conformance serve`, with its URL, boto3 clients and its control path.

    `Emulator.start(...)` starts one; `stop()` (or leaving a `with` block) stops it. Every
    method that reaches the control path raises `ControlError` when the emulator refuses.
    """

    def __init__(self, process, url, region, log):
        self._process = process
        self._log = log
        self._final_log = None
        #: The emulator's endpoint, e.g. `http://127.0.0.1:41234`: ECS and ELBv2 both answer here.
        self.url = url
        #: The region a request is in when its signature names none.
        self.region = region
        self._client = None

    @classmethod
    def start(cls, timing=None, time_scale=None, region="us-east-1", program=None, timeout=30.0):
        """Starts `ecs-conformance serve --port 0` and returns once it has printed its URL.

        `timing` is `instant`, `fast` or `aws` (serve's default, AWS's delays compressed by
        `time_scale`); `program` overrides `binary()`. Raises `EmulatorNotStarted` with the
        server's own output when it does not come up within `timeout` seconds.
        """
        # The server's standard input is a pipe this process holds open and never writes: when
        # this process ends, however it ends, the pipe closes and the server stops with it.
        args = [program or binary(), "serve", "--port", "0", "--region", region]
        args.append("--exit-when-stdin-closes")
        if timing is not None:
            args += ["--timing", timing]
        if time_scale is not None:
            args += ["--time-scale", repr(float(time_scale))]
        log = tempfile.TemporaryFile(mode="w+b")
        process = subprocess.Popen(
            args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            close_fds=True,
        )
        try:
            first = _first_line(process, timeout)
            url = next((w for w in first.split() if w.startswith("http://")), None)
            if url is None:
                try:
                    # Standard output ended or the time passed: a server that is exiting
                    # says with what.
                    exited = process.wait(1)
                except subprocess.TimeoutExpired:
                    exited = None
                process.kill()
                process.wait()
                said = _read_all(log).strip()
                why = (
                    f"exited with {exited}"
                    if exited is not None
                    else f"printed no URL within {timeout} s (stopped)"
                )
                log.close()
                raise EmulatorNotStarted(
                    f"{' '.join(args)} {why}; first line {first!r}; its log:\n{said}"
                )
        except BaseException:
            if process.poll() is None:
                process.kill()
                process.wait()
            raise
        # The rest of standard output is read for as long as the server runs: a full pipe
        # would block its next line.
        threading.Thread(target=_drain, args=(process.stdout,), daemon=True).start()
        return cls(process, url, region, log)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def stop(self, timeout=10.0):
        """Stops the server (Ctrl-C, as a terminal would, then a kill after `timeout` s).

        Its log stays readable through `log()`.
        """
        if self._final_log is not None:
            return
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGINT)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        for stream in (self._process.stdin,):
            if stream is not None:
                stream.close()
        self._final_log = _read_all(self._log)
        self._log.close()

    def log(self):
        """What the server wrote to standard error so far: a line per request it answered
        (peer, operation, status, milliseconds), and any error it stopped on."""
        if self._final_log is not None:
            return self._final_log
        return _read_all(self._log)

    # boto3

    def boto3_client(self, service="ecs", **kwargs):
        """A boto3 client of `service` (`ecs` or `elbv2`) for this emulator.

        It signs with dummy keys in the emulator's region; `kwargs` go to `boto3.client`.
        """
        import boto3

        kwargs.setdefault("region_name", self.region)
        return boto3.client(
            service,
            endpoint_url=self.url,
            aws_access_key_id=ACCESS_KEY_ID,
            aws_secret_access_key=SECRET_ACCESS_KEY,
            **kwargs,
        )

    @property
    def client(self):
        """The ECS client of this emulator, made once, with a single attempt per call.

        boto3's default retries would absorb an injected throttle or server error; a client
        for code under test that should retry is `boto3_client("ecs")`.
        """
        if self._client is None:
            from botocore.config import Config

            self._client = self.boto3_client(
                "ecs", config=Config(retries={"total_max_attempts": 1})
            )
        return self._client

    # The control path (docs/control.md).

    def reset(self):
        """Every region's resources, the faults, hook answers, alarms and the call log go.

        The emulated time stays where it is (it never goes back).
        """
        self._control("POST", "reset")

    def fault(self, fault, operation=None, times=None, service=None, delay_seconds=None):
        """Injects a fault: `throttle`, `serverError`, `dropConnection` or `staleRead` for the
        next `times` calls of `operation`; `stuckTasks` for a `service`; `slowRecompute` that
        holds back recomputes by `delay_seconds`."""
        body = {"fault": fault}
        for key, value in (
            ("operation", operation),
            ("times", times),
            ("service", service),
            ("delaySeconds", delay_seconds),
        ):
            if value is not None:
                body[key] = value
        self._control("POST", "faults", body)

    def clear_faults(self):
        """No fault any more (the calls still owed one are forgiven)."""
        self._control("DELETE", "faults")

    def calls(self, operation=None):
        """The calls the emulator answered, oldest first: each a dict with `operation`,
        `input`, `answer` or `error` (`status`, `code`, `message`) and `at`. With `operation`,
        only that operation's."""
        calls = self._control("GET", "calls")["calls"]
        if operation is not None:
            calls = [c for c in calls if c.get("operation") == operation]
        return calls

    def hook(self, hook_target_arn, replies, rollback_replies=None, latency_seconds=0):
        """What the Lambda function behind a deployment lifecycle hook answers at each
        invocation within a stage (`IN_PROGRESS`, `SUCCEEDED` or `FAILED`; the last repeats)."""
        body = {
            "hookTargetArn": hook_target_arn,
            "replies": list(replies),
            "latencySeconds": latency_seconds,
        }
        if rollback_replies is not None:
            body["rollbackReplies"] = list(rollback_replies)
        self._control("POST", "hooks", body)

    def alarm(self, alarm_name, state="ALARM"):
        """Sets a CloudWatch alarm's state (`ALARM` or `OK`) as deployments watching it see it."""
        self._control("POST", "alarms", {"alarmName": alarm_name, "state": state})

    def advance(self, seconds):
        """Moves the emulated time on by `seconds` at once: the next request sees everything
        the emulator's scheduler had due by then. Returns the new time (epoch seconds)."""
        return self._control("POST", "time", {"advanceSeconds": seconds})["now"]

    def settle(self, seconds=3600):
        """Settles everything now: advances the emulated time by `seconds`, an hour unless told
        otherwise, which is longer than every delay of the emulator's timing shapes (a
        recompute, a task's start, a service reaching steady state, a drain, ELBv2's default
        health checks and deregistration delay). A longer bake time or hook wait needs more.
        Time only moves forward, and a reset keeps it: the emulator refuses to run more than
        3650 days ahead of the clock, about 87,600 settles of an hour in one server's life."""
        return self.advance(seconds)

    def set_time_scale(self, scale):
        """From now on the emulator's delays are `scale` times those it was started with."""
        self._control("POST", "time", {"scale": scale})

    def time(self):
        """`{"now": <epoch seconds>, "scale": <float>}`: the emulated time and its scale."""
        return self._control("GET", "time")

    def _control(self, method, path, body=None):
        url = f"{self.url}/_emulator/{path}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with _DIRECT.open(request, timeout=30) as answer:
                text = answer.read()
        except urllib.error.HTTPError as e:
            said = e.read().decode("utf-8", "replace")
            try:
                said = json.loads(said).get("message", said)
            except (ValueError, AttributeError):
                pass
            raise ControlError(method, f"/_emulator/{path}", e.code, said) from None
        except (urllib.error.URLError, ConnectionError) as e:
            self.check_running()
            raise ControlError(method, f"/_emulator/{path}", None, str(e)) from e
        return json.loads(text) if text.strip() else {}

    def check_running(self):
        """Raises `EmulatorNotStarted`, with the exit code and the server's log, when the
        server is no longer running."""
        code = self._process.poll()
        if code is not None:
            raise EmulatorNotStarted(
                f"the emulator at {self.url} exited with {code}; its log:\n{self.log().strip()}"
            )


def _first_line(process, timeout):
    """The first line `process` prints, or "" when it exits or `timeout` passes first."""
    got = []
    reader = threading.Thread(
        target=lambda: got.append(process.stdout.readline()), daemon=True
    )
    reader.start()
    reader.join(timeout)
    return got[0].decode("utf-8", "replace").strip() if got else ""


def _read_all(log):
    """What the server wrote to `log` so far. The server writes through the same open file, so
    this reads at offsets and never moves the position its next line goes to."""
    fd = log.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode("utf-8", "replace")


def _drain(stream):
    for _ in iter(stream.readline, b""):
        pass
