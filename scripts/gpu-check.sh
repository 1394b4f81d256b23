#!/usr/bin/env bash
# One command for a CUDA machine: the project's tests (GPU tests included) and the examples on every
# device present, then a short table. Installs the checkout without touching dependencies:
#   bash scripts/gpu-check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
python3 -m pip install --quiet --no-deps --no-build-isolation -e . >/dev/null 2>&1 \
  || echo "note: editable install failed; the pytest11 entry point may be missing"
python3 - <<'PY'
import importlib
for name in ("torch", "jax"):
    try:
        module = importlib.import_module(name)
    except Exception as exc:  # report and go on: the checks below say what runs
        print(f"{name}: not importable ({exc})")
        continue
    print(f"{name} {module.__version__}")
    if name == "torch" and module.cuda.is_available():
        print("  cuda:", [module.cuda.get_device_name(i) for i in range(module.cuda.device_count())])
    if name == "jax":
        print("  devices:", module.devices())
PY
status=0
echo "== project tests (GPU tests run where CUDA is present) =="
python3 -m pytest -q tests -p no:cacheprovider || status=1
echo "== examples on every device present =="
python3 -m pytest --accel=all examples -q -p no:cacheprovider || status=1
echo "== GPU benchmarks (timing against torch.utils.benchmark) =="
python3 benchmarks/bench_gpu_timing.py || status=1
python3 benchmarks/bench_compare_cost.py || status=1
exit $status
