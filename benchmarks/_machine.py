"""The line every benchmark prints about the machine it ran on."""
from __future__ import annotations

import os
import platform

import torch


def machine_info() -> dict:
    """CPU model, cores, torch version and threads, python version and the load average."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    load = [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "torch": torch.__version__, "threads": torch.get_num_threads(),
            "python": platform.python_version(), "load_average": load,
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def describe(info: dict) -> str:
    """A ``machine_info()`` dict as one line."""
    load = ", ".join(f"{v:.2f}" for v in info["load_average"]) if info.get("load_average") else "n/a"
    gpu = f"; GPU {info['cuda']}" if info.get("cuda") else "; no GPU"
    return (f"{info['cpu']}; {info['cores']} cores{gpu}; torch {info['torch']}, {info['threads']} threads by "
            f"default; python {info['python']}; load average {load}")


def machine() -> str:
    """The machine, now, as one line."""
    return describe(machine_info())
