"""How long each lesson takes in full mode: executes the notebooks in order and times them.

    .venv/bin/python benchmarks/bench_lessons.py 08 09 10 11            # full mode, minutes each
    .venv/bin/python benchmarks/bench_lessons.py 08 --out-dir /tmp/run   # keep the executed copies
    .venv/bin/python benchmarks/bench_lessons.py 08 09 10 11 --inplace   # write them back (committing)

Every lesson runs as a learner's first run does: full mode (GAN_LESSONS_QUICK=0) and an
empty checkpoint folder (a fresh temporary one unless --checkpoints names one), so each
lesson trains its models instead of loading them. The lessons run in order in that one
folder, so lesson 09 loads lesson 08's models as it would for a learner. Times are the
notebook's wall time from kernel start to the last cell.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import machine, machine_info

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results" / "lesson_times.json"


def find_lesson(number: str) -> Path:
    """The notebook whose name starts with ``number`` (e.g. "08")."""
    matches = sorted((ROOT / "notebooks").glob(f"{number}_*.ipynb"))
    if len(matches) != 1:
        raise SystemExit(f"lesson {number!r}: expected one notebooks/{number}_*.ipynb, found {len(matches)}")
    return matches[0]


def run(path: Path, timeout: int) -> tuple[nbformat.NotebookNode, float]:
    """Execute a notebook from its own folder; return it and the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("lessons", nargs="+", help="lesson numbers, e.g. 08 09")
    parser.add_argument("--checkpoints", help="checkpoint folder (default: a fresh temporary one)")
    parser.add_argument("--out-dir", help="write the executed notebooks here")
    parser.add_argument("--inplace", action="store_true", help="write the executed notebooks over the lessons")
    parser.add_argument("--timeout", type=int, default=3600, help="seconds allowed per cell")
    args = parser.parse_args()
    os.environ["GAN_LESSONS_QUICK"] = "0"
    checkpoints = args.checkpoints or tempfile.mkdtemp(prefix="gan_lessons_ck_")
    os.environ["GAN_LESSONS_CHECKPOINTS"] = checkpoints
    info = machine_info()
    print(f"machine: {machine()}")
    print(f"full mode; checkpoints in {checkpoints}; MNIST source: "
          f"{os.environ.get('GAN_LESSONS_MNIST') or 'the training split'}")
    rows = []
    for number in args.lessons:
        path = find_lesson(number)
        nb, seconds = run(path, args.timeout)
        rows.append({"lesson": path.stem, "seconds": round(seconds, 1)})
        print(f"{path.stem:28s} {seconds / 60:5.1f} min", flush=True)
        if args.inplace:
            nbformat.write(nb, path)
        elif args.out_dir:
            Path(args.out_dir).mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, Path(args.out_dir) / path.name)
    if args.inplace:  # one entry per lesson, replaced when that lesson is measured again
        RESULTS.parent.mkdir(exist_ok=True)
        saved = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
        date = datetime.now(timezone.utc).isoformat(timespec="seconds")
        for row in rows:
            saved[row["lesson"]] = {**row, "date": date, "machine": info,
                                    "mnist_source": os.environ.get("GAN_LESSONS_MNIST") or "train"}
        RESULTS.write_text(json.dumps(dict(sorted(saved.items())), indent=2) + "\n")
        print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
