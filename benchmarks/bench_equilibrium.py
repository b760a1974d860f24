"""Panel (d) of lesson 05 (Figure 1 of Goodfellow et al. 2014): how close a real run gets to the
equilibrium p_g = p_data, D = 1/2. A script that prints its figures, not a test.

    .venv/bin/python benchmarks/bench_equilibrium.py                  # seeds 0-4, the lesson's players
    .venv/bin/python benchmarks/bench_equilibrium.py --seeds 0 1      # fewer seeds
    .venv/bin/python benchmarks/bench_equilibrium.py --players lab    # the lab's players instead

For each seed (the seed of ``lab.default_models``, of the ``GANTrainer`` and of ``lab.compute_frame``,
as ``SEED`` in the notebook) the script stages panels (a)-(c) as lesson 05 does (500 iterations of
Algorithm 1; 1,000 updates of D alone; 3 updates of G alone), then runs panel (d)'s schedule and prints:

* the JSD estimate of ``compute_frame`` (p_g a binned KDE of 2,500 samples of G), in nats;
* its sampling floor: the same estimate for 2,500 samples of p_data itself (drawn with the seed), and
  the ratio of the two; the notebook's floor (mean over sample seeds 0-4) is printed once;
* max |D(x) - 1/2| over the grid points in the central 99 % of p_data (2 +- 2.576 * 0.5), where it is
  reached, and the same over the central 95 % (2 +- 1.96 * 0.5) for comparison;
* the range of G's 2,500 samples;
* the wall and CPU time of panel (d) (the CPU time is the better measure when other programs share
  the cores: compare it, and the load average, with the wall time).

The players (``--players``): "lesson", lesson 05's z ~ N(0, 1) and a generator of leaky ReLUs, which can
be exactly the straight line 2 + 0.5 z; or "lab", the lab's z ~ U(-1, 1) and ReLU generator (the paper's
uniform z), whose G would have to be the Gaussian's inverse CDF, infinitely steep at both ends.

The schedule for panel (d) (``SCHEDULE``): Algorithm 1 with k = 5 discriminator steps per generator
step and a generator 0.3 times as fast as the discriminator (two time scales), batch 256, then a
cosine decay of both learning rates by a factor of 100:

    phase 1: 4,000 iterations, d_steps = 5, lr_d = 1e-3, lr_g = 3e-4, batch 256
    phase 2: 4,000 iterations, d_steps = 5, lr_d 1e-3 -> 1e-5 and lr_g 3e-4 -> 3e-6 (cosine), batch 256
"""
from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine

from gan_lessons import distributions, lab, theory, train

MU, SIGMA = 2.0, 0.5
Z99, Z95 = 2.576, 1.960
N_SAMPLES = 2500          # as compute_frame and the floor of lesson 05, cell 11
LR_EVERY = 10             # iterations between two changes of a decaying learning rate

# (iterations, d_steps, batch size, lr_d at the start, lr_d at the end, lr_g / lr_d, decay)
SCHEDULE = [
    dict(n=4_000, d_steps=5, batch_size=256, lr0=1e-3, lr1=1e-3, g_ratio=0.3, decay="constant"),
    dict(n=4_000, d_steps=5, batch_size=256, lr0=1e-3, lr1=1e-5, g_ratio=0.3, decay="cosine"),
]
PLAYERS = {"lesson": dict(noise="gaussian", activation="leaky_relu"), "lab": dict(noise="uniform", activation="relu")}


def panels_a_to_c(seed: int, players: str = "lesson"):
    """The trainer after panels (a)-(c), staged as lesson 05 stages them (full budget)."""
    data = distributions.gaussian_1d(MU, SIGMA)
    G, D = lab.default_models(dim=1, seed=seed, **PLAYERS[players])
    trainer = train.GANTrainer(G, D, data, seed=seed)
    trainer.train(500)                      # (a)
    for _ in range(1000):                   # (b): D alone, towards D*
        trainer.step_d()
    for _ in range(3):                      # (c): G alone
        trainer.step_g()
    return trainer, data


def learning_rate(phase: dict, i: int) -> float:
    """lr_d at iteration ``i`` of ``phase``."""
    a, b = phase["lr0"], phase["lr1"]
    if phase["decay"] == "constant":
        return a
    t = i / phase["n"]
    if phase["decay"] == "cosine":
        return b + (a - b) * 0.5 * (1 + math.cos(math.pi * t))
    raise ValueError(f"unknown decay {phase['decay']!r}")


def run_schedule(trainer: train.GANTrainer, schedule) -> None:
    """Train through ``schedule``: every phase sets d_steps and the batch size, and the learning rates
    every LR_EVERY iterations (lr_g = g_ratio * lr_d)."""
    c = trainer.config
    for phase in schedule:
        c.d_steps, c.batch_size = phase["d_steps"], phase["batch_size"]
        for i in range(0, phase["n"], LR_EVERY):
            lr = learning_rate(phase, i)
            c.lr_d, c.lr_g = lr, phase["g_ratio"] * lr
            trainer.train(min(LR_EVERY, phase["n"] - i))


def sampling_floor(data, x: np.ndarray, seed: int) -> float:
    """The JSD estimate for N_SAMPLES samples of p_data itself (lesson 05, cell 11)."""
    s = data.sample(N_SAMPLES, generator=torch.Generator().manual_seed(seed))
    return theory.js_divergence_on_grid(data.density(x), lab.compute_binned_kde_1d(s, x), x[1] - x[0])


