"""Mode collapse, measured: the plain GAN against PacGAN and WGAN-GP on the ring and the grid.

For every (distribution, method, seed) this trains one run from scratch with
``gan_lessons.remedies.run_mode_experiment`` and measures, from 2,500 samples, the modes
captured and the fraction of high-quality samples (VEEGAN / PacGAN measure,
``gan_lessons.metrics.mode_coverage``). It prints a table per seed and the mean, the
published numbers beside them, the machine, and the time per run, and writes the
results to ``benchmarks/results/mode_collapse_<name>.json`` for lesson 06.

    .venv/bin/python benchmarks/bench_mode_collapse.py --dists ring   # full: ~30 min on 2 shared cores
    .venv/bin/python benchmarks/bench_mode_collapse.py --quick        # 1 % of the budget: a smoke test
    .venv/bin/python benchmarks/bench_mode_collapse.py --dists ring --methods gan pacgan --strong-d

``--strong-d`` is the collapse-prone variant: D gets 5 updates per G update at 5 times
the learning rate (lr_d = 5e-3), 1,500 iterations; lesson 06 shows the 1-D version.

The results lesson 06 loads came from these runs (two or three at a time, one thread each,
on a 2-core CPU shared with other work):

    bench_mode_collapse.py --dists ring                  # -> mode_collapse_ring.json
    bench_mode_collapse.py --dists grid                  # -> mode_collapse_grid.json
    bench_mode_collapse.py --dists ring --methods gan pacgan --strong-d
    bench_mode_collapse.py --dists ring --methods pacgan --decay-from 0.25 --final-lr-fraction 0.02 --tag _long_decay
    bench_mode_collapse.py --dists ring --methods pacgan --iterations 6000 --final-lr-fraction 0.05 --tag _6000
    bench_mode_collapse.py --dists ring --methods pacgan --iterations 10000 --final-lr-fraction 0.05 --tag _10000
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch

from gan_lessons import distributions, metrics, remedies

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine

RESULTS = Path(__file__).resolve().parent / "results"
DISTS = {"ring": distributions.ring_2d, "grid": distributions.grid_2d}
KEEP_SAMPLES = 500  # samples kept from seed 0's run, for lesson 06's scatter plots
STRONG_D = {"d_steps": 5, "lr_d": 5e-3}
STRONG_D_ITERATIONS = 1500


def run_all(dist_name: str, methods, seeds, scale: float = 1.0, strong_d: bool = False, log=print,
            iterations: int | None = None, **schedule) -> list[dict]:
    """Every (method, seed) run on one data set; ``scale`` multiplies the iteration budgets."""
    dist = DISTS[dist_name]()
    rows = []
    for method in methods:
        for seed in seeds:
            full = iterations or (STRONG_D_ITERATIONS if strong_d else remedies.FULL_ITERATIONS[method])
            its = max(1, int(full * scale))
            extra = STRONG_D if strong_d else {}
            out = remedies.run_mode_experiment(method, dist, its, seed=seed, m=remedies.PACKING[dist_name],
                                               eval_every=max(its // 20, 1), name=dist_name, **extra, **schedule)
            out.pop("trainer")
            samples = out.pop("samples")
            if strong_d:
                out["label"] += " strong D"
            if seed == 0:
                out["samples"] = np.round(samples[:KEEP_SAMPLES], 4).tolist()
            rows.append(out)
            log(f"{dist_name:5s} {out['label']:8s} seed {seed}: {out['n_captured']:2d}/{out['n_modes']} modes, "
                f"{100 * out['high_quality']:5.1f} % high quality, {its} iterations in {out['seconds']:.0f} s")
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 %% of the budget: a smoke test, nothing written")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per (distribution, method)")
    parser.add_argument("--dists", nargs="+", default=list(DISTS), choices=list(DISTS),
                        help="data sets; each is written to results/mode_collapse_<name>.json")
    parser.add_argument("--methods", nargs="+", default=list(remedies.METHODS), choices=list(remedies.METHODS))
    parser.add_argument("--strong-d", action="store_true", help="the collapse-prone variant (see above)")
    parser.add_argument("--decay-from", type=float, default=0.5, help="learning rates decay after this fraction")
    parser.add_argument("--final-lr-fraction", type=float, default=0.1, help="final over initial learning rate")
    parser.add_argument("--iterations", type=int, default=None, help="iterations per run (default: per method)")
    parser.add_argument("--tag", default="", help="suffix for the results file, e.g. _long_decay")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 leaves a core to others)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    scale = 0.01 if args.quick else 1.0
    for name in args.dists:
        t0 = time.perf_counter()
        rows = run_all(name, args.methods, range(args.seeds), scale=scale, strong_d=args.strong_d,
                       log=lambda s: print(s, flush=True), decay_from=args.decay_from,
                       final_lr_fraction=args.final_lr_fraction, iterations=args.iterations)
        total = time.perf_counter() - t0
        print()
        print(metrics.coverage_table(rows))
        where = machine()
        print(f"machine: {where}\nwall time for {name}: {total / 60:.1f} min\n", flush=True)
        if not args.quick:
            args.out.mkdir(parents=True, exist_ok=True)
            path = args.out / f"mode_collapse_{name}{'_strong_d' if args.strong_d else ''}{args.tag}.json"
            payload = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": where,
                       "total_seconds": total, "packing": remedies.PACKING[name],
                       "settings": STRONG_D if args.strong_d else {}, "decay_from": args.decay_from,
                       "final_lr_fraction": args.final_lr_fraction, "runs": rows}
            path.write_text(json.dumps(payload))
            print(f"results written to {path}")


if __name__ == "__main__":
    main()
