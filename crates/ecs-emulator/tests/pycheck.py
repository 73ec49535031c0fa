"""What the Python clients that `cargo xtask test` runs against `serve` share: a check that
stops the script at the first failure, naming it, the count of the checks that passed, and a
boto3 client for the emulator, and the error code of a call that fails."""

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


def emulator_client(service, endpoint, region, **kwargs):
    """A boto3 client of `service` for the emulator at `endpoint`, signing with dummy keys."""
    import boto3

    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="emulator-secret",
        **kwargs,
    )


def error_code(call, **kwargs):
    """The AWS error code `call(**kwargs)` fails with, or None when it succeeds."""
    from botocore.exceptions import ClientError

    try:
        call(**kwargs)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None