def max_gap_to_half(frame: dict, z: float) -> tuple[float, float]:
    """max |D(x) - 1/2| over the grid points in MU +- z * SIGMA, and the x where it is reached."""
    x = frame["x"]
    inside = (x >= MU - z * SIGMA) & (x <= MU + z * SIGMA)
    gap = np.abs(frame["d"][inside] - 0.5)
    j = int(np.argmax(gap))
    return float(gap[j]), float(x[inside][j])


def measure(seed: int, schedule, players: str = "lesson") -> dict:
    trainer, data = panels_a_to_c(seed, players)
    wall, cpu = time.perf_counter(), time.process_time()
    run_schedule(trainer, schedule)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    try:
        frame = lab.compute_frame(trainer, seed=seed)
    except ValueError as err:  # G far off the grid: compute_frame cannot draw it (see the note in report)
        with torch.no_grad():
            xs = trainer.G(trainer.G.sample_z(N_SAMPLES, generator=torch.Generator().manual_seed(seed)))
        return {"seed": seed, "failed": f"compute_frame failed ({err}); G's samples: mean {xs.mean():.1f}, "
                                        f"std {xs.std():.1f}", "wall": wall, "cpu": cpu}
    floor = sampling_floor(data, frame["x"], seed)
    d99, x99 = max_gap_to_half(frame, Z99)
    d95, _ = max_gap_to_half(frame, Z95)
    return {"seed": seed, "jsd": frame["jsd"], "floor": floor, "d99": d99, "x99": x99, "d95": d95,
            "g_lo": float(frame["x_fake"].min()), "g_hi": float(frame["x_fake"].max()),
            "wall": wall, "cpu": cpu, "iterations": trainer.iteration, "d_updates": trainer.d_updates}


def report(name: str, schedule, seeds, notebook_floor: float, players: str = "lesson") -> None:
    total = sum(p["n"] for p in schedule)
    print(f"\n{name}: {total:,} iterations after panel (c)")
    for p in schedule:
        lr_text = (f"lr_d {p['lr0']:g}" if p["decay"] == "constant" else
                   f"lr_d {p['lr0']:g} -> {p['lr1']:g} ({p['decay']})")
        print(f"   {p['n']:>6,} iterations, d_steps {p['d_steps']}, batch {p['batch_size']}, {lr_text}, "
              f"lr_g = {p['g_ratio']:g} x lr_d")
    print(f"   {'seed':>4} {'JSD':>8} {'floor':>8} {'ratio':>6} {'x nb floor':>10} "
          f"{'max|D-1/2| 99%':>15} {'(at x)':>7} {'95%':>6} {'G range':>14} {'wall':>7} {'CPU':>7}  criteria")
    rows = []
    for seed in seeds:
        r = measure(seed, schedule, players)
        if "failed" in r:
            print(f"   {r['seed']:>4}  {r['failed']}; wall {r['wall']:.1f}s, CPU {r['cpu']:.1f}s", flush=True)
            continue
        rows.append(r)
        ok1, ok2 = r["jsd"] <= 0.01, r["d99"] <= 0.05
        print(f"   {r['seed']:>4} {r['jsd']:8.4f} {r['floor']:8.5f} {r['jsd'] / r['floor']:6.1f} "
              f"{r['jsd'] / notebook_floor:10.1f} {r['d99']:15.3f} {r['x99']:7.2f} {r['d95']:6.3f} "
              f"  [{r['g_lo']:.2f}, {r['g_hi']:.2f}] {r['wall']:6.1f}s {r['cpu']:6.1f}s  "
              f"JSD<=0.01 {'yes' if ok1 else 'NO'}, |D-1/2|<=0.05 {'yes' if ok2 else 'NO'}", flush=True)
    if not rows:
        return
    jsd = [r["jsd"] for r in rows]
    print(f"   JSD: max {max(jsd):.4f}, mean {np.mean(jsd):.4f} nats; max|D-1/2| over the central 99 %: "
          f"max {max(r['d99'] for r in rows):.3f}; over the central 95 %: max {max(r['d95'] for r in rows):.3f}; "
          f"wall per seed: max {max(r['wall'] for r in rows):.1f} s, CPU max {max(r['cpu'] for r in rows):.1f} s"
          + (f"; {len(seeds) - len(rows)} seed(s) failed" if len(rows) < len(seeds) else ""))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--players", choices=sorted(PLAYERS), default="lesson",
                        help="lesson 05's players (z ~ N(0, 1), leaky ReLUs) or the lab's (z ~ U(-1, 1), ReLUs)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print("machine:", machine())
    data = distributions.gaussian_1d(MU, SIGMA)
    x = np.linspace(-1.5, 5.0, 400)  # compute_frame's grid for this target
    floors = [sampling_floor(data, x, s) for s in range(5)]
    nb_floor = float(np.mean(floors))
    print(f"sampling floor of the JSD estimate (2,500 samples of p_data, sample seeds 0-4): "
          f"{nb_floor:.5f} +- {np.std(floors):.5f} nats (the notebook's figure); the columns below use each "
          f"seed's own floor ('ratio') and this mean ('x nb floor')")
    report(f"panel (d), {args.players} players", SCHEDULE, args.seeds, nb_floor, args.players)
    print("\nload average at the end:", ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
