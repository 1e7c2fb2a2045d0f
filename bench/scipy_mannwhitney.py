"""Times scipy.stats.mannwhitneyu on 10^6 vs 10^6 values, the reference for the Rust bench
`cargo bench -p rollgate-shared --bench stats -- mann_whitney`.

Same recipe as shared/benches/stats.rs: lognormal(0, 1) vs lognormal(0.01, 1), continuous
values (so method="auto" takes the normal approximation), two-sided, continuity correction.
Prints the best of a few runs in seconds.

    pip install scipy numpy && python bench/scipy_mannwhitney.py
"""

import time

import numpy as np
import scipy
from scipy import stats

N = 1_000_000
RUNS = 3

rng = np.random.default_rng(2)
x = rng.lognormal(0.0, 1.0, N)
y = rng.lognormal(0.01, 1.0, N)

best = float("inf")
for _ in range(RUNS):
    start = time.perf_counter()
    res = stats.mannwhitneyu(x, y, alternative="two-sided", use_continuity=True, method="auto")
    best = min(best, time.perf_counter() - start)

print(f"scipy {scipy.__version__}, numpy {np.__version__}: U={res.statistic:.1f} p={res.pvalue:.6g}")
print(f"mannwhitneyu 1e6 vs 1e6: best of {RUNS}: {best:.3f} s")
