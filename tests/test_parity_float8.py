"""Float8 parity in the corpus' style: real results pass at the default tolerances, defects beyond
float8's rounding fail.

Float8 is a storage format: a kernel computes in float32 (or bfloat16) and rounds its result to float8
once, with a scale that brings the values into float8's range. The real pairs here are made that way:

- the corpus' real H200 and CPU results (tests/data, 10 ops x 3 dtypes) each put through torch's real
  float8 cast with one power-of-two scale taken from the CPU result, as a float8 epilogue stores them;
- the same float8 inputs computed by torch (upcast, compute, round once, ``torch._scaled_mm``) and by
  JAX's own float8 operations (XLA's float8 matmul and elementwise ops).

The defaults are one float8 step (rtol = 2 u: 0.125 for float8_e4m3fn, 0.25 for float8_e5m2) because
two correct roundings of nearly equal values differ by at most one step; the tests below check that
claim against the data, and that one element moved by more than that fails.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from defects import DEFECTS, middle  # noqa: E402
from test_parity_corpus import BENIGN_KEYS, corpus_pair, normalized_error  # noqa: E402

from pytest_accel import ParityError, assert_parity  # noqa: E402
from pytest_accel.dtypes.float_formats import FLOAT8_DTYPES, FORMATS  # noqa: E402
from pytest_accel.parity.tolerances import default_tolerance  # noqa: E402

FLOAT8 = {name: getattr(torch, name) for name in FLOAT8_DTYPES}
STEP = {name: FORMATS[name].step for name in FLOAT8_DTYPES}  # 2 u: 0.125 and 0.25
# Planted defects: four float8 steps as a normalized error (a fraction of |value| + rms).
DEFECT_SIZE = {name: 4 * STEP[name] for name in FLOAT8_DTYPES}
DISTINGUISHABLE_FACTOR = 3.0  # as in the corpus tests: a defect must be 3x the case's benign error


# Scaling recipes keep a margin below the format's largest value; three binades here, so that a
# planted defect that doubles a value is still a finite float8 number (not an Inf, nor torch's
# saturation at 448).
HEADROOM = 8.0


def scale_for(reference: np.ndarray, dtype: str) -> float:
    """A power-of-two scale that brings the reference's largest magnitude to within HEADROOM of the
    format's largest value."""
    amax = float(np.max(np.abs(reference))) if reference.size else 0.0
    if amax == 0.0:
        return 1.0
    return 2.0 ** math.floor(math.log2(FORMATS[dtype].max_finite / HEADROOM / amax))


def to_float8(values: Any, dtype: str, scale: float) -> Any:
    """Scaled and rounded by torch's own float8 cast (round to nearest even), as a kernel stores it."""
    tensor = torch.as_tensor(values).to(torch.float32) * scale
    return tensor.to(FLOAT8[dtype])


def float8_pair(key: str, dtype: str) -> tuple[Any, Any]:
    """(GPU result, CPU result) of a corpus case, each stored in float8 with the same scale."""
    gpu, cpu = corpus_pair(key)
    scale = scale_for(cpu.float().numpy(), dtype)
    return to_float8(gpu, dtype, scale), to_float8(cpu, dtype, scale)


def float8_grid(dtype: str) -> np.ndarray:
    """Every finite number of the format, ascending, decoded from its 256 bit patterns by torch."""
    codes = torch.arange(256, dtype=torch.int32).to(torch.uint8).view(FLOAT8[dtype])
    values = codes.double().numpy()
    return np.unique(values[np.isfinite(values)])


CORPUS_CASES = [(key, dtype) for key in BENIGN_KEYS for dtype in FLOAT8_DTYPES]


def _case_id(case: tuple[str, str]) -> str:
    return f"{case[0]}-{case[1]}"


# --------------------------------------------------------------------------------------------------
# Real results pass


def test_the_defaults_are_one_float8_step():
    assert default_tolerance("float8_e4m3fn").rtol == 0.125 == 2 * 2.0**-4
    assert default_tolerance("float8_e5m2").rtol == 0.25 == 2 * 2.0**-3
    assert default_tolerance("float8_e4m3fn").atol == 2.0**-9  # the smallest subnormal
    assert default_tolerance("float8_e5m2").atol == 2.0**-16
    # AMD's fnuz variants: the same steps, one more binade of subnormals
    assert default_tolerance("float8_e4m3fnuz") == type(default_tolerance("x"))(0.125, 2.0**-10)
    assert default_tolerance("float8_e5m2fnuz") == type(default_tolerance("x"))(0.25, 2.0**-17)


@pytest.mark.parametrize("case", CORPUS_CASES, ids=_case_id)
def test_real_gpu_results_stored_in_float8_pass(case):
    gpu, cpu = float8_pair(*case)
    assert gpu.dtype == FLOAT8[case[1]]
    assert_parity(gpu, cpu)


