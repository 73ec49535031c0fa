"""What the Python clients that `cargo xtask test` runs against `serve` share: a check that
stops the script at the first failure, naming it, and the count of the checks that passed."""

passed = 0


def check(condition, what):
    """Stops the script with `what` unless `condition` holds; counts the check otherwise."""
    global passed
    if not condition:
        raise AssertionError(what)
    passed += 1


def summary(name):
    """The script's last line: `NAME: N passed, 0 failed`."""
    return f"{name}: {passed} passed, 0 failed"
