"""The default tolerances against real accelerator output, planted defects, and other benign pairs.

tests/data/parity_dev.{npz,json} hold the outputs of 10 torch ops in 3 dtypes on an NVIDIA H200 and on
its host CPU, plus float64 oracles (see tests/data/README.md). With the default tolerances:

- every benign GPU result passes against its CPU result;
- defects planted into a benign GPU result fail: each is sized well beyond the dtype's rounding;
- benign pairs that are not in the corpus (other ops, shapes, seeds, and pairs computed two legitimately
  different ways on the CPU) pass as well, so that the defaults are not tuned to the corpus alone.

The normalized error used throughout is the checker's own measure, |a - r| / (|r| + rms(r)): an element
passes when that is at most rtol (atol is negligible for these results).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
F = torch.nn.functional

from defects import DEFECTS, middle  # noqa: E402

from pytest_accel import ParityError, assert_parity  # noqa: E402

DATA = Path(__file__).parent / "data"

TORCH_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}

# Unit roundoff u of each compute dtype: half the distance from 1 to the next number.
UNIT_ROUNDOFF = {"float32": 2.0**-24, "float16": 2.0**-11, "bfloat16": 2.0**-8}

# The size of a planted defect, as a normalized error (a fraction of |value| + rms(result)).
# Rounding of one operation is at most 1 u; the worst benign GPU-vs-CPU error in the corpus is about 25 u
# for float32 (matmul, 1.45e-6), 11 u for float16 (index_add, 5.3e-3) and 11 u for bfloat16 (index_add,
# 4.4e-2). Each defect size below is at least 5x that worst benign error and tens to thousands of u, so a
# result off by this much is wrong, not rounded differently; test_defect_sizes_are_beyond_rounding
# checks both claims against the corpus.
DEFECT_SIZE = {
    "float32": 1e-4,  # ~1678 u (u = 2^-24 ~ 6.0e-8)
    "float16": 5e-2,  # ~102 u (u = 2^-11 ~ 4.9e-4)
    "bfloat16": 2.5e-1,  # 64 u (u = 2^-8 ~ 3.9e-3)
}

# A defect is planted only where it is distinguishable from the case's own benign error: its
# normalized size must be at least this many times the worst normalized GPU-vs-CPU error of the case.
# Below that, no tolerance could both pass the benign result and fail the defective one.
DISTINGUISHABLE_FACTOR = 3.0


# --------------------------------------------------------------------------------------------------
# The corpus


def _load_corpus() -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    meta = json.loads((DATA / "parity_dev.json").read_text())
    with np.load(DATA / "parity_dev.npz", allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    return meta, arrays


META, ARRAYS = _load_corpus()
CASES: dict[str, dict[str, Any]] = {case["key"]: case for case in META["cases"]}


def as_tensor(values: np.ndarray, dtype: str) -> Any:
    """A stored float32 array in the compute dtype; exact for half-precision values (see the README)."""
    return torch.from_numpy(np.array(values, dtype=np.float32)).to(TORCH_DTYPES[dtype])


def corpus_pair(key: str) -> tuple[Any, Any]:
    """(GPU result, CPU result) of a case, as tensors in its compute dtype."""
    dtype = CASES[key]["dtype"]
    return as_tensor(ARRAYS[f"{key}.acc"], dtype), as_tensor(ARRAYS[f"{key}.cpu"], dtype)


def normalized_error(actual: Any, reference: Any) -> np.ndarray:
    """|a - r| / (|r| + rms(r)) elementwise in float64; NaN and Inf count as infinitely wrong."""
    a = np.asarray(torch.as_tensor(actual).double().numpy())
    r = np.asarray(torch.as_tensor(reference).double().numpy())
    rms = math.sqrt(float(np.mean(np.square(r)))) if r.size else 0.0
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        err = np.abs(a - r) / (np.abs(r) + rms)
    return np.where(np.isfinite(err), err, np.inf)


def worst_benign_error(key: str) -> float:
    gpu, cpu = corpus_pair(key)
    return float(normalized_error(gpu, cpu).max())


def is_benign(key: str) -> bool:
    """Judge a label by the data: a tf32_drift case whose GPU result equals the CPU's drifted nothing."""
    case = CASES[key]
    if case["label"] == "benign":
        return True
    gpu, cpu = corpus_pair(key)
    return case["label"] == "tf32_drift" and bool(torch.equal(gpu, cpu))