def test_real_float8_pairs_use_part_of_the_allowance():
    # The claim the default rests on, measured: GPU and CPU results stored in float8 disagree at
    # thousands of elements (the check is not vacuous), by less than one step of the result's scale.
    worst = {dtype: 0.0 for dtype in FLOAT8_DTYPES}
    differing = 0
    for key, dtype in CORPUS_CASES:
        gpu, cpu = float8_pair(key, dtype)
        differing += int((gpu.float() != cpu.float()).sum())
        worst[dtype] = max(worst[dtype], float(normalized_error(gpu, cpu).max()) / STEP[dtype])
    assert differing > 1000
    # Seen: up to 0.74 of a step (index_add and cumsum in the half types); never a whole step.
    for dtype in FLOAT8_DTYPES:
        assert 0.3 < worst[dtype] < 1.0, worst


def _float8_inputs(dtype: str, shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Standard normal values on the float8 grid, as float32."""
    values = np.random.default_rng(seed).standard_normal(shape)
    return FORMATS[dtype].round(values).astype(np.float32)


@pytest.mark.parametrize("dtype", FLOAT8_DTYPES)
def test_torch_scaled_mm_and_an_upcast_matmul_agree(dtype):
    a, b = _float8_inputs(dtype, (64, 256), 1), _float8_inputs(dtype, (256, 96), 2)
    ta, tb = torch.from_numpy(a).to(FLOAT8[dtype]), torch.from_numpy(b).to(FLOAT8[dtype])
    one = torch.tensor(1.0)
    fused = torch._scaled_mm(ta, tb.t().contiguous().t(), one, one, out_dtype=torch.float32)
    scale = scale_for((a.astype(np.float64) @ b), dtype)
    exact = a.astype(np.float64) @ b.astype(np.float64)
    assert_parity(to_float8(fused, dtype, scale), to_float8(exact, dtype, scale))


def _jax_real_pairs(dtype: str) -> dict[str, tuple[Any, Any]]:
    """JAX's float8 operations against torch's upcast-compute-round-once of the same inputs."""
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    jdt, tdt = getattr(jnp, dtype), FLOAT8[dtype]
    x, w = _float8_inputs(dtype, (64, 256), 3), _float8_inputs(dtype, (256, 128), 4)
    jx, jw = jnp.asarray(x, dtype=jdt), jnp.asarray(w, dtype=jdt)
    tx, tw = torch.from_numpy(x), torch.from_numpy(w)
    return {
        "matmul (float32 accumulation, scaled)": (
            (jnp.matmul(jx, jw, preferred_element_type=jnp.float32) / 16).astype(jdt),
            (tx @ tw / 16).to(tdt),
        ),
        "matmul (float8 out)": (jnp.matmul(jx, jw) / 16, (tx @ tw / 16).to(tdt)),
        "exp(sin(x))": (jnp.exp(jnp.sin(jx)), tx.sin().exp().to(tdt)),
        "gelu (tanh)": (
            jax.nn.gelu(jx, approximate=True),
            torch.nn.functional.gelu(tx, approximate="tanh").to(tdt),
        ),
    }


@pytest.mark.parametrize("dtype", FLOAT8_DTYPES)
def test_jax_float8_ops_agree_with_torch(dtype):
    for what, (jax_result, torch_result) in _jax_real_pairs(dtype).items():
        assert str(jax_result.dtype) == dtype, what
        try:
            assert_parity(jax_result, torch_result)
        except ParityError as exc:
            raise AssertionError(f"{what}: {exc}") from None


def test_a_float8_sum_accumulated_in_float8_fails():
    # JAX sums float8 values in float8 itself: several steps from the correctly rounded sum, which is
    # what the default is for. A test that does this needs its own rtol, or a float32 accumulation.
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    x = _float8_inputs("float8_e4m3fn", (64, 256), 5)
    native = jnp.asarray(x, dtype=jnp.float8_e4m3fn).sum(axis=-1)
    once = torch.from_numpy(x).double().sum(dim=-1).to(torch.float8_e4m3fn)
    with pytest.raises(ParityError, match="float8_e4m3fn"):
        assert_parity(native, once)
    accumulated = jnp.asarray(x, dtype=jnp.float8_e4m3fn).astype(jnp.float32).sum(axis=-1)
    assert_parity(accumulated.astype(jnp.float8_e4m3fn), once)


# --------------------------------------------------------------------------------------------------
# Planted defects fail


def plant(defect: str, key: str, dtype: str) -> tuple[Any, Any, Any]:
    """(defective GPU result, correct GPU result, CPU result), the defect applied to the GPU result's
    values and the outcome stored in float8 again (a defective float8 result is float8 too)."""
    gpu, cpu = float8_pair(key, dtype)
    values = gpu.float()
    bad = DEFECTS[defect](values, DEFECT_SIZE[dtype])
    return bad.to(FLOAT8[dtype]), gpu, cpu


def applies(defect: str, key: str, dtype: str) -> bool:
    gpu, _ = float8_pair(key, dtype)
    values = gpu.float()
    if defect == "shifted":
        return values.dim() >= 1 and values.shape[-1] > 1
    if defect == "transposed":
        return values.dim() == 2 and values.shape[0] == values.shape[1] and not torch.equal(values, values.T)
    if defect == "inf":
        return FORMATS[dtype].overflows_to_inf  # float8_e4m3fn has no Inf: torch saturates it
    return defect != "bfloat16_rounded"  # float8 values are bfloat16 values already


def defect_size(defect: str, key: str, dtype: str) -> float:
    bad, gpu, cpu = plant(defect, key, dtype)
    if bad.shape != gpu.shape:
        return math.inf
    a, g, r = (t.double().numpy() for t in (bad, gpu, cpu))
    rms = math.sqrt(float(np.mean(np.square(r))))
    with np.errstate(invalid="ignore", over="ignore"):
        moved = np.abs(a - g) / (np.abs(r) + rms)
    return float(np.where(np.isfinite(moved), moved, np.inf).max())


def distinguishable(defect: str, key: str, dtype: str) -> bool:
    """Beyond float8's rounding (at least two steps) and 3x the case's own benign error."""
    size = defect_size(defect, key, dtype)
    gpu, cpu = float8_pair(key, dtype)
    benign = float(normalized_error(gpu, cpu).max())
    return size >= 2 * STEP[dtype] and size >= DISTINGUISHABLE_FACTOR * benign


APPLICABLE = [
    (defect, key, dtype) for key, dtype in CORPUS_CASES for defect in DEFECTS if applies(defect, key, dtype)
]
PLANTED = [case for case in APPLICABLE if distinguishable(*case)]
EXCLUDED = [case for case in APPLICABLE if case not in PLANTED]


def test_excluded_defects_stay_few():
    # Prefix sums (cumsum) and row variances (all near 1) change by less than two float8 steps from
    # one position to the next, so a shift by one position is rounding-sized once stored in float8.
    assert {(defect, key.split(".")[1]) for defect, key, _ in EXCLUDED} <= {
        ("shifted", "cumsum"),
        ("shifted", "var"),
    }, [(case, defect_size(*case)) for case in EXCLUDED]
    assert len(PLANTED) >= 10 * len(EXCLUDED) and len(PLANTED) > 400


@pytest.mark.parametrize(("defect", "key", "dtype"), PLANTED, ids=["-".join(case) for case in PLANTED])
def test_planted_defect_fails(defect, key, dtype):
    bad, _, cpu = plant(defect, key, dtype)
    if defect not in ("nan", "inf"):  # the defect is what it says, not an overflow in disguise
        assert float(bad.float().abs().max()) < FORMATS[dtype].max_finite
    with pytest.raises(ParityError) as raised:
        assert_parity(bad, cpu)
    message = str(raised.value)
    if defect == "one_element" and bad.numel() > 1:
        assert f"1 of {bad.numel()} elements" in message, message
    if defect == "nan":
        assert "NaN" in message, message
    if bad.shape == cpu.shape:
        assert f"tolerance for {dtype}: rtol={STEP[dtype]:.3g}" in message, message


@pytest.mark.parametrize("dtype", FLOAT8_DTYPES)
@pytest.mark.parametrize("key", ["torch.matmul.float32.default", "torch.softmax.float32.default"])
def test_any_element_one_grid_step_away_passes(key, dtype):
    # What a correct rounding can do to an element, done to the largest, the smallest nonzero and the
    # middle element, up and down: always within the default.
    grid = float8_grid(dtype)
    _, cpu = float8_pair(key, dtype)
    values = cpu.float().numpy().astype(np.float64).reshape(-1)
    nonzero = np.flatnonzero(values)
    picks = {
        int(np.argmax(np.abs(values))),
        int(nonzero[np.argmin(np.abs(values[nonzero]))]),
        middle(cpu),
    }
    for i in picks:
        position = int(np.searchsorted(grid, values[i]))
        assert grid[position] == values[i]
        for neighbour in (position - 1, position + 1):
            if not 0 <= neighbour < grid.size:
                continue
            moved = values.copy()
            moved[i] = grid[neighbour]
            tensor = torch.from_numpy(moved.reshape(cpu.shape).astype(np.float32)).to(FLOAT8[dtype])
            assert_parity(tensor, cpu)


@pytest.mark.parametrize("dtype", FLOAT8_DTYPES)
def test_one_element_beyond_one_step_fails(dtype):
    _, cpu = float8_pair("torch.matmul.float32.default", dtype)
    bad = DEFECTS["one_element"](cpu.float(), 1.5 * STEP[dtype]).to(FLOAT8[dtype])
    with pytest.raises(ParityError, match=r"1 of \d+ elements"):
        assert_parity(bad, cpu)


def test_every_defect_is_planted_in_every_format():
    for defect in DEFECTS:
        if defect == "bfloat16_rounded":
            continue
        formats = {dtype for planted_defect, _, dtype in PLANTED if planted_defect == defect}
        wanted = {"float8_e5m2"} if defect == "inf" else set(FLOAT8_DTYPES)
        assert formats == wanted, defect


def test_middle_element_defect_names_its_index():
    bad, _, cpu = plant("one_element", "torch.softmax.float32.default", "float8_e4m3fn")
    with pytest.raises(ParityError) as raised:
        assert_parity(bad, cpu)
    index = np.unravel_index(middle(bad), tuple(bad.shape))
    assert "(" + ", ".join(str(int(i)) for i in index) + ")" in str(raised.value)
