"""pytest fixtures for tests that run against the reference ECS emulator.

Installed with the wheel and loaded by pytest on its own (the `pytest11` entry point), so a
test suite needs nothing but the wheel with its `pytest` extra:

- `ecs_emulator` (session): one `ecs-conformance serve --port 0` for the whole run, an
  `ecs_conformance.Emulator` with its `url` and a configured boto3 ECS `client`.
- `ecs` (each test): the same emulator, reset before the test (no clusters, faults, hook
  answers, alarms or calls; the time scale back to the one it started with), so tests do not
  see each other. It carries the helpers: `fault`, `clear_faults`, `calls`, `hook`, `alarm`,
  `advance`, `settle` (every scheduled change done now) and `set_time_scale`.
- `ecs_client`: shorthand for `ecs.client`.

Options (command line, or the same names in the `[pytest]` ini section with `_` for `-`):
`--ecs-timing` (`instant`, `fast` or `aws`, serve's default), `--ecs-time-scale` and
`--ecs-region`. `ECS_CONFORMANCE_BIN` points the fixture at another `ecs-conformance`.
"""

import pytest

from . import Emulator


def pytest_addoption(parser):
    group = parser.getgroup("ecs-conformance", "the reference ECS emulator")
    for name, help_text in (
        ("timing", "timing shape of the emulator: instant, fast or aws (serve's default)"),
        ("time-scale", "multiplies every delay of the timing shape"),
        ("region", "region of requests whose signature names none (us-east-1)"),
    ):
        group.addoption(f"--ecs-{name}", default=None, help=help_text)
        parser.addini(f"ecs_{name.replace('-', '_')}", help_text, default=None)


def _option(config, name):
    value = config.getoption(f"ecs_{name}")
    if value is None:
        value = config.getini(f"ecs_{name}")
    return value or None


@pytest.fixture(scope="session")
def ecs_emulator(request):
    """One reference emulator for the session (`ecs-conformance serve --port 0`)."""
    config = request.config
    time_scale = _option(config, "time_scale")
    with Emulator.start(
        timing=_option(config, "timing"),
        time_scale=float(time_scale) if time_scale else None,
        region=_option(config, "region") or "us-east-1",
    ) as emulator:
        yield emulator


@pytest.fixture
def ecs(ecs_emulator):
    """The session's emulator, emptied before this test, with the control helpers."""
    ecs_emulator.check_running()
    ecs_emulator.reset()
    ecs_emulator.set_time_scale(1.0)
    return ecs_emulator


@pytest.fixture
def ecs_client(ecs):
    """A boto3 ECS client of the emulator, emptied before this test (one attempt per call)."""
    return ecs.client