BENIGN_KEYS = [key for key in CASES if is_benign(key)]
FLOAT32_KEYS = [key for key in CASES if CASES[key]["dtype"] == "float32"]


def test_corpus_is_complete_and_half_values_are_exact():
    assert len(CASES) == 31
    assert {case["op"] for case in CASES.values()} == {
        "matmul", "conv2d", "softmax", "layer_norm", "sum", "var", "cumsum", "exp_sin", "gelu_tanh",
        "index_add",
    }  # fmt: skip
    for key, case in CASES.items():
        for side in ("acc", "cpu"):
            stored = ARRAYS[f"{key}.{side}"]
            assert list(stored.shape) == case["shape"], key
            # Converting back to the compute dtype loses nothing: the values are that dtype's.
            back = as_tensor(stored, case["dtype"]).float().numpy()
            np.testing.assert_array_equal(back, stored, err_msg=key)
    # No case is dropped: every one is benign, or labelled tf32_drift with GPU == CPU in the data.
    assert list(CASES) == BENIGN_KEYS


# --------------------------------------------------------------------------------------------------
# Benign corpus pairs pass with the defaults


@pytest.mark.parametrize("key", BENIGN_KEYS)
def test_benign_gpu_result_passes_against_cpu(key):
    gpu, cpu = corpus_pair(key)
    assert_parity(gpu, cpu)


def test_tf32_drift_label_is_judged_by_the_data():
    # The only tf32_drift case (conv2d float32, cuDNN picked a non-TF32 algorithm) equals the CPU
    # result bitwise, so it is benign and must pass; a real TF32 drift would have to fail.
    drift = [key for key in CASES if CASES[key]["label"] == "tf32_drift"]
    assert drift == ["torch.conv2d.float32.default"]
    gpu, cpu = corpus_pair(drift[0])
    assert torch.equal(gpu, cpu)
    assert_parity(gpu, cpu)


# --------------------------------------------------------------------------------------------------
# Planted defects


def applies(defect: str, key: str) -> bool:
    """Whether a defect is meaningful for a result at all (not whether it is big enough)."""
    gpu, _ = corpus_pair(key)
    if defect == "shifted":
        return gpu.dim() >= 1 and gpu.shape[-1] > 1
    if defect == "transposed":
        return gpu.dim() == 2 and gpu.shape[0] == gpu.shape[1] and not torch.equal(gpu, gpu.T)
    if defect == "bfloat16_rounded":
        return CASES[key]["dtype"] == "float32"
    return True


def planted(key: str, defect: str) -> Any:
    gpu, _ = corpus_pair(key)
    return DEFECTS[defect](gpu, DEFECT_SIZE[CASES[key]["dtype"]])


def defect_size(key: str, defect: str) -> float:
    """How far the defect moved the GPU result, normalized by the CPU result's scale (inf: shape)."""
    gpu, cpu = corpus_pair(key)
    bad = planted(key, defect)
    if bad.shape != gpu.shape:
        return math.inf
    a, g, r = (np.asarray(t.double().numpy()) for t in (bad, gpu, cpu))
    rms = math.sqrt(float(np.mean(np.square(r))))
    with np.errstate(invalid="ignore", over="ignore"):
        moved = np.abs(a - g) / (np.abs(r) + rms)
    return float(np.where(np.isfinite(moved), moved, np.inf).max())


def distinguishable(key: str, defect: str) -> bool:
    """The rule: plant a defect only where it is at least DISTINGUISHABLE_FACTOR x the case's own
    worst benign error (and moves the result at all)."""
    size = defect_size(key, defect)
    return size > 0 and size >= DISTINGUISHABLE_FACTOR * worst_benign_error(key)


APPLICABLE = [(key, defect) for key in BENIGN_KEYS for defect in DEFECTS if applies(defect, key)]
PLANTED = [pair for pair in APPLICABLE if distinguishable(*pair)]
EXCLUDED = [pair for pair in APPLICABLE if pair not in PLANTED]

