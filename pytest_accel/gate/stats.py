"""The statistics of the gate, in one place so the plugin, ``compare`` and ``duet`` agree.

Timings are compared on the log scale: a ratio new/baseline becomes a difference of log levels, and
slowdowns and speedups are symmetric. Samples of one benchmark are not independent (a machine's speed
comes in bursts), so a run's level and its uncertainty come from *batch means*: the time-ordered
samples are cut into contiguous blocks of at least ``MIN_BLOCK`` samples (shorter blocks are correlated
with their neighbours and make the variance look up to 2.5x smaller than it is), and the spread of the
blocks' log-medians, not of the single samples, gives the variance (with Student's t for the few blocks
there are). Two runs are cut into blocks of the same size, so that their levels are alike: a median of
skewed times shifts with the number of samples it takes. What within-run samples
cannot see (a slow phase of the whole machine that lasts the whole run) enters as an explicit
run-to-run noise term. A run compares many benchmarks, so each one-sided test runs at
``FAMILY_ALPHA / m`` (Bonferroni): the chance that an unchanged run fails stays below FAMILY_ALPHA.
"""

from __future__ import annotations

import functools
import math
import statistics
from dataclasses import dataclass

FAMILY_ALPHA = 0.05  # chance that a run of unchanged code is called slower anywhere, at most
MAX_BLOCKS = 10  # a run is cut into about this many blocks when it has samples enough
MIN_BLOCK = 20  # samples per block at least: a machine's bursts last several samples. With blocks of 3,
# 30 samples of AR(1) noise (phi 0.7) with bursts made a level's variance 2.7x its estimate; blocks of 12
# fixed the variance, but a burst could still take over a block's median and make the tails of the
# verdict heavy (a benchmark at the threshold was called beyond it 10% of the time for 100 benchmarks)
# The gate's blocks (levels_alike) are longer still: at the threshold, 100 benchmarks of 200-300 samples
# were called beyond it 6.5% of the time with blocks of 20, 4.5% with 30.
GATE_BLOCK = 30
RESOLUTION = 1e-3  # smallest log-scale spread a block median is credited with

SLOWER = "slower"
FASTER = "faster"
UNCHANGED = "unchanged"
INCONCLUSIVE = "inconclusive"
NEW = "new"
MISSING = "missing"
NOT_COMPARABLE = "not comparable"
VERDICTS = (SLOWER, FASTER, INCONCLUSIVE, UNCHANGED, NEW, MISSING, NOT_COMPARABLE)


@dataclass(frozen=True)
class Level:
    """A run's typical time per call on the log scale, with the variance of that estimate."""

    log: float
    variance: float
    dof: float  # degrees of freedom of ``variance`` (math.inf when it is known, not estimated)

    @property
    def seconds(self) -> float:
        return math.exp(self.log)


