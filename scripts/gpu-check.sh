#!/usr/bin/env bash
# One command for a CUDA machine: the GPU tests, the examples on every device present, the GPU
# benchmarks, then the rest of the project's tests. Installs the checkout without touching dependencies:
#   bash scripts/gpu-check.sh
# Each stage has its own time limit, in seconds; they add up to 590 (the script refuses to start
# otherwise), and the few commands between stages (mktemp, head, echo) take well under the 10 s left:
#   setup 50 (install 20, entry point 2 x 5, versions 15, xdist check 5) | GPU tests 120 | examples 60 |
#   gate 50 | GPU benchmarks 30 + 40 | the project's other tests 240
# Issue 18 on the device: the GPU tests read peak memory from the CUDA allocator and JAX's memory_stats,
# run index_add twice under torch.use_deterministic_algorithms, and count torch.compile recompilations;
# the examples stage runs examples/test_{memory,determinism,recompiles}_example.py on every device; the
# versions stage prints what torch.accelerator and JAX's platforms report (XPU, HPU, ROCm, METAL).
# A test stage gets SIGINT 10 s before its limit (pytest still prints its summary) and SIGKILL at it:
# the script ends within 10 minutes by construction.
set -uo pipefail
cd "$(dirname "$0")/.."
INSTALL_S=20 ENTRY_POINT_S=5 VERSIONS_S=15 XDIST_CHECK_S=5 GPU_TESTS_S=120 EXAMPLES_S=60 GATE_S=50
BENCH_TIMING_S=30 BENCH_COMPARE_S=40 PROJECT_TESTS_S=240
total=$((INSTALL_S + 2 * ENTRY_POINT_S + VERSIONS_S + XDIST_CHECK_S + GPU_TESTS_S + EXAMPLES_S + GATE_S \
  + BENCH_TIMING_S + BENCH_COMPARE_S + PROJECT_TESTS_S))
if ((total > 590)); then echo "gpu-check: the stage limits add up to ${total} s, over 590"; exit 2; fi
limit() {  # limit SECONDS COMMAND...: ends within SECONDS (TERM one second before, then KILL)
  timeout -k 1 "$(($1 - 1))" "${@:2}"
}
# JAX preallocates 75% of GPU memory per process by default; the test session, its pytester
# subprocesses and torch share one GPU here, so allocate on demand instead.
export XLA_PYTHON_CLIENT_PREALLOCATE=false
has_entry_point() {  # from outside the checkout, so that a stray pytest_accel.egg-info there cannot fool it
  (cd / && limit "$ENTRY_POINT_S" python3 -c "import importlib.metadata as m, sys; sys.exit(not any(e.name == 'accel' for e in m.entry_points(group='pytest11')))")
}
log="$(mktemp)"
if ! limit "$INSTALL_S" python3 -m pip install --quiet --no-index --disable-pip-version-check --no-deps --no-build-isolation -e . >"$log" 2>&1; then
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
limit "$VERSIONS_S" python3 - <<'PY'
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
    if name == "torch":
        accelerator = getattr(module, "accelerator", None)
        current = accelerator.current_accelerator() if accelerator is not None else None
        print("  torch.accelerator:", current, "hip:", getattr(module.version, "hip", None))
    if name == "jax":
        print("  devices:", module.devices())
PY
status=0
stage() {  # stage SECONDS COMMAND...: SIGINT 10 s before SECONDS, SIGKILL at SECONDS; remember a failure
  local started=$SECONDS
  timeout -s INT -k 10 "$(($1 - 10))" "${@:2}" || { echo "stage failed (exit $?): ${*:2}"; status=1; }
  echo "(stage: $((SECONDS - started)) s of $1 s)"
}
has_xdist=0
limit "$XDIST_CHECK_S" python3 -c "import xdist" 2>/dev/null && has_xdist=1
xdist() {  # xdist N: "-n N" where pytest-xdist is installed (the suites run in parallel then)
  ((has_xdist)) && echo "-n $1"
}
echo "== GPU tests =="
# shellcheck disable=SC2046
stage "$GPU_TESTS_S" python3 -m pytest -v -rs -p no:cacheprovider $(xdist 4) tests/test_gpu.py
echo "== examples on every device present (saved as a baseline) =="
gate_dir="$(mktemp -d)"
stage "$EXAMPLES_S" python3 -m pytest --accel=all examples -q -rs -p no:cacheprovider --accel-save="$gate_dir/base.json"
echo "== the gate on the GPU: the examples again, compared with that baseline =="
stage "$GATE_S" python3 -m pytest --accel=all examples -q -p no:cacheprovider --accel-compare="$gate_dir/base.json" \
  --accel-gate-noise=5% --accel-report="$gate_dir/gate.md" --accel-report="$gate_dir/gate.json"
[ -f "$gate_dir/gate.md" ] && head -n 40 "$gate_dir/gate.md"
echo "== GPU benchmarks (timing against torch.utils.benchmark) =="
stage "$BENCH_TIMING_S" python3 benchmarks/bench_gpu_timing.py
stage "$BENCH_COMPARE_S" python3 benchmarks/bench_compare_cost.py
echo "== the other project tests (CPU only: JAX_PLATFORMS=cpu, no CUDA device for torch) =="
# What they count (items, rows, columns) is what JAX's forced CPU devices and torch's CPU give; the
# sessions they start get the same environment from tests/conftest.py.
# shellcheck disable=SC2046
stage "$PROJECT_TESTS_S" env JAX_PLATFORMS=cpu CUDA_VISIBLE_DEVICES= python3 -m pytest -q -rs -p no:cacheprovider \
  $(xdist 6) tests --ignore=tests/test_gpu.py --durations=10
echo "gpu-check: total ${SECONDS} s (limit ${total} s), status ${status}"
exit $status
