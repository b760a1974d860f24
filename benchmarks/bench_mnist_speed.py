r"""How fast lesson 08's model trains, beside a plain DataLoader loop and the machine's matmul floor.

    .venv/bin/python benchmarks/bench_mnist_speed.py                         # ~1 min, quiet 2-core CPU
    .venv/bin/python benchmarks/bench_mnist_speed.py --rounds 3 --block 20   # smoke test, nothing written

Offline, set GAN_LESSONS_MNIST=test (and GAN_LESSONS_DATA to MNIST's folder): the test split
then stands in for the training split; the speed does not depend on which images they are.

The model is ``mnist_gan.source_mlp_gan()`` (G 128 -> 256 ReLU -> 784 sigmoid, D 784 -> 256
ReLU -> 1 logit) trained as ``RECIPES["mlp_source"]`` trains it: ``GANTrainer``, batch 100,
Adam 2e-4 with betas (0.9, 0.999), the non-saturating G loss, data = ``data.BatchSampler``
over the training images flattened to 784 floats in [0, 1]. One iteration = one D update
and one G update on a batch of 100.

1. Iterations per second of three things, measured in the same process and interleaved
   in rounds (the order alternates each round), so that other programs loading the
   machine slow them alike:
   - ours: the course's ``GANTrainer`` (hand-derived gradients of ``mlp_grad``, ``LeanAdam``);
   - the reference: the same two networks with the same initial weights, trained the way
     a typical tutorial does it: ``DataLoader(TensorDataset(images, labels), batch_size=100,
     shuffle=True, drop_last=True)`` over float (N, 1, 28, 28) images flattened in the loop,
     ``torch.optim.Adam(lr=2e-4)`` (default settings), ``nn.BCEWithLogitsLoss``, plain
     autograd, the two losses read with ``.item()`` for a log (the trainer keeps a history too);
   - the matmul floor: only the matrix products of one iteration (point 2, ``iteration_matmuls``),
     with the exact shapes and layouts the trainer's fast path multiplies, back to back.
   Target: ours at least 1.5 times the reference's iterations per second.
2. The floor. Multiply-adds (MACs) of one iteration, counted from the layer sizes (a
   linear layer in -> out on a batch of B costs B*in*out MACs forward, as much again for
   its weight gradient g^T a, and as much again for its input gradient g W):
   - D step: G forward on 100 (no gradients: G is fixed), D forward on the stacked 200
     (100 real, 100 fake), D backward on 200: weight gradients of both layers, input
     gradient of D's last layer only (to reach the hidden layer; none into the images);
   - G step: G forward on 100, D forward on 100, D backward on 100 with input gradients
     (down to G's output) but no weight gradients (D is fixed), G backward: weight
     gradients of both layers, input gradient of G's last layer only (none into z).
   For lesson 08's model that is 210.7 M MACs = 421.5 MFLOP per iteration (biases,
   activations and Adam are not counted), FLOPs = 2 x MACs. The floor time of one
   iteration = the measured time of those matmuls alone (so the throughput is measured on
   this model's own shapes, e.g. 200 x 784 x 256); a large square matmul is timed too, for
   the machine's best case. The script prints our time per iteration as a multiple of the
   floor (elementwise work, Adam, sampling and Python are what lies above it).

Prints a summary and, with the default counts, writes ``results/mnist_speed.json``
(``--out`` writes elsewhere, whatever the counts).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from _machine import describe, machine_info

from gan_lessons import data, mnist_gan
from gan_lessons.train import GANTrainer

RESULTS = Path(__file__).resolve().parent / "results"
RECIPE = "mlp_source"
DEFAULTS = {"rounds": 15, "block": 100, "warmup": 50, "square": 2048}
TARGET_RATIO = 1.5
SQUARE_REPS = 3  # square products per round


# -- the matrix products of one iteration ---------------------------------------------------

def layer_sizes(net: nn.Module) -> list[tuple[int, int]]:
    """(in, out) of each linear layer of ``net``, input to output."""
    return [(m.in_features, m.out_features) for m in net.modules() if isinstance(m, nn.Linear)]


def iteration_matmuls(g_layers, d_layers, batch_size: int) -> list[tuple[str, int, int, int]]:
    """Every matrix product of one iteration as (what, M, K, N): an (M, K) x (K, N) product, M*K*N MACs.

    Layouts follow ``mlp_grad``: forward a (B, in) x W^T (in, out); weight gradient
    g^T (out, B) x a (B, in); input gradient g (B, out) x W (out, in).
    """
    m = batch_size
    out = []

    def forward(tag, layers, b):
        out.extend((f"{tag} forward {i}->{o}", b, i, o) for i, o in layers)

    def backward(tag, layers, b, weight_grads, input_grad_first):
        for k in range(len(layers) - 1, -1, -1):  # output layer first, as backpropagation runs
            i, o = layers[k]
            if weight_grads:
                out.append((f"{tag} weight grad {i}->{o}", o, b, i))
            if k > 0 or input_grad_first:
                out.append((f"{tag} input grad {i}->{o}", b, o, i))

    # D step: x_fake = G(z) without gradients; D on [x_real; x_fake]; D's weight gradients.
    forward("D step: G", g_layers, m)
    forward("D step: D", d_layers, 2 * m)
    backward("D step: D", d_layers, 2 * m, weight_grads=True, input_grad_first=False)
    # G step: D(G(z)); gradients flow through D (input grads, D's weights fixed) into G's weights.
    forward("G step: G", g_layers, m)
    forward("G step: D", d_layers, m)
    backward("G step: D", d_layers, m, weight_grads=False, input_grad_first=True)
    backward("G step: G", g_layers, m, weight_grads=True, input_grad_first=False)
    return out


def flop_count(matmuls) -> int:
    """FLOPs of the products: 2 per multiply-add."""
    return 2 * sum(M * K * N for _, M, K, N in matmuls)


def make_matmul_runner(matmuls):
    """A function ``run(n)`` doing the iteration's products ``n`` times, in the fast path's layouts."""
    ops = []
    for what, M, K, N in matmuls:
        if "forward" in what:      # a (B, in) x W^T, W stored (out, in)
            a, b = torch.randn(M, K), torch.randn(N, K).t()
        elif "weight" in what:     # g^T (out, B) x a (B, in), g stored (B, out)
            a, b = torch.randn(K, M).t(), torch.randn(K, N)
        else:                      # g (B, out) x W (out, in)
            a, b = torch.randn(M, K), torch.randn(K, N)
        ops.append((a, b, torch.empty(M, N)))

    def run(n):
        for _ in range(n):
            for a, b, c in ops:
                torch.mm(a, b, out=c)
    return run


def make_square_runner(size: int):
    a, b, c = torch.randn(size, size), torch.randn(size, size), torch.empty(size, size)

    def run(n):
        for _ in range(n):
            torch.mm(a, b, out=c)
    return run


# -- the two training loops -----------------------------------------------------------------

def make_ours(splits, seed: int = 0) -> GANTrainer:
    """The course's trainer on lesson 08's source model, set up as ``run_recipe`` sets it up."""
    recipe = mnist_gan.RECIPES[RECIPE]
    G, D = recipe.build()
    x = data.to_float(splits.train_images, recipe.scale).flatten(1)  # the MLPs take (B, 784)
    sampler = data.BatchSampler(x, splits.train_labels)
    return GANTrainer(G, D, sampler, seed=seed, device="cpu", init_fn=recipe.init_fn, **recipe.settings)


def make_reference(splits, initial: GANTrainer, seed: int = 0):
    """A typical tutorial's loop of the same model, from ``initial``'s starting weights; returns run(n)."""
    batch_size = mnist_gan.RECIPES[RECIPE].settings["batch_size"]
    G, D = mnist_gan.source_mlp_gan()
    G.load_state_dict(initial.G.state_dict())
    D.load_state_dict(initial.D.state_dict())
    images = data.to_float(splits.train_images, "unit")  # (N, 1, 28, 28) in [0, 1]
    loader = DataLoader(TensorDataset(images, splits.train_labels), batch_size=batch_size, shuffle=True,
                        drop_last=True, generator=torch.Generator().manual_seed(seed))
    criterion = nn.BCEWithLogitsLoss()
    d_opt = torch.optim.Adam(D.parameters(), lr=2e-4)
    g_opt = torch.optim.Adam(G.parameters(), lr=2e-4)
    latent_dim = G.config.latent_dim
    log = {"d_loss": [], "g_loss": []}
    state = {"batches": iter(loader)}

    def next_batch():
        try:
            return next(state["batches"])
        except StopIteration:  # a new epoch
            state["batches"] = iter(loader)
            return next(state["batches"])

    def run(n):
        for _ in range(n):
            x_real, _ = next_batch()
            x_real = x_real.view(x_real.size(0), -1)  # (B, 784)
            b = x_real.size(0)
            ones, zeros = torch.ones(b), torch.zeros(b)
            # D step: real towards 1, fake towards 0
            z = torch.randn(b, latent_dim)
            x_fake = G(z).detach()
            d_loss = criterion(D(x_real), ones) + criterion(D(x_fake), zeros)
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
            # G step: non-saturating loss, -log D(G(z))
            z = torch.randn(b, latent_dim)
            g_loss = criterion(D(G(z)), ones)
            g_opt.zero_grad()
            g_loss.backward()
            g_opt.step()
            log["d_loss"].append(d_loss.item())
            log["g_loss"].append(g_loss.item())
    run.log = log
    return run


def measure(runners: dict, rounds: int, block: int, warmup: int, log=print) -> dict[str, list[float]]:
    """Seconds of each runner's ``run(block)``, interleaved over ``rounds`` rounds, after ``run(warmup)``."""
    for run in runners.values():  # warm up: caches, the allocator, Adam's state
        run(warmup)
    seconds: dict[str, list[float]] = {k: [] for k in runners}
    names = list(runners)
    for r in range(rounds):
        for name in (names if r % 2 == 0 else names[::-1]):  # alternate the order
            t = time.perf_counter()
            runners[name](block)
            seconds[name].append(time.perf_counter() - t)
        log(f"   round {r + 1}/{rounds}: " + ", ".join(f"{k} {v[-1]:.2f} s" for k, v in seconds.items()))
    return seconds


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=DEFAULTS["rounds"], help="interleaved rounds")
    parser.add_argument("--block", type=int, default=DEFAULTS["block"], help="iterations per round and loop")
    parser.add_argument("--warmup", type=int, default=DEFAULTS["warmup"], help="warm-up iterations per loop")
    parser.add_argument("--square", type=int, default=DEFAULTS["square"], help="size of the square matmul")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--out", type=Path, default=None,
                        help="JSON file to write (default: results/mnist_speed.json, "
                             "only with the default counts)")
    args = parser.parse_args(argv)
    for name in ("rounds", "block", "warmup", "square"):
        if getattr(args, name) < 1:
            parser.error(f"--{name} must be at least 1, got {getattr(args, name)}")
    if args.threads is not None:
        if args.threads < 1:
            parser.error(f"--threads must be at least 1, got {args.threads}")
        torch.set_num_threads(args.threads)
    threads = torch.get_num_threads()

    splits = data.load_splits()
    print(f"machine: {describe(machine_info())}")
    print(splits.note)

    ours = make_ours(splits)
    reference = make_reference(splits, ours)  # same initial weights as ours
    g_layers, d_layers = layer_sizes(ours.G), layer_sizes(ours.D)
    batch_size = ours.config.batch_size
    matmuls = iteration_matmuls(g_layers, d_layers, batch_size)
    flops = flop_count(matmuls)
    square_flops = 2 * args.square ** 3
    print(f"\nmodel: G {' -> '.join(str(i) for i, _ in g_layers)} -> {g_layers[-1][1]}, "
          f"D {' -> '.join(str(i) for i, _ in d_layers)} -> {d_layers[-1][1]}; batch {batch_size}; "
          f"trainer on {'one thread' if ours._one_thread else f'{threads} threads'}, reference on {threads}")
    print(f"matrix products of one iteration ({len(matmuls)}), M x K x N:")
    for what, M, K, N in matmuls:
        print(f"   {what:<30} {M:4d} x {K:4d} x {N:4d}  {M * K * N / 1e6:6.2f} M MACs")
    print(f"   total {flops / 2e6:.1f} M multiply-adds = {flops / 1e6:.1f} MFLOP per iteration")

    square = make_square_runner(args.square)
    runners = {"ours": ours.train, "reference": reference, "matmuls": make_matmul_runner(matmuls),
               "square": lambda n: square(SQUARE_REPS)}  # a fixed few products: a reference point
    print(f"\n{args.rounds} interleaved rounds of {args.block} iterations each "
          f"(after {args.warmup} of warm-up):")
    seconds = measure(runners, args.rounds, args.block, args.warmup, log=lambda s: print(s, flush=True))

    rate = {k: [args.block / s for s in seconds[k]] for k in ("ours", "reference", "matmuls")}
    med = {k: statistics.median(v) for k, v in rate.items()}
    paired = statistics.median(r / s for r, s in zip(seconds["reference"], seconds["ours"]))
    ratio = med["ours"] / med["reference"]
    model_gflops = flops * med["matmuls"] / 1e9
    square_gflops = statistics.median(SQUARE_REPS * square_flops / s for s in seconds["square"]) / 1e9
    floor_its = med["matmuls"]
    square_floor_its = square_gflops * 1e9 / flops
    to_floor = floor_its / med["ours"]
    to_square_floor = square_floor_its / med["ours"]
    met = ratio >= TARGET_RATIO
    after = machine_info()

    print(f"\nmachine: {describe(after)}")
    print(f"torch threads: {threads}")
    print(f"ours (GANTrainer, fast path)     median {med['ours']:7.1f} it/s   best round "
          f"{max(rate['ours']):7.1f} it/s   {1000 / med['ours']:6.2f} ms/it")
    print(f"reference (DataLoader, autograd) median {med['reference']:7.1f} it/s   best round "
          f"{max(rate['reference']):7.1f} it/s   {1000 / med['reference']:6.2f} ms/it")
    print(f"ratio ours / reference: {ratio:.2f}x (median of the per-round ratios {paired:.2f}x); "
          f"target {TARGET_RATIO}x {'met' if met else 'NOT met'}")
    print(f"FLOPs per iteration: {flops / 1e6:.1f} MFLOP ({flops / 2e6:.1f} M multiply-adds)")
    print(f"matmul throughput: {model_gflops:.1f} GFLOP/s on this model's shapes, "
          f"{square_gflops:.1f} GFLOP/s on {args.square}x{args.square} square")
    print(f"floor: {floor_its:.1f} it/s ({1000 / floor_its:.2f} ms/it) at this model's shapes, "
          f"{square_floor_its:.1f} it/s at the square matmul's throughput")
    print(f"ours is {to_floor:.2f}x the matmul floor ({to_square_floor:.2f}x the square-matmul floor)")
    if reference.log["d_loss"]:
        print(f"(last losses: ours d {ours.history['d_loss'][-1]:.3f} g {ours.history['g_loss'][-1]:.3f}; "
              f"reference d {reference.log['d_loss'][-1]:.3f} g {reference.log['g_loss'][-1]:.3f})")

    defaults = all(getattr(args, k) == v for k, v in DEFAULTS.items()) and args.threads is None
    path = args.out if args.out is not None else (RESULTS / "mnist_speed.json" if defaults else None)
    if path is None:
        print("\nnot the default counts: nothing written (pass --out FILE to keep the numbers)")
        return
    payload = {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "machine": after,
        "threads": threads, "data": splits.source, "recipe": RECIPE, "batch_size": batch_size,
        "rounds": args.rounds, "block": args.block, "warmup": args.warmup,
        "ours_its": med["ours"], "reference_its": med["reference"], "ours_its_rounds": rate["ours"],
        "reference_its_rounds": rate["reference"], "ratio": ratio, "ratio_paired_median": paired,
        "target_ratio": TARGET_RATIO, "target_met": met,
        "matmuls": [{"what": w, "M": M, "K": K, "N": N} for w, M, K, N in matmuls],
        "flops_per_iteration": flops, "matmul_gflops_model_shapes": model_gflops,
        "matmul_gflops_square": square_gflops, "square_size": args.square,
        "floor_its": floor_its, "floor_its_square": square_floor_its,
        "ours_over_floor": to_floor, "ours_over_square_floor": to_square_floor,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1))
    print(f"\nresults written to {path}")


if __name__ == "__main__":
    main()
