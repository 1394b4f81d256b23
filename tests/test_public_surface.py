"""What a test sees of ``accel_device`` is what the README documents, no more: the plugin's bookkeeping
stays out of ``dir(accel_device)``, and ``pytest_accel.AccelDevice`` names its type for annotations."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def documented_members() -> list[str]:
    """The members the README's table "The fixture `accel_device`" names (``.name``, ``.check(...)``)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("### The fixture `accel_device`", 1)[1]
    rows = re.match(r"\s*((?:\|.*\n)+)", section)
    assert rows is not None, "the README's fixture section no longer starts with its table"
    return sorted(set(re.findall(r"`\.([A-Za-z_]\w*)", rows.group(1))))


def test_the_readme_table_parses_into_the_members() -> None:
    members = documented_members()
    assert {"name", "dtype_name", "xp", "asarray", "randint", "check", "bench"} <= set(members)
    assert len(members) == 17, members


def test_accel_device_shows_exactly_the_documented_members(pytester: pytest.Pytester) -> None:
    # oracle=True adds a hidden pass, so the reference pass's device is looked at too.
    pytester.makepyfile(
        f"""
        import pytest
        import pytest_accel

        DOCUMENTED = {documented_members()!r}

        @pytest.mark.accel(framework="numpy", dtypes=["float32"], oracle=True)
        def test_surface(accel_device):
            public = sorted(n for n in dir(accel_device) if not n.startswith("_"))
            assert public == DOCUMENTED
            assert type(accel_device) is pytest_accel.AccelDevice
            accel_device.check(accel_device.randn(3), name="x")
        """
    )
    pytester.runpytest().assert_outcomes(passed=1)


def test_importing_the_package_loads_no_array_library() -> None:
    code = (
        "import sys, pytest_accel\n"
        "heavy = sorted({'numpy', 'torch', 'jax'} & set(sys.modules))\n"
        "assert not heavy, heavy\n"
        "assert isinstance(pytest_accel.AccelDevice, type)\n"
        "assert 'AccelDevice' in pytest_accel.__all__\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_package_is_marked_typed() -> None:
    import pytest_accel

    assert (Path(pytest_accel.__file__).parent / "py.typed").is_file()
