"""Benchmark: assay.stats on one core (OMP_NUM_THREADS=1 is set before numpy is imported).

Prints (as JSON) the best-of-`--repeat` wall and CPU seconds of
- paired_bootstrap, 10,000 resamples x 10,000 items, mean statistic (target < 1 s), on
  pass/fail outcomes (exact multinomial shortcut) and on continuous scores (index matrix);
- paired_bootstrap with macro-F1 as the statistic, 2,000 resamples x 1,000 items;
- kappa_bootstrap, 2,000 resamples x 1,000 items;
- mcnemar and a permutation test on 10,000 items;
- paired_randomization, 10,000 swaps x 10,000 items, on a rate and on F1 from confusion cells;
- sums_bootstrap (BCa) of F1, 10,000 resamples x 10,000 items;
- the exact McNemar MDD (min_detectable_difference, method="exact") at n = 10,000;
- `import assay.stats` in a fresh interpreter (the compare command pays it).

Run: python bench/bench_stats.py [--repeat 3]
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"
os.environ["MKL_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

from assay.stats import (kappa_bootstrap, macro_f1, mcnemar, min_detectable_difference,  # noqa: E402
                         paired_bootstrap, paired_randomization, permutation_test, sums_bootstrap)

LABELS = ["A", "B", "TIE"]


def best(fn, repeat: int) -> dict:
    """Best wall and CPU seconds over `repeat` runs (the machine is shared; the best is the cost)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return {"wall_s": round(min(walls), 3), "cpu_s": round(min(cpus), 3)}


def _pairs_macro_f1(pairs: list) -> float:
    return macro_f1([p[0] for p in pairs], [p[1] for p in pairs], labels=LABELS)


def _f1(sums: np.ndarray) -> np.ndarray:
    tp, fp, fn = sums[..., 0], sums[..., 1], sums[..., 2]
    return 2 * tp / (2 * tp + fp + fn)


def _cells(truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    out = np.zeros((len(truth), 4))
    out[np.arange(len(truth)), np.select([truth & pred, ~truth & pred, truth & ~pred], [0, 1, 2], 3)] = 1
    return out


def cases(rng: np.random.Generator) -> dict:
    base_pf = rng.random(10_000) < 0.6
    cand_pf = np.where(rng.random(10_000) < 0.8, base_pf, rng.random(10_000) < 0.65)
    base_sc = rng.random(10_000)
    cand_sc = base_sc + rng.normal(0.01, 0.1, 10_000)
    truth = [LABELS[i] for i in rng.integers(0, 3, 1000)]
    base_lab = [(t, t if rng.random() < 0.5 else "TIE") for t in truth]
    cand_lab = [(t, t if rng.random() < 0.6 else "A") for t in truth]
    judge = [p for _, p in cand_lab]
    rate_b, rate_c = np.c_[np.ones(10_000), base_pf], np.c_[np.ones(10_000), cand_pf]
    truth_pf = rng.random(10_000) < 0.4
    f1_b, f1_c = _cells(truth_pf, base_pf), _cells(truth_pf, cand_pf)
    return {
        "paired_bootstrap_mean_passfail_10000x10000": lambda: paired_bootstrap(base_pf, cand_pf),
        "paired_bootstrap_mean_continuous_10000x10000": lambda: paired_bootstrap(base_sc, cand_sc),
        "paired_bootstrap_macro_f1_2000x1000": lambda: paired_bootstrap(
            base_lab, cand_lab, _pairs_macro_f1, n_resamples=2000),
        "kappa_bootstrap_2000x1000": lambda: kappa_bootstrap(truth, judge, labels=LABELS),
        "mcnemar_10000": lambda: mcnemar(base_pf, cand_pf),
        "permutation_test_10000x10000": lambda: permutation_test(base_sc, cand_sc),
        "paired_randomization_rate_10000x10000": lambda: paired_randomization(
            rate_b, rate_c, lambda s: s[..., 1] / s[..., 0]),
        "paired_randomization_f1_10000x10000": lambda: paired_randomization(f1_b, f1_c, _f1),
        "sums_bootstrap_f1_bca_10000x10000": lambda: sums_bootstrap(f1_b, f1_c, _f1),
        "min_detectable_difference_exact_n10000": lambda: min_detectable_difference(10_000, 0.1),
    }


def import_seconds() -> float:
    code = "import time; t = time.perf_counter(); import assay.stats; print(time.perf_counter() - t)"
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 check=True, env=os.environ).stdout) for _ in range(3)]
    return round(min(runs), 3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    results = {name: best(fn, args.repeat) for name, fn in cases(np.random.default_rng(0)).items()}
    results["import_assay_stats_s"] = import_seconds()
    results["target"] = "paired_bootstrap 10,000 x 10,000 (mean) < 1 s on one core"
    results["load_average"] = os.getloadavg()[0]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
