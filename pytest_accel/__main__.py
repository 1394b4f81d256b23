"""``python -m pytest_accel``: the gate's commands outside a pytest run (merge, compare, duet)."""

from __future__ import annotations

import sys

from pytest_accel.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
