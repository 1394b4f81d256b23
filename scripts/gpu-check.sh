#!/usr/bin/env bash
# One command for a CUDA machine: the GPU tests, the examples on every device present, the GPU
# benchmarks, then the rest of the project's tests. Installs the checkout without touching dependencies:
#   bash scripts/gpu-check.sh
# Each stage has its own time limit (SIGINT first, so pytest still prints its summary); the whole script
# stays under 10 minutes.
set -uo pipefail
cd "$(dirname "$0")/.."
# JAX preallocates 75% of GPU memory per process by default; the test session, its pytester
# subprocesses and torch share one GPU here, so allocate on demand instead.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
has_entry_point() {  # from outside the checkout, so that a stray pytest_accel.egg-info there cannot fool it
  (cd / && python3 -c "import importlib.metadata as m, sys; sys.exit(not any(e.name == 'accel' for e in m.entry_points(group='pytest11')))")
}
log="$(mktemp)"
if ! python3 -m pip install --quiet --no-index --disable-pip-version-check --no-deps --no-build-isolation -e . >"$log" 2>&1; then
  echo "note: editable install failed:"; tail -n 3 "$log"
fi
if ! has_entry_point; then  # e.g. no setuptools>=64, no pip, or an externally managed Python
  shim="$(mktemp -d)"
  mkdir -p "$shim/pytest_accel-0.1.0.dist-info"
  printf 'Metadata-Version: 2.1\nName: pytest-accel\nVersion: 0.1.0\n' >"$shim/pytest_accel-0.1.0.dist-info/METADATA"
  printf '[pytest11]\naccel = pytest_accel.plugin\n' >"$shim/pytest_accel-0.1.0.dist-info/entry_points.txt"
  export PYTHONPATH="$PWD:$shim${PYTHONPATH:+:$PYTHONPATH}"
  if has_entry_point; then echo "note: plugin loaded from the checkout via PYTHONPATH"; else echo "ERROR: pytest11 entry point missing"; fi
fi
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
stage() {  # stage SECONDS COMMAND...: run with a time limit, remember a failure
  timeout -s INT -k 15 "$1" "${@:2}" || { echo "stage failed (exit $?): ${*:2}"; status=1; }
}
echo "== GPU tests =="
stage 150 python3 -m pytest -v -rs -p no:cacheprovider tests/test_gpu.py
echo "== examples on every device present (saved as a baseline) =="
gate_dir="$(mktemp -d)"
stage 150 python3 -m pytest --accel=all examples -q -rs -p no:cacheprovider --accel-save="$gate_dir/base.json"
echo "== the gate on the GPU: the examples again, compared with that baseline =="
stage 120 python3 -m pytest --accel=all examples -q -p no:cacheprovider --accel-compare="$gate_dir/base.json" \
  --accel-gate-noise=5% --accel-report="$gate_dir/gate.md" --accel-report="$gate_dir/gate.json"
[ -f "$gate_dir/gate.md" ] && head -n 40 "$gate_dir/gate.md"
echo "== GPU benchmarks (timing against torch.utils.benchmark) =="
stage 60 python3 benchmarks/bench_gpu_timing.py
stage 90 python3 benchmarks/bench_compare_cost.py
echo "== the other project tests =="
left=$((570 - SECONDS))
stage "$(( left > 60 ? left : 60 ))" python3 -m pytest -q -rs -p no:cacheprovider tests --ignore=tests/test_gpu.py --durations=10
echo "gpu-check: total ${SECONDS} s, status ${status}"
exit $status