# The pairs the rule excludes, found when this test was written (normalized defect size vs 3 x the
# case's worst benign error). Neighbouring bfloat16 prefix sums differ by less than the GPU-vs-CPU
# error of bfloat16 cumsum, so a shift by one position is rounding-sized there.
EXPECTED_EXCLUDED = {
    ("torch.cumsum.bfloat16.default", "shifted"),  # size 0.077 < 3 x 0.0313
}


def test_excluded_pairs_stay_few():
    # 1 of the 271 applicable (case, defect) pairs is excluded (270 are planted); a change here must be
    # looked at, not absorbed.
    assert len(APPLICABLE) == len(PLANTED) + len(EXCLUDED)
    assert set(EXCLUDED) == EXPECTED_EXCLUDED, [
        (key, defect, defect_size(key, defect), worst_benign_error(key)) for key, defect in EXCLUDED
    ]
    assert len(EXCLUDED) <= 1


def test_defect_sizes_are_beyond_rounding():
    for dtype, delta in DEFECT_SIZE.items():
        assert delta >= 50 * UNIT_ROUNDOFF[dtype], dtype
        worst = max(worst_benign_error(key) for key in BENIGN_KEYS if CASES[key]["dtype"] == dtype)
        assert delta >= 5 * worst, (dtype, delta, worst)


def _index_text(flat: int, shape: tuple[int, ...]) -> str:
    if not shape:
        return "()"
    index = np.unravel_index(flat, shape)
    return "(" + ", ".join(str(int(i)) for i in index) + ("," if len(index) == 1 else "") + ")"


def expected_fragments(key: str, defect: str) -> list[str]:
    """Text the failure message must contain for the defects whose explanation is checked."""
    gpu, _ = corpus_pair(key)
    if defect == "one_element":
        i = middle(gpu)
        return [f"1 of {gpu.numel()} elements", _index_text(i, tuple(gpu.shape))]
    if defect == "nan":
        return ["NaN"]
    if defect == "bfloat16_rounded" and gpu.numel() >= 8:
        # A single scalar cannot show that it was rounded: only results of 8 or more elements are
        # diagnosed (every value fits bfloat16 while the reference's do not).
        return ["bfloat16"]
    if defect == "extra_element":
        return ["shape"]
    return []


@pytest.mark.parametrize(("key", "defect"), PLANTED, ids=[f"{key}-{defect}" for key, defect in PLANTED])
def test_planted_defect_fails(key, defect):
    _, cpu = corpus_pair(key)
    bad = planted(key, defect)
    with pytest.raises(ParityError) as raised:
        assert_parity(bad, cpu)
    message = str(raised.value)
    for fragment in expected_fragments(key, defect):
        assert fragment in message, (fragment, message)
    if defect == "one_element" and bad.numel() > 1:
        # One bad element among many is not reduced precision: the message must not blame TF32.
        assert "TF32" not in message, message


def test_every_defect_is_planted_somewhere_in_every_dtype():
    for defect in DEFECTS:
        dtypes = {CASES[key]["dtype"] for key, planted_defect in PLANTED if planted_defect == defect}
        wanted = {"float32"} if defect == "bfloat16_rounded" else set(TORCH_DTYPES)
        assert dtypes == wanted, defect


# --------------------------------------------------------------------------------------------------
# Benign pairs beyond the corpus: the same computation two legitimately different ways, same dtype.


def _normal(seed: int, shape: tuple[int, ...], scale: float = 1.0, offset: float = 0.0) -> np.ndarray:
    values = np.random.default_rng(seed).standard_normal(shape) * scale + offset
    return values.astype(np.float32)


def _t(values: np.ndarray) -> Any:
    return torch.from_numpy(np.ascontiguousarray(values))


def _rounded_to(values: np.ndarray, dtype: str) -> Any:
    """A float32/float64 host result rounded once to a torch dtype."""
    return torch.from_numpy(np.asarray(values, dtype=np.float32)).to(TORCH_DTYPES[dtype])


def matmul_torch_vs_numpy(m: int, k: int, n: int, seed: int) -> tuple[Any, Any]:
    a, b = _normal(seed, (m, k)), _normal(seed + 1000, (k, n))
    return _t(a) @ _t(b), a @ b


