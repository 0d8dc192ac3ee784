"""The course's Jupyter kernel: ipykernel started with a thread policy that shares the CPU.

By default each kernel's torch (OpenMP) starts one thread per core and keeps them spinning while
they wait, so two notebooks on two cores fight: lecture 05 alone used 34 CPU seconds, two copies at
once 291 (bench/sharing.py). The course's kernels wait passively and use half the cores (at least
one), so two notebooks fit side by side. A variable already set wins: `OMP_NUM_THREADS=8 make lab`
gives every kernel 8 threads. `make setup` installs `kernel_spec()` as the environment's `python3`.
"""
import os
import runpy


def thread_policy(cores: int | None = None) -> dict[str, str]:
    """The environment variables the course's kernels start with (unless already set)."""
    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": str(max(1, cores // 2))}


def kernel_spec() -> dict:
    """kernel.json for the course's `python3` kernel (the same as ipykernel's, but started here)."""
    return {"argv": ["python", "-m", "course_lib.kernel", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python",
            "metadata": {"debugger": True}, "kernel_protocol_version": "5.5"}


if __name__ == "__main__":
    for name, value in thread_policy().items():
        os.environ.setdefault(name, value)  # before torch or numpy load OpenMP, which reads them once
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)
