"""The reference pass: parity of every non-reference item against the reference device.

JAX shows two CPU devices here (cpu and cpu:1), so cpu:1 is a real non-reference device without a GPU.
"""

from __future__ import annotations

import pytest

PLANTED_DEFECT = """
import pytest
import jax.numpy as jnp

@pytest.mark.accel(framework="jax")
def test_scale(accel_device):
    x = accel_device.randn(64)
    out = jnp.tanh(x) * 2
    if accel_device.name == "cpu:1":
        out = out.at[17].add(0.25)  # a wrong element, only on the device under test
    accel_device.check({"out": out}, name="scaled")

@pytest.mark.accel(framework="jax")
def test_clean(accel_device):
    x = accel_device.randn(8, 8)
    accel_device.check({"logits": x @ x, "rows": [x.sum(0), x.sum(1)]})
"""


def test_two_jax_devices_run_and_a_planted_defect_fails_with_details(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(test_defect=PLANTED_DEFECT)
    result = two_jax_devices_hosted("-v")
    result.stdout.fnmatch_lines(
        [
            "*test_scale[[]jax-cpu-float32[]] PASSED*",
            "*test_scale[[]jax-cpu:1-float32[]] FAILED*",
            "*test_clean[[]jax-cpu-float32[]] PASSED*",
            "*test_clean[[]jax-cpu:1-float32[]] PASSED*",
        ]
    )
    # The message names the test, the device, the path in the nest, the worst element and the count.
    result.stdout.fnmatch_lines(
        [
            "*test_scale[[]jax-cpu:1-float32[]]*",
            "*parity failed on jax cpu:1 (float32) against the reference cpu, check 'scaled':",
            "*scaled[[]'out'[]]:",
            "*1 of 64 elements (1.56%) are off; the worst error is *x the allowed error",
            "*index*actual*reference*|difference|*allowed",
            "*(17,)*0.25*",
        ]
    )
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    # The summary shows parity headroom for the passing device and the failure for the other.
    result.stdout.fnmatch_lines(["*== accel ==*"])
    result.stdout.re_match_lines([r"test_clean\s+float32\s+.*\s+\d\.\d\d\s*$"])
    result.stdout.re_match_lines([r"test_scale\s+float32\s+.*FAILED.*\s+FAIL \S+\s*$"])


def test_selecting_one_device_alone_still_checks_parity(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(test_defect=PLANTED_DEFECT)
    result = two_jax_devices_hosted("-v", "-k", "cpu:1")
    result.assert_outcomes(passed=1, failed=1, deselected=2)
    result.stdout.fnmatch_lines(["*parity failed on jax cpu:1*"])


def test_last_failed_reruns_only_the_failing_device_with_parity(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(test_defect=PLANTED_DEFECT)
    first = two_jax_devices_hosted()
    first.assert_outcomes(passed=3, failed=1)
    rerun = two_jax_devices_hosted("--lf", "-v")
    rerun.assert_outcomes(failed=1)
    rerun.stdout.fnmatch_lines(["*test_scale[[]jax-cpu:1-float32[]] FAILED*", "*parity failed*"])


def test_fixtures_get_the_reference_device_in_the_reference_pass(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    """A parameter fixture built on accel_device is rebuilt on the reference device; a module-scoped
    fixture is neither rebuilt nor torn down by the reference pass."""
    pytester.makepyfile(
        """
        import json, pathlib
        import pytest
        import jax.numpy as jnp

        LOG = pathlib.Path("events.jsonl")

        def log(**event):
            with LOG.open("a") as handle:
                handle.write(json.dumps(event) + "\\n")

        @pytest.fixture(scope="module")
        def shared_table():
            log(event="module-setup")
            yield [1.0, 2.0, 3.0]
            log(event="module-teardown")

        @pytest.fixture
        def layer(accel_device, shared_table):
            weights = accel_device.randn(16, 4)
            bias = accel_device.asarray(shared_table + [0.5])
            log(event="layer-setup", device=accel_device.name, weights_on=str(weights.devices()))
            yield {"w": weights, "b": bias}
            log(event="layer-teardown", device=accel_device.name)

        @pytest.mark.accel(framework="jax")
        def test_layer(accel_device, layer):
            x = accel_device.randn(5, 16)
            accel_device.check(jnp.tanh(x @ layer["w"] + layer["b"]), name="y")
        """
    )
    result = two_jax_devices_hosted("-k", "cpu:1", "-v")
    result.assert_outcomes(passed=1, deselected=1)
    import json

    events = [json.loads(line) for line in pytester.path.joinpath("events.jsonl").read_text().splitlines()]
    names = [(e["event"], e.get("device")) for e in events]
    assert names == [
        ("module-setup", None),
        ("layer-setup", "cpu:1"),
        ("layer-setup", "cpu"),  # the reference pass rebuilds the layer on the reference device
        ("layer-teardown", "cpu"),
        ("layer-teardown", "cpu:1"),
        ("module-teardown", None),
    ]
    assert "CpuDevice(id=1)" in events[1]["weights_on"]
    assert "CpuDevice(id=0)" in events[2]["weights_on"]


def test_reference_values_are_reused_in_the_same_process(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(
        """
        import pathlib
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_count(accel_device):
            with pathlib.Path("runs.txt").open("a") as handle:
                handle.write(accel_device.name + "\\n")
            accel_device.check(accel_device.randn(4) * 3)
        """
    )
    two_jax_devices_hosted().assert_outcomes(passed=2)
    # cpu ran once as its own item; cpu:1 reused its values instead of a second reference pass.
    assert pytester.path.joinpath("runs.txt").read_text().split() == ["cpu", "cpu:1"]


def test_different_checks_on_the_two_devices_fail_clearly(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_fewer(accel_device):
            x = accel_device.randn(4)
            accel_device.check(x, name="a")
            if accel_device.name == "cpu":
                accel_device.check(x * 2, name="b")

        @pytest.mark.accel(framework="jax")
        def test_renamed(accel_device):
            x = accel_device.randn(4)
            accel_device.check(x, name="a" if accel_device.name == "cpu" else "z")

        @pytest.mark.accel(framework="jax")
        def test_more(accel_device):
            x = accel_device.randn(4)
            accel_device.check(x, name="a")
            if accel_device.name != "cpu":
                accel_device.check(x, name="extra")
        """
    )
    result = two_jax_devices_hosted("-v")
    result.assert_outcomes(passed=3, failed=3)
    result.stdout.fnmatch_lines_random(
        [
            "*CheckSequenceError: the test called check 1 time(s) on cpu:1 but 2 time(s) on the "
            "reference device cpu ('a', 'b')*",
            "*CheckSequenceError: check #1 is named 'z' on cpu:1 but 'a' in the reference device (cpu)*",
            "*CheckSequenceError: check #2 ('extra') on cpu:1 has no counterpart*",
        ]
    )


def test_an_exception_in_the_reference_pass_is_reported_as_such(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.accel(framework="jax")
        def test_breaks_on_reference(accel_device):
            if accel_device.name == "cpu":
                raise RuntimeError("kernel not implemented for the reference")
            accel_device.check(accel_device.randn(3))
        """
    )
    result = two_jax_devices_hosted("-k", "cpu:1")
    result.assert_outcomes(failed=1, deselected=1)
    result.stdout.fnmatch_lines(
        [
            "*ReferencePassError: the reference pass on jax cpu (float32) raised RuntimeError: "
            "kernel not implemented for the reference*",
            "*not a device mismatch*",
        ]
    )
    result.stdout.no_fnmatch_line("*parity failed*")


def test_randn_values_are_bitwise_identical_on_every_device(
    pytester: pytest.Pytester, two_jax_devices_hosted
) -> None:
    pytester.makepyfile(
        """
        import pathlib
        import numpy as np
        import pytest

        @pytest.mark.accel(framework="jax", dtypes=["float32", "bfloat16"])
        def test_values(accel_device):
            values = [accel_device.randn(3, 5), accel_device.rand(7), accel_device.randint(0, 9, (4,))]
            blob = b"".join(np.asarray(v).tobytes() for v in values)
            name = f"{accel_device.name}-{accel_device.dtype_name}.bin".replace(":", "_")
            pathlib.Path(name).write_bytes(blob)
        """
    )
    two_jax_devices_hosted().assert_outcomes(passed=4)
    for dtype in ("float32", "bfloat16"):
        on_cpu = pytester.path.joinpath(f"cpu-{dtype}.bin").read_bytes()
        on_cpu1 = pytester.path.joinpath(f"cpu_1-{dtype}.bin").read_bytes()
        assert on_cpu == on_cpu1 and len(on_cpu) > 0
    assert (
        pytester.path.joinpath("cpu-float32.bin").read_bytes()
        != pytester.path.joinpath("cpu-bfloat16.bin").read_bytes()
    )