def matmul_vs_float64_rounded(m: int, k: int, n: int, seed: int) -> tuple[Any, Any]:
    a, b = _normal(seed, (m, k)), _normal(seed + 1000, (k, n))
    return _t(a) @ _t(b), (a.astype(np.float64) @ b.astype(np.float64)).astype(np.float32)


def half_matmul(dtype: str, k: int, seed: int) -> tuple[Any, Any]:
    """torch's half-precision CPU matmul vs a float32 (numpy) product of the same inputs, rounded."""
    a = _t(_normal(seed, (96, k))).to(TORCH_DTYPES[dtype])
    b = _t(_normal(seed + 1000, (k, 80))).to(TORCH_DTYPES[dtype])
    return a @ b, _rounded_to(a.float().numpy() @ b.float().numpy(), dtype)


def half_matmul_split_k(dtype: str, k: int, seed: int) -> tuple[Any, Any]:
    """Split-K with partial products rounded to the half dtype, as cuBLAS may do (torch allows it by
    default: allow_fp16/bf16_reduced_precision_reduction), vs one float32 accumulation rounded once."""
    a = _t(_normal(seed, (96, k))).to(TORCH_DTYPES[dtype])
    b = _t(_normal(seed + 1000, (k, 80))).to(TORCH_DTYPES[dtype])
    chunk = 256
    partials = [
        (a[:, i : i + chunk].float() @ b[i : i + chunk].float()).to(a.dtype) for i in range(0, k, chunk)
    ]
    split = torch.stack([p.float() for p in partials]).sum(dim=0).to(a.dtype)
    return split, _rounded_to(a.float().numpy() @ b.float().numpy(), dtype)


def sum_vs_fsum(n: int, seed: int) -> tuple[Any, Any]:
    """torch.sum (blocked) vs the correctly rounded sum (math.fsum)."""
    x = _normal(seed, (n,))
    return torch.sum(_t(x)), np.asarray(math.fsum(x.astype(np.float64).tolist()), dtype=np.float32)


def sum_torch_vs_numpy(n: int, seed: int) -> tuple[Any, Any]:
    """torch.sum vs numpy's pairwise sum."""
    x = _normal(seed, (n,), offset=0.5)
    return torch.sum(_t(x)), np.sum(x)


def row_sums_vs_fsum(rows: int, n: int, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (rows, n))
    exact = [math.fsum(row) for row in x.astype(np.float64).tolist()]
    return _t(x).sum(dim=-1), np.asarray(exact, dtype=np.float32)


def half_sum(dtype: str, n: int, seed: int) -> tuple[Any, Any]:
    x = _t(_normal(seed, (8, n))).to(TORCH_DTYPES[dtype])
    return x.sum(dim=-1), _rounded_to(x.double().numpy().sum(axis=-1), dtype)


def cumsum_sequential_vs_torch(n: int, seed: int) -> tuple[Any, Any]:
    """numpy's sequential float32 prefix sums vs torch's CPU cumsum (which accumulates in double)."""
    x = _normal(seed, (n,))
    return np.cumsum(x), torch.cumsum(_t(x), dim=0)


def cumsum_rows(rows: int, n: int, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (rows, n))
    return np.cumsum(x, axis=-1), torch.cumsum(_t(x), dim=-1)


def half_cumsum(dtype: str, n: int, seed: int) -> tuple[Any, Any]:
    x = _t(_normal(seed, (n,))).to(TORCH_DTYPES[dtype])
    return torch.cumsum(x, dim=0), _rounded_to(np.cumsum(x.double().numpy()), dtype)


def _np_softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_torch_vs_numpy(rows: int, cols: int, scale: float, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (rows, cols), scale=scale)
    return torch.softmax(_t(x), dim=-1), _np_softmax(x)


def layer_norm_torch_vs_numpy(rows: int, cols: int, offset: float, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (rows, cols), scale=2.0, offset=offset)
    mean = x.mean(axis=-1, keepdims=True)
    var = np.square(x - mean).mean(axis=-1, keepdims=True)
    expected = (x - mean) / np.sqrt(var + np.float32(1e-5))
    return F.layer_norm(_t(x), (cols,)), expected.astype(np.float32)


