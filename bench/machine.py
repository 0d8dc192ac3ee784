"""The one description of the machine that every benchmark records next to its numbers."""
from __future__ import annotations

import os
import platform
from pathlib import Path


def cpu_flags_and_name() -> tuple[set[str], str]:
    """The CPU's feature flags and model name from /proc/cpuinfo (empty and platform's name elsewhere)."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set(), platform.processor() or "unknown CPU"
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    return set(fields.get("flags", "").split()), fields.get("model name", platform.processor() or "unknown CPU")


def describe_machine(software: bool = True, load: bool = False) -> str:
    """e.g. 'Linux x86_64, 2 CPU cores (Intel(R) Xeon(R) Processor), Python 3.11.9, torch 2.13.0+cpu;
    load average 1.0, 0.9, 0.8' (software and load average when asked for)."""
    text = f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU cores ({cpu_flags_and_name()[1]})"
    if software:
        try:
            import torch
            torch_version = torch.__version__
        except ImportError:
            torch_version = "not installed"
        text += f", Python {platform.python_version()}, torch {torch_version}"
    if load and hasattr(os, "getloadavg"):
        text += "; load average " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return text
