"""How fast the training lab trains and draws. A script that prints its figures, not a test.

    .venv/bin/python benchmarks/bench_lab.py            # about a minute
    .venv/bin/python benchmarks/bench_lab.py --quick    # a few seconds, smaller counts

1. Iterations per second of the lab's default 1-D GAN (2x32 MLPs, batch 256, one D and one
   G step per iteration, Adam): ``GANTrainer`` (the lab's trainer, hand-derived gradients),
   the same trainer on autograd (``fast_path = False``), and a plain reference loop of the
   same model written as a learner would (autograd, ``torch.optim.Adam``). The three run in
   the same process, interleaved in short blocks, so that other programs loading the machine
   slow them alike; the script prints the median and the best block of each.
2. One redraw of the lab: compute the frame, move the artists, render by Agg to PNG.
3. While playing: the lab's Play loop run for a few seconds on an asyncio event loop, as in
   Jupyter, for the default 1-D GAN and for the 2-D ring of 8 with G's arrows and the
   manifold drawn: frames per second and iterations per second between frames, beside the
   plain reference loop of the same model in the same run. Targets: 1-D 1,000 it/s or more,
   2-D 500 or more, both at 15 frames per second or more.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _machine import machine

from gan_lessons import lab
from gan_lessons.train import GANTrainer

TARGET = "1-D Gaussian N(2, 0.5²)"


def make_trainer(fast: bool) -> GANTrainer:
    G, D = lab.default_models(1)
    trainer = GANTrainer(G, D, lab.make_target(TARGET), seed=0, device="cpu", batch_size=256)
    trainer.fast_path = fast
    return trainer


def make_reference(threads: int, dim: int = 1, target: str = TARGET):
    """A plain training loop of the same model: autograd and torch.optim.Adam, nothing else."""
    G, D = lab.default_models(dim)
    data = lab.make_target(target)
    d_opt = torch.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    g_opt = torch.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    rng = torch.Generator().manual_seed(0)

    def iteration():
        x_real = data.sample(256, generator=rng)
        z = G.sample_z(256, generator=rng)
        with torch.no_grad():
            x_fake = G(z)
        d_loss = F.softplus(-D(x_real)).mean() + F.softplus(D(x_fake)).mean()
        d_opt.zero_grad()
        d_loss.backward()
        d_opt.step()
        z = G.sample_z(256, generator=rng)
        g_loss = F.softplus(-D(G(z))).mean()  # non-saturating; D's gradients are cleared next time
        g_opt.zero_grad()
        g_loss.backward()
        g_opt.step()

    def run(n):
        before = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            for _ in range(n):
                iteration()
        finally:
            torch.set_num_threads(before)
    return run


def iterations_per_second(blocks: int, block: int) -> dict[str, list[float]]:
    fast, slow = make_trainer(True), make_trainer(False)
    runners = {"GANTrainer (lab, hand-derived gradients)": fast.train,
               "GANTrainer, fast_path=False (autograd)": slow.train,
               "plain reference loop, 1 thread": make_reference(1),
               f"plain reference loop, {torch.get_num_threads()} threads": make_reference(torch.get_num_threads())}
    rates: dict[str, list[float]] = {k: [] for k in runners}
    for run in runners.values():  # warm up
        run(50)
    for _ in range(blocks):
        for name, run in runners.items():
            t = time.perf_counter()
            run(block)
            rates[name].append(block / (time.perf_counter() - t))
    return rates


def redraw_ms(n: int) -> dict[str, float]:
    panel = lab.TrainingLab(target=TARGET)
    panel.trainer.train(500)
    times = {"compute": [], "draw": [], "render": [], "total": []}
    for i in range(n):
        panel.trainer.train(20)
        t0 = time.perf_counter()
        frame = panel.compute()
        t1 = time.perf_counter()
        panel.draw(frame)
        t2 = time.perf_counter()
        panel.render()
        t3 = time.perf_counter()
        for key, value in (("compute", t1 - t0), ("draw", t2 - t1), ("render", t3 - t2), ("total", t3 - t0)):
            times[key].append(1000 * value)
    full = []
    for _ in range(max(3, n // 10)):  # a full redraw, as after an axis rescale
        panel.blitter.invalidate()
        t = time.perf_counter()
        panel.render()
        full.append(1000 * (time.perf_counter() - t))
    out = {k: statistics.median(v) for k, v in times.items()}
    out["full redraw (axes rescaled)"] = statistics.median(full)
    return out


def while_playing(seconds: float, target: str = TARGET, layers=None) -> tuple[float, float]:
    """(frames per second, iterations per second) of the lab's Play loop over ``seconds``."""
    panel = lab.TrainingLab(target=target)
    if layers:
        panel.show_layers(**layers)

    async def main():
        panel.play()
        await asyncio.sleep(0.5)  # past the first frames, which draw the whole figure
        frames0, it0 = panel.frames, panel.trainer.iteration
        t = time.perf_counter()
        await asyncio.sleep(seconds)
        dt = time.perf_counter() - t
        frames, its = panel.frames - frames0, panel.trainer.iteration - it0
        panel.pause()
        await asyncio.sleep(0.1)
        return frames / dt, its / dt
    return asyncio.run(main())


PLAYING = {"1-D default (N(2, 0.5²))": (TARGET, None, 1, 1000),
           "2-D ring of 8, arrows and manifold drawn": ("2-D ring of 8", {"arrows": True, "manifold": True}, 2, 500)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer and shorter measurements")
    args = parser.parse_args()
    # Short blocks (about 0.1 s each), so that the best block shows the speed when no other
    # program held the cores, and the median the speed under the load of the moment.
    blocks, block = (5, 100) if args.quick else (40, 100)
    print("machine:", machine())
    print(f"\n1. training speed, default 1-D GAN (2x32 MLPs, batch 256, 1 D + 1 G step), "
          f"{blocks} interleaved blocks of {block} iterations")
    rates = iterations_per_second(blocks, block)
    reference = statistics.median(rates["plain reference loop, 1 thread"])
    for name, values in rates.items():
        med = statistics.median(values)
        print(f"   {name:<46} median {med:7.0f} it/s   best block {max(values):7.0f} it/s   "
              f"({med / reference:.2f}x the 1-thread reference)")
    print("\n2. one redraw of the lab (median of", 10 if args.quick else 50, "frames, ms):")
    for key, value in redraw_ms(10 if args.quick else 50).items():
        print(f"   {key:<28} {value:6.1f} ms")
    print("\n3. while playing (iterations per second counted between frames, over the whole time):")
    for name, (target, layers, dim, goal) in PLAYING.items():
        reference = make_reference(1, dim, target)
        reference(50)
        t = time.perf_counter()
        reference(300)
        ref_rate = 300 / (time.perf_counter() - t)
        fps, its = while_playing(2.0 if args.quick else 6.0, target, layers)
        verdict = "meets" if fps >= 15 and its >= goal else "misses"
        print(f"   {name:<42} {fps:5.1f} frames/s, {its:6.0f} it/s   (plain reference loop, no drawing: "
              f"{ref_rate:.0f} it/s; target {goal:,} it/s at 15 frames/s: {verdict})")
    print("\nload average at the end:", ", ".join(f"{v:.2f}" for v in os.getloadavg()))


if __name__ == "__main__":
    main()
