"""The same four functions under pytest-benchmark, for its --benchmark-compare-fail=median:10% rule."""

import numpy as np
import suite_lib

RNG = np.random.default_rng(0)


def test_pb_sort_small(benchmark):
    benchmark(suite_lib.sort_small, RNG.standard_normal(300))


def test_pb_cumsum_16k(benchmark):
    benchmark(suite_lib.cumsum_16k, RNG.standard_normal(16384))


def test_pb_fft_16k(benchmark):
    benchmark(suite_lib.fft_16k, RNG.standard_normal(16384))


def test_pb_sort_large(benchmark):
    benchmark(suite_lib.sort_large, RNG.standard_normal(250_000))