def block_size(count: int, minimum: int = MIN_BLOCK) -> int:
    """Samples per block for a run of ``count`` samples: ``minimum``, more for long runs (about MAX_BLOCKS
    blocks), fewer only when there are not samples for two blocks of ``minimum``."""
    return max(1, min(max(minimum, math.ceil(count / MAX_BLOCKS)), count // 2))


def _valid(samples: list[float]) -> list[float]:
    return [s for s in samples if s > 0 and math.isfinite(s)]


def level_of(samples: list[float], size: int | None = None) -> Level:
    """Batch means of time-ordered samples: blocks' log-medians, their mean, and its variance.

    Blocks hold ``size`` samples each (``block_size`` of the count by default); the earliest samples
    that do not fill a block are left out, so that every block median is of the same number of samples.
    """
    values = _valid(samples)
    if len(values) < 2:
        single = math.log(values[0]) if values else math.nan
        return Level(single, math.inf, 1.0)
    size = block_size(len(values)) if size is None else max(1, min(size, len(values) // 2))
    blocks = len(values) // size
    start = len(values) - blocks * size
    medians = [
        math.log(statistics.median(values[start + i * size : start + (i + 1) * size])) for i in range(blocks)
    ]
    mean = statistics.fmean(medians)
    # Identical blocks (a coarse clock) do not mean an exact level: at least 0.1% per block.
    variance = max(statistics.variance(medians), RESOLUTION**2)
    dof = float(blocks - 1)
    return Level(mean, variance / blocks * median_unbiased(dof), dof)


def median_unbiased(dof: float) -> float:
    """The factor that makes a variance estimated with ``dof`` degrees of freedom too small only half the
    time (a chi-square's median by Wilson and Hilferty). Few blocks give estimates that are often far too
    small, and the Welch-Satterthwaite degrees of freedom then trust them most (2.13x for one degree of
    freedom, 1.08x for nine)."""
    return 1.0 / (1.0 - 2.0 / (9.0 * dof)) ** 3


def levels_alike(*runs: list[float]) -> list[Level]:
    """The levels of several runs of one benchmark, cut into blocks of one size (the size the shortest
    run would get, at least GATE_BLOCK), so that no run's level is shifted against another's by a
    different block median."""
    counts = [len(_valid(samples)) for samples in runs]
    size = block_size(min(counts), GATE_BLOCK) if counts else 1
    return [level_of(samples, size) for samples in runs]


def mean_log(samples: list[float]) -> float:
    """The mean log time of a short burst: unlike a median, its expectation does not move with the
    number of samples, so bursts of different lengths stay comparable."""
    values = _valid(samples)
    return statistics.fmean(math.log(v) for v in values) if values else math.nan


TRIM = 0.2  # share of paired rounds trimmed from each end (Yuen's trimmed mean)


def paired_level_difference(base_logs: list[float], new_logs: list[float]) -> Level:
    """Rounds measured side by side (duet): new-minus-base log levels, round by round, summarised by
    Yuen's 20% trimmed mean. A burst that hits one side in one round makes one wild difference; the
    trimmed mean and its winsorized variance are not carried away by it, as a plain mean and sd are.
    """
    differences = sorted(new - base for base, new in zip(base_logs, new_logs, strict=True))
    count = len(differences)
    if count < 2:
        return Level(differences[0] if differences else math.nan, math.inf, 1.0)
    trimmed = int(TRIM * count)
    if count - 2 * trimmed < 2:
        trimmed = 0
    kept = differences[trimmed : count - trimmed]
    winsorized = [min(max(d, kept[0]), kept[-1]) for d in differences]
    kept_count = len(kept)
    # Identical differences (a coarse clock) do not mean an exact change: at least 0.1% per round.
    spread = max(statistics.variance(winsorized), RESOLUTION**2)
    # Yuen's: (n - 1) s_w^2 / (h (h - 1)); n s_w^2 / h^2 is 10% too small at 6 rounds.
    variance = (count - 1) * spread / (kept_count * (kept_count - 1))
    return Level(statistics.fmean(kept), variance, float(len(kept) - 1))


def difference(base: Level, new: Level, run_noise: float = 0.0) -> Level:
    """new - base, with each run's run-to-run noise (a log-scale standard deviation) as known variance.

    Both runs carry that noise, so it enters twice. Degrees of freedom by Welch and Satterthwaite; the
    known term has infinitely many.
    """
    variance = base.variance + new.variance + 2 * run_noise**2
    estimated = [(v, d) for v, d in ((base.variance, base.dof), (new.variance, new.dof)) if v > 0]
    denominator = sum(v * v / d for v, d in estimated if math.isfinite(v))
    if not math.isfinite(variance):
        dof = 1.0
    elif denominator == 0:
        dof = math.inf
    else:
        dof = max(1.0, variance * variance / denominator)
    return Level(new.log - base.log, variance, dof)


# -- Student's t, without scipy ------------------------------------------------------------------------


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b) by its continued fraction (modified Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - _incomplete_beta(b, a, 1.0 - x)
    log_front = a * math.log(x) + b * math.log1p(-x) - math.log(a) - _log_beta(a, b)
    tiny = 1e-300
    f, c, d = 1.0, 1.0, 0.0
    for i in range(400):
        m = i // 2
        if i == 0:
            numerator = 1.0
        elif i % 2 == 0:
            numerator = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m))
        else:
            numerator = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))
        d = 1.0 + numerator * d
        d = tiny if abs(d) < tiny else d
        d = 1.0 / d
        c = 1.0 + numerator / c
        c = tiny if abs(c) < tiny else c
        f *= c * d
        if abs(1.0 - c * d) < 1e-14:
            break
    return math.exp(log_front) * (f - 1.0)


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def t_cdf(t: float, dof: float) -> float:
    if math.isinf(dof):
        return statistics.NormalDist().cdf(t)
    tail = 0.5 * _incomplete_beta(dof / 2, 0.5, dof / (dof + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, dof: float) -> float:
    """The p-quantile of Student's t with ``dof`` degrees of freedom (bisection on the CDF).

    Degrees of freedom are rounded to 0.01 and the results cached: a run judges many benchmarks.
    """
    if math.isinf(dof) or dof > 1e7:
        return _t_quantile(p, math.inf)
    return _t_quantile(p, round(dof, 2))


@functools.lru_cache(maxsize=4096)
def _t_quantile(p: float, dof: float) -> float:
    if not 0 < p < 1:
        raise ValueError(f"probability {p} outside (0, 1)")
    if math.isinf(dof) or dof > 1e7:
        return statistics.NormalDist().inv_cdf(p)
    if p < 0.5:
        return -_t_quantile(1 - p, dof)
    low, high = 0.0, 1.0
    while t_cdf(high, dof) < p:
        high *= 2
    for _ in range(200):
        middle = (low + high) / 2
        if t_cdf(middle, dof) < p:
            low = middle
        else:
            high = middle
        if high - low < 1e-10 * max(1.0, high):
            break
    return (low + high) / 2


# -- intervals and verdicts --------------------------------------------------------------------------


@dataclass(frozen=True)
class RatioEstimate:
    """new/baseline: the estimate, its interval, and the smallest slowdown the data could catch."""

    ratio: float
    low: float
    high: float
    detectable_slowdown: float  # fraction: a slowdown of this size is called slower about half the time
    verdict: str


def one_sided_alpha(benchmarks: int) -> float:
    return FAMILY_ALPHA / max(1, benchmarks)


# How "slower" is decided (README, "The statistics"): ESTIMATE, the default, calls a benchmark slower
# when it is significantly slower than the baseline at all (the interval's low end above 1) and its
# estimate is above 1 + threshold; INTERVAL demands the whole interval above 1 + threshold. Both keep
# unchanged code at the false-alarm rate; ESTIMATE catches a slowdown of 1.5x the threshold 9 times in
# 10 where INTERVAL catches it once in 3 (20 duet rounds), and lets a slowdown of half the threshold fail
# now and then (benchmarks/bench_gate.py measures both).
ESTIMATE = "estimate"
INTERVAL = "interval"
RULES = (ESTIMATE, INTERVAL)
DEFAULT_RULE = ESTIMATE


def judge(change: Level, threshold: float, alpha: float, rule: str = DEFAULT_RULE) -> RatioEstimate:
    """The verdict on a log-level difference for a threshold fraction (0.10 for 10%).

    slower: see ``rule`` above; faster: the mirror image below 1 / (1 + threshold); unchanged: the
    interval lies inside both bounds (no change as large as the threshold); inconclusive: the rest.
    The interval is one-sided at ``alpha`` on each end: a 1 - 2 alpha interval.
    """
    bound = math.log1p(threshold)
    if not math.isfinite(change.variance) or not math.isfinite(change.log):
        ratio = math.exp(change.log) if math.isfinite(change.log) else math.nan
        return RatioEstimate(ratio, 0.0, math.inf, math.inf, INCONCLUSIVE)
    half = t_quantile(1 - alpha, change.dof) * math.sqrt(change.variance)
    low, high = change.log - half, change.log + half
    if rule == INTERVAL:
        slower, faster = low > bound, high < -bound
        detectable = bound + half
    else:
        slower = low > 0 and change.log > bound
        faster = high < 0 and change.log < -bound
        # Caught half the time: the estimate above the bound, and significant there too.
        detectable = max(bound, half)
    if slower:
        verdict = SLOWER
    elif faster:
        verdict = FASTER
    elif low >= -bound and high <= bound:
        verdict = UNCHANGED
    else:
        verdict = INCONCLUSIVE
    return RatioEstimate(
        ratio=_exp(change.log),
        low=_exp(low),
        high=_exp(high),
        detectable_slowdown=_exp(detectable) - 1.0,
        verdict=verdict,
    )


def _exp(value: float) -> float:
    """exp that says inf, not OverflowError, for an interval too wide to mean anything."""
    return math.exp(value) if value < 700 else math.inf
