"""The suite's own assert helper, as many suites have one: numpy's assert_allclose with the suite's
tolerance for the result's dtype. pytest.ini lists it in accel_capture_functions, so each call records
one check (the assert_allclose it calls inside is not recorded again)."""

from __future__ import annotations

import numpy as np

# Loose enough for every device the suite runs on, as suites' tolerances usually are.
TOLERANCES = {"float16": (1e-2, 1e-3), "float32": (1e-3, 1e-6)}


def assert_close(actual, expected):
    """``actual`` matches ``expected`` within the suite's tolerance for ``actual``'s dtype."""
    rtol, atol = TOLERANCES[np.dtype(actual.dtype).name]
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=atol)
