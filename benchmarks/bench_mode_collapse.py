"""Mode collapse, measured: the ring and grid rows of VEEGAN's and PacGAN's Table 1.

For every (data set, method, seed) this trains one run from scratch under VEEGAN's or
PacGAN's protocol with ``gan_lessons.mode_experiments.run_mode_experiment`` and measures it as
the papers do (``gan_lessons.coverage``: 2,500 samples, high quality within 3 standard
deviations, a mode captured if it is the nearest mode of a high-quality sample, and the
reverse KL over modes). It prints each run, then the table of means and standard errors
beside the published rows, the machine and the time per run, and writes everything to
``benchmarks/results/mode_collapse_<protocol>_<data set>.json``, which lessons 06 and 07
read. The file is rewritten after every run, so a stopped benchmark keeps what it did.

    .venv/bin/python benchmarks/bench_mode_collapse.py --dists ring      # about 30 min on 2 cores
    .venv/bin/python benchmarks/bench_mode_collapse.py --dists grid
    .venv/bin/python benchmarks/bench_mode_collapse.py --protocol pacgan --dists ring --methods gan pacgan
    .venv/bin/python benchmarks/bench_mode_collapse.py --quick           # 1 % of each budget, nothing written
    .venv/bin/python benchmarks/bench_mode_collapse.py --timing 1000     # a run's time with the CPU to itself
    .venv/bin/python benchmarks/bench_mode_collapse.py --dists grid --methods gan pacgan \
        --decay-from 0.8 --tag _decay     # learning rates decayed over the last 20 % (not the papers')

The two data sets were run at the same time, one process each, one thread each.

Iterations per run (``ITERATIONS``) are what fits in 5 minutes on a 2-core CPU; VEEGAN's
protocol trains every method for 100,000 iterations, PacGAN's for 400,000. The plain GAN, the cheapest, gets
the most; each remedy gets fewer, so no remedy wins by training longer.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch

from gan_lessons import coverage, mode_experiments

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine

RESULTS = Path(__file__).resolve().parent / "results"
# G updates per run: unrolled and WGAN-GP iterations cost 10-15 times a GAN iteration
# (5 look-ahead steps with a double backward pass; 5 critic updates with a penalty).
# PacGAN's protocol costs about 30 ms per GAN iteration here (G of 4 x 400 units with batch norm,
# D of 3 x 200 maxout units of 5 pieces, against 2-5 ms under VEEGAN's): 1.5-2.3 % of its 400,000.
ITERATIONS = {"veegan": {"gan": 50_000, "pacgan": 25_000, "unrolled": 4_000, "wgan-gp": 8_000},
              "pacgan": {"gan": 9_000, "pacgan": 6_000, "unrolled": 600, "wgan-gp": 1_200}}


def results_path(protocol: str, dist_name: str, out: Path = RESULTS, tag: str = "") -> Path:
    """Where the results of one protocol on one data set are written."""
    return out / f"mode_collapse_{protocol}_{dist_name}{tag}.json"


def time_methods(args) -> None:
    """Time ``args.timing`` iterations of every (data set, method) after 20 of warm-up, one at a time."""
    rows = []
    budget = ITERATIONS[args.protocol]
    for name in args.dists:
        for method in args.methods:
            trainer = mode_experiments.make_mode_trainer(method, name, args.protocol, seed=0)
            trainer.train(20)
            t0 = time.perf_counter()
            trainer.train(args.timing)
            ms = 1000 * (time.perf_counter() - t0) / args.timing
            rows.append({"dist": name, "method": method, "label": mode_experiments.method_label(method, name),
                         "ms_per_iteration": ms, "iterations": budget[method],
                         "projected_seconds": ms * budget[method] / 1000, "protocol": args.protocol})
            print(f"{name:5s} {rows[-1]['label']:20s} {ms:6.2f} ms per iteration: {budget[method]:,} iterations "
                  f"take {rows[-1]['projected_seconds']:.0f} s", flush=True)
    where = machine()
    print(f"machine: {where}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"mode_collapse_timing{'' if args.protocol == 'veegan' else '_' + args.protocol}.json").write_text(json.dumps(
        {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": where,
         "iterations_timed": args.timing, "rows": rows}))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 %% of each budget: a smoke test, nothing written")
    parser.add_argument("--seeds", type=int, default=5, help="seeds per (data set, method)")
    parser.add_argument("--dists", nargs="+", default=list(mode_experiments.DATA_SETS),
                        choices=list(mode_experiments.DATA_SETS))
    parser.add_argument("--methods", nargs="+", default=list(mode_experiments.METHODS),
                        choices=list(mode_experiments.METHODS))
    parser.add_argument("--protocol", default="veegan", choices=list(mode_experiments.PROTOCOLS))
    parser.add_argument("--decay-from", type=float, default=1.0,
                        help="learning rates fall linearly after this fraction of a run (1: constant, as the papers)")
    parser.add_argument("--final-lr-fraction", type=float, default=0.01, help="last learning rate over the first")
    parser.add_argument("--tag", default="", help="suffix of the results file, e.g. _decay")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1 leaves a core to others)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the JSON results")
    parser.add_argument("--timing", type=int, default=0, metavar="N",
                        help="only time N iterations of each (data set, method), one at a time, and write "
                             "results/mode_collapse_timing.json: the time a full run takes with the CPU to itself")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.timing:
        return time_methods(args)
    scale = 0.01 if args.quick else 1.0
    for name in args.dists:
        t0 = time.perf_counter()
        rows = []
        path = results_path(args.protocol, name, args.out, args.tag)
        for method in args.methods:
            its = max(1, int(ITERATIONS[args.protocol][method] * scale))
            for seed in range(args.seeds):
                out = mode_experiments.run_mode_experiment(method, name, its, protocol=args.protocol, seed=seed,
                                                           eval_every=max(its // 20, 1), decay_from=args.decay_from,
                                                           final_lr_fraction=args.final_lr_fraction)
                out.pop("trainer")
                if seed != 0:
                    out.pop("samples")  # seed 0's samples are kept for the lessons' scatter plots
                rows.append(out)
                kl = "n/a" if out["reverse_kl"] is None else f"{out['reverse_kl']:.2f}"
                print(f"{name:5s} {out['label']:20s} seed {seed}: {out['n_captured']:2d}/{out['n_modes']} modes, "
                      f"{100 * out['high_quality']:5.1f} % high quality, reverse KL {kl}, "
                      f"{its:,} iterations in {out['seconds']:.0f} s", flush=True)
                if not args.quick:
                    args.out.mkdir(parents=True, exist_ok=True)
                    payload = {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                               "machine": machine(), "protocol": args.protocol,
                               "protocol_source": mode_experiments.PROTOCOLS[args.protocol].source,
                               "iterations": ITERATIONS[args.protocol], "packing": mode_experiments.PACKING[name],
                               "decay_from": args.decay_from, "final_lr_fraction": args.final_lr_fraction,
                               "seconds_so_far": time.perf_counter() - t0, "runs": rows}
                    path.write_text(json.dumps(payload))
        print()
        print(coverage.coverage_table(rows, per_seed=True))
        print(f"machine: {machine()}\nwall time for {name}: {(time.perf_counter() - t0) / 60:.1f} min\n", flush=True)
        if not args.quick:
            print(f"results written to {path}")


if __name__ == "__main__":
    main()