def logsumexp_torch_vs_numpy(rows: int, cols: int, scale: float, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (rows, cols), scale=scale)
    m = x.max(axis=-1, keepdims=True)
    expected = (m + np.log(np.exp(x - m).sum(axis=-1, keepdims=True)))[..., 0]
    return torch.logsumexp(_t(x), dim=-1), expected


def var_torch_vs_numpy(rows: int, cols: int, offset: float, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (rows, cols), offset=offset)
    return torch.var(_t(x), dim=-1), np.var(x, axis=-1, ddof=1)


def _np_gelu_tanh(x: np.ndarray) -> np.ndarray:
    c = np.asarray(math.sqrt(2.0 / math.pi), dtype=x.dtype)
    return x * 0.5 * (1 + np.tanh(c * (x + np.asarray(0.044715, dtype=x.dtype) * x**3)))


def elementwise_torch_vs_numpy(op: str, seed: int) -> tuple[Any, Any]:
    x = _normal(seed, (257, 129), scale=2.0)
    if op == "exp_sin":
        return torch.exp(torch.sin(_t(x))), np.exp(np.sin(x))
    return F.gelu(_t(x), approximate="tanh"), _np_gelu_tanh(x)


def half_elementwise(op: str, dtype: str, seed: int) -> tuple[Any, Any]:
    x = _t(_normal(seed, (257, 129), scale=2.0)).to(TORCH_DTYPES[dtype])
    x64 = x.double().numpy()
    if op == "exp_sin":
        return torch.exp(torch.sin(x)), _rounded_to(np.exp(np.sin(x64)), dtype)
    return F.gelu(x, approximate="tanh"), _rounded_to(_np_gelu_tanh(x64), dtype)


def _im2col_conv(x: Any, w: Any) -> np.ndarray:
    """3x3 convolution, padding 1, as unfold + one numpy matmul in float32."""
    n, _, h, width = x.shape
    cols = F.unfold(x.float(), kernel_size=3, padding=1).numpy()  # (n, c*9, h*w)
    out = w.float().numpy().reshape(w.shape[0], -1) @ cols  # (n, o, h*w)
    return out.reshape(n, w.shape[0], h, width)


def conv2d_vs_im2col(n: int, c: int, hw: tuple[int, int], o: int, seed: int) -> tuple[Any, Any]:
    x = _t(_normal(seed, (n, c, *hw)))
    w = _t(_normal(seed + 1000, (o, c, 3, 3), scale=1.0 / math.sqrt(9 * c)))
    return F.conv2d(x, w, padding=1), _im2col_conv(x, w)


def half_conv2d(dtype: str, c: int, seed: int) -> tuple[Any, Any]:
    x = _t(_normal(seed, (1, c, 16, 16))).to(TORCH_DTYPES[dtype])
    w = _t(_normal(seed + 1000, (16, c, 3, 3), scale=1.0 / math.sqrt(9 * c))).to(TORCH_DTYPES[dtype])
    return F.conv2d(x, w, padding=1), _rounded_to(_im2col_conv(x, w), dtype)


def oracle_vs_float32(key: str, side: str) -> tuple[Any, Any]:
    """A float32 corpus result (CPU or GPU) vs the float64 oracle of its op rounded to float32."""
    oracle = ARRAYS[f"torch.{CASES[key]['op']}.oracle"]
    return as_tensor(ARRAYS[f"{key}.{side}"], "float32"), _rounded_to(oracle, "float32")


