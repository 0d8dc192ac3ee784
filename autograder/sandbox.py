"""Run the probe in a bubblewrap sandbox with resource limits, a wall clock and an output cap.

What the sandbox sees: read-only /usr, /etc (and the /bin, /lib, /lib64 links), the virtual
environment, the Python base install, `course_lib` with `course_lib/models` replaced by an empty
folder, and the probe runner script; writable: a private /tmp and working folder /submission (both
size-limited tmpfs) and /results (this submission's own host folder: inputs in, results out, watched
by a disk quota). Not the course's solutions/, autograder task definitions, gradebook, grading
output, or any other submission. No network (--unshare-all gives a fresh network namespace).
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import course_lib

RUNNER = Path(__file__).with_name("probe_runner.py")
COURSE_LIB = Path(course_lib.__file__).resolve().parent
EMPTY_DIR = Path(tempfile.gettempdir()) / "autograder-empty"


@dataclass
class Limits:
    wall_s: float = 300.0          # the whole submission
    probe_s: float = 60.0          # one task's probe (one forked child)
    cell_s: float = 10.0           # executing one answer cell at top level
    memory_mb: int = 2048          # address space per process
    nproc: int = 128               # processes and threads
    fsize_mb: int = 64             # largest file a process may write
    tmp_mb: int = 64               # size of the private /tmp
    disk_mb: int = 256             # the private working folder /submission (a tmpfs) and /results
    output_kb: int = 64            # captured stdout+stderr kept for the log


@dataclass
class RunResult:
    returncode: int | None
    timed_out: bool
    disk_exceeded: bool
    output: str
    output_bytes: int
    wall_s: float


def bwrap_available() -> bool:
    if shutil.which("bwrap") is None or shutil.which("prlimit") is None:
        return False
    try:
        r = subprocess.run(["bwrap", "--unshare-all", "--ro-bind", "/usr", "/usr", "--symlink", "usr/bin", "/bin",
                            "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                            "/usr/bin/true"], capture_output=True, timeout=30)
        return r.returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _python_paths() -> tuple[Path, Path]:
    venv = Path(sys.prefix).resolve()
    base = Path(sys.base_prefix).resolve()
    return venv, base


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        p = Path(link)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), link]
        elif p.exists():
            args += ["--ro-bind", link, link]
    return args


def sandbox_command(work: Path, limits: Limits, threads: int = 1) -> list[str]:
    venv, base = _python_paths()
    EMPTY_DIR.mkdir(exist_ok=True)
    mounts = _system_mounts() + [
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
        "--ro-bind", str(base), str(base),
        "--ro-bind", str(venv), str(venv),
        "--ro-bind", str(COURSE_LIB), str(COURSE_LIB),
        "--ro-bind", str(EMPTY_DIR), str(COURSE_LIB / "models"),
        "--ro-bind", str(RUNNER), "/grader/probe_runner.py",
        "--size", str(limits.disk_mb * 2**20), "--tmpfs", "/submission",
        "--bind", str(work), "/results",
        "--chdir", "/submission",
        "--unshare-all", "--die-with-parent", "--new-session",
        "--clearenv", "--setenv", "HOME", "/tmp", "--setenv", "PATH", f"{venv}/bin:/usr/bin:/bin",
        "--setenv", "OMP_NUM_THREADS", str(threads), "--setenv", "MKL_NUM_THREADS", str(threads),
        "--setenv", "MPLBACKEND", "Agg", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "PYTHONHASHSEED", "0",
    ]
    return (_prlimit(limits) + ["bwrap"] + mounts +
            [str(venv / "bin" / "python"), "-I", "/grader/probe_runner.py"])


def unsafe_command(work: Path, limits: Limits) -> list[str]:
    venv, _ = _python_paths()
    return _prlimit(limits) + [str(venv / "bin" / "python"), "-I", str(RUNNER)]


def _prlimit(limits: Limits) -> list[str]:
    cpu = int(limits.wall_s) + 30
    return ["prlimit", f"--as={limits.memory_mb * 2**20}", f"--nproc={limits.nproc}",
            f"--fsize={limits.fsize_mb * 2**20}", f"--cpu={cpu}", "--core=0", "--"]


# ---------------------------------------------------------------- a pids cgroup (fork bombs)
#
# RLIMIT_NPROC does not bind processes whose real user is root (as in CI containers), so when a
# writable pids cgroup exists each submission runs in its own, with pids.max = limits.nproc. When
# grading as an ordinary user, prlimit's --nproc does the job and no cgroup is needed.

_PIDS_ROOTS = [Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")]


def make_pids_cgroup(limit: int) -> Path | None:
    for root in _PIDS_ROOTS:
        if not (root / "cgroup.procs").exists():
            continue
        if root == Path("/sys/fs/cgroup") and "pids" not in _read(root / "cgroup.subtree_control"):
            continue
        try:
            parent = root / "course-autograder"
            parent.mkdir(exist_ok=True)
            group = Path(tempfile.mkdtemp(prefix="sub-", dir=parent))
            (group / "pids.max").write_text(str(limit))
            return group
        except OSError:
            continue
    return None


def _read(p: Path) -> str:
    try:
        return p.read_text()
    except OSError:
        return ""


def remove_cgroup(group: Path | None) -> None:
    if group is None:
        return
    for _ in range(50):
        pids = _read(group / "cgroup.procs").split()
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(int(pid), signal.SIGKILL)
            except (ProcessLookupError, ValueError, PermissionError):
                pass
        time.sleep(0.05)
    try:
        group.rmdir()
    except OSError:
        pass


def in_cgroup(cmd: list[str], group: Path | None) -> list[str]:
    if group is None:
        return cmd
    return ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', str(group)] + cmd


def _dir_size(path: Path, cap: int) -> int:
    total = 0
    stack = [str(path)]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for entry in it:
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            stack.append(entry.path)
                        else:
                            total += entry.stat(follow_symlinks=False).st_size
                    except OSError:
                        pass
                    if total > cap:
                        return total
        except OSError:
            pass
    return total


def run_sandboxed(cmd: list[str], stdin_data: bytes, work: Path, limits: Limits,
                  env: dict | None = None) -> RunResult:
    """Run `cmd`, feed stdin, keep the first output_kb of output, enforce wall clock and disk quota."""
    start = time.monotonic()
    group = make_pids_cgroup(limits.nproc)
    cmd = in_cgroup(cmd, group)
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            cwd=str(work), env=env, start_new_session=True)
    cap = limits.output_kb * 1024
    kept = bytearray()
    counted = [0]

    def drain():
        while True:
            chunk = proc.stdout.read1(1 << 16) if hasattr(proc.stdout, "read1") else proc.stdout.read(1 << 16)
            if not chunk:
                break
            counted[0] += len(chunk)
            if len(kept) < cap:
                kept.extend(chunk[: cap - len(kept)])

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        proc.stdin.write(stdin_data)
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    timed_out = disk = False
    last_disk_check = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if now - start > limits.wall_s:
            timed_out = True
            break
        if now - last_disk_check > 0.5:
            last_disk_check = now
            if _dir_size(work, limits.disk_mb * 2**20) > limits.disk_mb * 2**20:
                disk = True
                break
        time.sleep(0.02)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait()
    remove_cgroup(group)
    reader.join(timeout=5)
    output = bytes(kept).decode("utf-8", errors="replace")
    return RunResult(proc.returncode, timed_out, disk, output, counted[0], time.monotonic() - start)