SEEDS = (0, 1, 2)
FAMILIES: dict[str, tuple[Callable[..., tuple[Any, Any]], list[tuple[Any, ...]]]] = {
    "matmul_f32_torch_vs_numpy": (
        matmul_torch_vs_numpy,
        [(m, k, n, s) for k in (64, 512, 4096) for m, n in ((33, 65), (128, 128)) for s in (0, 1)],
    ),
    "matmul_f32_vs_f64_rounded": (
        matmul_vs_float64_rounded,
        [(128, k, 96, s) for k in (64, 512, 4096) for s in (0, 1)],
    ),
    "matmul_half_vs_f32_rounded": (
        half_matmul,
        [(d, k, s) for d in ("float16", "bfloat16") for k in (64, 512, 4096) for s in (0, 1)],
    ),
    "matmul_half_split_k_vs_f32_rounded": (
        half_matmul_split_k,
        [(d, k, s) for d in ("float16", "bfloat16") for k in (512, 4096) for s in (0, 1)],
    ),
    "sum_f32_vs_fsum": (sum_vs_fsum, [(n, s) for n in (1000, 100_000, 1_000_000) for s in SEEDS]),
    "sum_f32_torch_vs_numpy": (
        sum_torch_vs_numpy,
        [(n, s) for n in (1000, 131_072, 1_000_000) for s in SEEDS],
    ),
    "row_sums_f32_vs_fsum": (row_sums_vs_fsum, [(64, 4096, 0), (8, 100_000, 1)]),
    "sum_half_vs_f64_rounded": (
        half_sum,
        [(d, n, s) for d in ("float16", "bfloat16") for n in (1000, 100_000) for s in (0, 1)],
    ),
    "cumsum_f32_sequential_vs_torch": (
        cumsum_sequential_vs_torch,
        [(n, s) for n in (1000, 10_000, 100_000) for s in (0, 1, 2, 3, 4)],
    ),
    "cumsum_f32_rows": (cumsum_rows, [(64, 2048, 0), (16, 16384, 1)]),
    "cumsum_half_vs_f64_rounded": (
        half_cumsum,
        [(d, n, s) for d in ("float16", "bfloat16") for n in (1000, 16384, 100_000) for s in (0, 1)],
    ),
    "softmax_f32_torch_vs_numpy": (
        softmax_torch_vs_numpy,
        [
            (r, c, scale, s)
            for r, c in ((128, 128), (64, 1000), (8, 32768))
            for scale in (1.0, 8.0)
            for s in (0, 1)
        ],
    ),
    "layer_norm_f32_torch_vs_numpy": (
        layer_norm_torch_vs_numpy,
        [(r, c, off, s) for r, c in ((128, 128), (32, 4096)) for off in (0.0, 10.0) for s in (0, 1)],
    ),
    "logsumexp_f32_torch_vs_numpy": (
        logsumexp_torch_vs_numpy,
        [(r, c, scale, s) for r, c in ((128, 128), (16, 32768)) for scale in (1.0, 8.0) for s in (0, 1)],
    ),
    "var_f32_torch_vs_numpy": (
        var_torch_vs_numpy,
        [(r, c, off, s) for r, c in ((128, 128), (16, 65536)) for off in (0.0, 3.0) for s in (0, 1)],
    ),
    "elementwise_f32_torch_vs_numpy": (
        elementwise_torch_vs_numpy,
        [(op, s) for op in ("exp_sin", "gelu_tanh") for s in SEEDS],
    ),
    "elementwise_half_vs_f64_rounded": (
        half_elementwise,
        [(op, d, s) for op in ("exp_sin", "gelu_tanh") for d in ("float16", "bfloat16") for s in (0, 1)],
    ),
    "conv2d_f32_vs_im2col": (
        conv2d_vs_im2col,
        [(2, 3, (17, 19), 8, 0), (1, 64, (16, 16), 32, 1), (1, 256, (8, 8), 16, 2), (4, 16, (32, 32), 16, 3)],
    ),
    "conv2d_half_vs_f32_rounded": (
        half_conv2d,
        [(d, c, s) for d in ("float16", "bfloat16") for c in (16, 128) for s in (0, 1)],
    ),
    "oracle_vs_corpus_f32": (
        oracle_vs_float32,
        [(key, side) for key in FLOAT32_KEYS for side in ("cpu", "acc")],
    ),
}


def _param_id(args: tuple[Any, ...]) -> str:
    return "-".join(str(arg).replace(" ", "") for arg in args)


BENIGN_PAIRS = [(family, args) for family, (_, grid) in FAMILIES.items() for args in grid]


@pytest.mark.parametrize(
    ("family", "args"), BENIGN_PAIRS, ids=[f"{family}-{_param_id(args)}" for family, args in BENIGN_PAIRS]
)
def test_benign_pair_passes_with_defaults(family, args):
    make, _ = FAMILIES[family]
    actual, expected = make(*args)
    assert_parity(actual, expected)
