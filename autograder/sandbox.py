"""Run the probe in a bubblewrap sandbox without privilege, with limits counted where resources are used.

Who runs inside: never root. When the grader is root, bubblewrap sets up the mounts and namespaces
(mount, pid, network, ipc, uts, cgroup) and then `setpriv` drops the probe to an unprivileged host
uid of its own (one per concurrent submission, `SANDBOX_UID_BASE + slot`) with no capabilities
(bounding and inheritable sets cleared, no_new_privs): no mount can be undone or made writable, and
files are checked as that uid. (A user namespace made by root would map the probe to host root.)
When the grader is an ordinary user, bubblewrap runs the probe in a user namespace of its own with
capabilities dropped and further user namespaces disabled. If this cannot be set up, grading
refuses (see `sandbox_problem`).

What the sandbox sees (all read-only): /usr, /etc (and the /bin, /lib, /lib64 links), the Python
base install, the virtual environment, `course_lib` at /grader/lib with every module of
`protocol.HIDDEN_MODULES` replaced by an empty folder or file and its bytecode cache hidden, the probe
runner and the protocol, and copies of this submission's hidden inputs (handed over as file
descriptors, so the grader's own files stay private to it). Writable: only size-limited tmpfs (/tmp, /submission, /dev/shm); / and /dev are remounted
read-only. Nothing the sandbox writes reaches the host's disk: results come back on a pipe (see
`protocol`). When the sandbox ends, its tmpfs are dropped with its mount namespace (no clean-up
that walks folders) and every process in its pid namespace is killed.

Resources: one cgroup per submission where the machine lets the grader create one (cgroup v2 where
its controllers are delegated, else the v1 hierarchies): `memory` (all processes together, tmpfs
pages included), `cpu` (a quota of `cpus` CPUs, so busy processes of one submission cannot slow
its classmates), `pids` (processes and threads). What is missing falls back to per-process
rlimits and a total-memory watch by the grader; `enforcement()` says what holds on this machine and
the log repeats it.
"""
from __future__ import annotations

import atexit
import functools
import os
import re
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

from autograder import protocol

RUNNER = Path(__file__).with_name("probe_runner.py")
PROTOCOL = Path(protocol.__file__).resolve()
COURSE_LIB = Path(course_lib.__file__).resolve().parent
SANDBOX_UID_BASE = 61000            # root grader: the sandbox of slot k runs as uid/gid SANDBOX_UID_BASE + k
SLOTS = 64
CGROUP_NAME = "course-autograder"


@dataclass
class Limits:
    wall_s: float = 300.0          # the whole submission
    probe_s: float = 60.0          # one task's probe (one forked child)
    cell_s: float = 10.0           # executing one answer cell at top level
    memory_mb: int = 2048          # all the submission's processes together (and each one's address space)
    nproc: int = 128               # processes and threads
    cpus: float = 1.0              # CPU share: at most this many CPUs' worth of time
    fsize_mb: int = 64             # largest file a process may write
    tmp_mb: int = 64               # size of the private /tmp
    disk_mb: int = 256             # size of the working folder /submission
    shm_mb: int = 64               # size of /dev/shm
    output_kb: int = 64            # captured stdout+stderr kept for the log


@dataclass
class RunResult:
    returncode: int | None
    timed_out: bool
    disk_exceeded: bool
    output: str
    output_bytes: int
    wall_s: float
    results: bytes = b""           # the runner's frames (protocol), at most MAX_STREAM_BYTES
    results_bytes: int = 0         # how many bytes it tried to send
    memory_exceeded: bool = False  # killed by the grader's total-memory watch (no memory cgroup)
    oom_kills: int = 0             # processes the memory cgroup killed


# ---------------------------------------------------------------- slots: one sandbox uid per running submission

_slots_lock = threading.Lock()
_free_slots = list(range(SLOTS))


def _take_slot() -> int:
    with _slots_lock:
        return _free_slots.pop(0) if _free_slots else SLOTS + threading.get_ident() % 1000


def _give_slot(slot: int) -> None:
    with _slots_lock:
        if slot < SLOTS:
            _free_slots.append(slot)
            _free_slots.sort()


def _is_root() -> bool:
    return os.geteuid() == 0


def _setpriv(slot: int) -> list[str]:
    """Root grader: the last step inside the sandbox, from root to an unprivileged uid of its own with
    no capabilities (bounding and inheritable sets cleared, no_new_privs)."""
    uid = SANDBOX_UID_BASE + slot
    return ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--"]


def _namespaces(slot: int) -> tuple[list[str], list[str]]:
    """(bubblewrap's namespace options, the command prefix inside). A root grader's bubblewrap sets
    up the mounts as root in fresh mount, pid, network, ipc, uts and cgroup namespaces and then
    setpriv drops to the sandbox uid, a real unprivileged host uid (a user namespace made by root
    would map it to host root). An ordinary user's bubblewrap runs in a user namespace of its own,
    with capabilities dropped and further user namespaces disabled."""
    if _is_root():
        return (["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"],
                _setpriv(slot))
    return (["--unshare-all", "--unshare-user", "--disable-userns", "--uid", str(os.getuid()), "--gid",
             str(os.getgid()), "--cap-drop", "ALL"], [])


# ---------------------------------------------------------------- can we sandbox here?

_PROBE_SCRIPT = ("grep -E '^(Uid|CapEff|CapPrm|NoNewPrivs):' /proc/self/status; "
                 "(echo x > /usr/.w) 2>/dev/null && echo WRITABLE; exit 0")


@functools.lru_cache(maxsize=1)
def sandbox_problem() -> str | None:
    """None when an unprivileged sandbox works here; else what is missing, for the refusal message."""
    for tool in ("bwrap", "prlimit") + (("setpriv",) if _is_root() else ()):
        if shutil.which(tool) is None:
            return f"{tool} was not found"
    venv, base = _python_paths()
    interpreter = Path(os.path.realpath(venv / "bin" / "python"))
    if not (interpreter.is_relative_to(base) or interpreter.is_relative_to(venv)):
        # only the venv and the base install are bound: the venv's python would not exist in the sandbox
        # (seen when this user may not read the base install and Python fell back to another one)
        return (f"the virtual environment's python ({interpreter}) lies outside the Python install this grader "
                f"runs on ({base}); run the grader with a Python whose install this user can read")
    ns, inside = _namespaces(SLOTS + 999)
    cmd = ["bwrap", *ns, *_system_mounts(), "--proc", "/proc", "--dev", "/dev", "--",
           *inside, "/bin/sh", "-c", _PROBE_SCRIPT]
    try:
        r = subprocess.run(cmd, capture_output=True, timeout=30, text=True)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"bubblewrap did not start ({type(err).__name__})"
    if r.returncode != 0:
        return "bubblewrap could not start an unprivileged sandbox: " + " ".join(r.stderr.split())[:300]
    fields = dict(line.split(":", 1) for line in r.stdout.splitlines() if ":" in line)
    uid = fields.get("Uid", "0").split()
    if not uid or "0" in uid or "WRITABLE" in r.stdout:
        return "the sandboxed process kept uid 0 or a writable system folder"
    if int(fields.get("CapEff", "1").strip(), 16) or int(fields.get("CapPrm", "1").strip(), 16):
        return "the sandboxed process kept capabilities"
    if fields.get("NoNewPrivs", "0").strip() != "1":
        return "no_new_privs is not set in the sandbox"
    return None


def bwrap_available() -> bool:
    return sandbox_problem() is None


# ---------------------------------------------------------------- cgroups


def _read(p: Path) -> str:
    try:
        return p.read_text()
    except OSError:
        return ""


def _write(p: Path, value: str) -> bool:
    try:
        p.write_text(value)
        return True
    except OSError:
        return False


def _cgroup_mounts() -> tuple[dict[str, Path], Path | None]:
    v1, v2 = {}, None
    for line in _read(Path("/proc/self/mounts")).splitlines():
        parts = line.split()
        if len(parts) < 4:
            continue
        if parts[2] == "cgroup2" and v2 is None:
            v2 = Path(parts[1])
        elif parts[2] == "cgroup":
            for opt in parts[3].split(","):
                if opt in ("memory", "cpu", "pids"):
                    v1.setdefault(opt, Path(parts[1]))
    return v1, v2


def _own_paths() -> dict[str, str]:
    out = {}
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        hid, controllers, path = line.split(":", 2)
        for c in controllers.split(",") if controllers else [""]:
            out[c] = path
    return out


@dataclass
class Parent:
    controller: str
    version: int
    path: Path


@functools.lru_cache(maxsize=1)
def _cgroup_parents() -> dict[str, Parent]:
    """Per controller, a folder where this grader may create one child cgroup per submission: a child
    of its own cgroup (so limits nest inside whatever already holds the grader)."""
    v1, v2 = _cgroup_mounts()
    own = _own_paths()
    found: dict[str, Parent] = {}
    if v2 is not None and "" in own:
        base = v2 / own[""].lstrip("/")
        delegated = set(_read(base / "cgroup.subtree_control").split())
        for c in ("memory", "cpu", "pids"):
            if c in delegated and os.access(base, os.W_OK):
                found[c] = Parent(c, 2, base)
    for c in ("memory", "cpu", "pids"):
        if c in found or c not in v1 or c not in own:
            continue
        base = v1[c] / own[c].lstrip("/")
        if os.access(base, os.W_OK) and (base / "cgroup.procs").exists():
            found[c] = Parent(c, 1, base)
    return found


def enforcement(limits: Limits) -> list[str]:
    """What bounds a submission on this machine, one line per resource, for the log."""
    parents = _cgroup_parents()

    def how(c):
        p = parents.get(c)
        return f"cgroup v{p.version} under {p.path}" if p else None

    if _is_root():
        lines = [f"sandbox: bubblewrap (own mount, pid, network, ipc, uts namespaces), then setpriv to an unprivileged "
                 f"uid ({SANDBOX_UID_BASE}+slot) without capabilities; read-only binds, no network"]
    else:
        lines = [f"sandbox: bubblewrap in a user namespace as this user (uid {os.getuid()}) without capabilities, "
                 "no further user namespaces; read-only binds, no network"]
    lines.append(f"memory: {limits.memory_mb} MB for all processes together by " +
                 (how("memory") or "the grader's watch of their resident memory (no writable memory cgroup)") +
                 f"; {limits.memory_mb} MB address space per process (prlimit)")
    lines.append(f"cpu: {limits.cpus:g} CPU(s) per submission by " + (how("cpu") or "nothing (no writable cpu "
                 "cgroup): busy submissions can slow their classmates; the wall clock still bounds them"))
    lines.append(f"processes: {limits.nproc} by " + (how("pids") or "RLIMIT_NPROC (prlimit)"))
    lines.append(f"disk: tmpfs /submission {limits.disk_mb} MB, /tmp {limits.tmp_mb} MB, /dev/shm {limits.shm_mb} MB "
                 "(blocks, so fallocate and sparse files count); inodes count as memory"
                 + ("" if "memory" in parents else " (bounded only by the memory watch)")
                 + "; no host folder is writable")
    return lines


class Group:
    """One submission's cgroups (possibly none)."""

    def __init__(self, limits: Limits):
        self.dirs: dict[str, tuple[int, Path]] = {}
        for c, parent in _cgroup_parents().items():
            try:
                top = parent.path / CGROUP_NAME
                top.mkdir(exist_ok=True)
                if parent.version == 2:
                    _write(top / "cgroup.subtree_control", "+" + c)
                d = Path(tempfile.mkdtemp(prefix="sub-", dir=top))
            except OSError:
                continue
            if self._configure(c, parent.version, d, limits):
                self.dirs[c] = (parent.version, d)
            else:
                _rmdir(d)

    @staticmethod
    def _configure(c: str, version: int, d: Path, limits: Limits) -> bool:
        mem = limits.memory_mb * 2**20
        if c == "memory":
            if version == 2:
                ok = _write(d / "memory.max", str(mem))
                _write(d / "memory.swap.max", "0")
                return ok
            ok = _write(d / "memory.limit_in_bytes", str(mem))
            _write(d / "memory.memsw.limit_in_bytes", str(mem))   # no swap beyond the limit, where accounted
            return ok
        if c == "cpu":
            quota = max(1000, int(limits.cpus * 100_000))
            if version == 2:
                return _write(d / "cpu.max", f"{quota} 100000")
            return _write(d / "cpu.cfs_period_us", "100000") and _write(d / "cpu.cfs_quota_us", str(quota))
        return _write(d / "pids.max", str(limits.nproc))

    def has(self, c: str) -> bool:
        return c in self.dirs

    def wrap(self, cmd: list[str]) -> list[str]:
        """Enter every cgroup before anything of the submission starts."""
        if not self.dirs:
            return cmd
        procs = [str(d / "cgroup.procs") for _, d in self.dirs.values()]
        script = 'p=$$; while [ "$1" != -- ]; do echo $p > "$1" || exit 97; shift; done; shift; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *procs, "--", *cmd]

    def oom_file(self) -> Path | None:
        if "memory" not in self.dirs:
            return None
        version, d = self.dirs["memory"]
        return d / ("memory.events" if version == 2 else "memory.oom_control")

    def oom_kills(self) -> int:
        f = self.oom_file()
        m = re.search(r"^oom_kill (\d+)", _read(f), re.M) if f else None
        return int(m.group(1)) if m else 0

    def remove(self) -> None:
        for _, d in self.dirs.values():
            for _ in range(200):
                pids = _read(d / "cgroup.procs").split()
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(int(pid), signal.SIGKILL)
                    except (ProcessLookupError, ValueError, PermissionError):
                        pass
                time.sleep(0.01)
            _rmdir(d)


def _rmdir(d: Path) -> None:
    for _ in range(50):
        try:
            d.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)


# ---------------------------------------------------------------- the command


def _python_paths() -> tuple[Path, Path]:
    return Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()


def _system_mounts() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("/bin", "/lib", "/lib64", "/sbin"):
        p = Path(link)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), link]
        elif p.exists():
            args += ["--ro-bind", link, link]
    return args


@functools.lru_cache(maxsize=1)
def _empty_places() -> tuple[Path, Path]:
    """An empty folder and an empty file, private to this grader, bound over hidden modules."""
    d = Path(tempfile.mkdtemp(prefix="autograder-empty-"))
    (d / "dir").mkdir()
    (d / "file.py").write_bytes(b"")
    atexit.register(_remove_empty_places, d)
    return d / "dir", d / "file.py"


def _remove_empty_places(d: Path) -> None:
    for name, remove in (("file.py", os.unlink), ("dir", os.rmdir), ("", os.rmdir)):
        try:
            remove(d / name if name else d)
        except OSError:
            pass


def hidden_paths() -> list[tuple[Path, str]]:
    """(host path, "dir" | "file") for every hidden module, plus course_lib's bytecode caches."""
    out = []
    for name in protocol.HIDDEN_MODULES:
        rel = name.split(".")[1:]
        pkg = COURSE_LIB.joinpath(*rel)
        if pkg.is_dir():
            out.append((pkg, "dir"))
        elif pkg.with_suffix(".py").is_file():
            out.append((pkg.with_suffix(".py"), "file"))
    for cache in sorted(COURSE_LIB.rglob("__pycache__")):
        if not any(cache.is_relative_to(p) for p, kind in out if kind == "dir"):
            out.append((cache, "dir"))
    return out


class Binds:
    """Read-only binds, and files handed to bubblewrap as descriptors (copied into the sandbox)."""

    def __init__(self):
        self.fds: list[int] = []
        self.args: list[str] = []

    def ro(self, host: Path, dest: str) -> None:
        self.args += ["--ro-bind", str(host), dest]

    def data(self, host: Path, dest: str) -> None:
        """A copy of a file, readable in the sandbox whatever the host file's owner and mode."""
        fd = os.open(str(host), os.O_RDONLY | os.O_CLOEXEC)
        self.fds.append(fd)
        self.args += ["--perms", "0444", "--ro-bind-data", str(fd), dest]

    def close(self) -> None:
        for fd in self.fds:
            os.close(fd)
        self.fds = []


def sandbox_command(inputs: list[Path], limits: Limits, slot: int, binds: Binds, threads: int = 1,
                    oom_file: Path | None = None, nproc_rlimit: bool = True) -> list[str]:
    venv, base = _python_paths()
    empty_dir, empty_file = _empty_places()
    binds.ro(base, str(base))
    if venv != base:
        binds.ro(venv, str(venv))
    lib = "/grader/lib/course_lib"
    binds.ro(COURSE_LIB, lib)
    for host, kind in hidden_paths():
        binds.ro(empty_dir if kind == "dir" else empty_file, lib + "/" + host.relative_to(COURSE_LIB).as_posix())
    binds.ro(RUNNER, "/grader/probe_runner.py")
    binds.ro(PROTOCOL, "/grader/protocol.py")
    for f in inputs:
        binds.data(f, f"/grader/inputs/{f.name}")
    if oom_file is not None:
        binds.ro(oom_file, "/grader/oom_events")
    ns, inside = _namespaces(slot)
    # bubblewrap would make the missing parents of mount points private to root: make them 0755 first
    folders, made = [], set()
    for dest in [str(base), str(venv), lib, "/grader/inputs/x"]:
        for parent in reversed(Path(dest).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                folders += ["--perms", "0755", "--dir", str(parent)]
    mounts = _system_mounts() + folders + binds.args + [
        "--proc", "/proc", "--dev", "/dev",
        "--size", str(limits.shm_mb * 2**20), "--tmpfs", "/dev/shm",
        "--size", str(limits.tmp_mb * 2**20), "--tmpfs", "/tmp",
        "--size", str(limits.disk_mb * 2**20), "--tmpfs", "/submission",
        "--chmod", "1777", "/dev/shm", "--chmod", "1777", "/tmp", "--chmod", "0777", "/submission",
        "--remount-ro", "/dev", "--remount-ro", "/",
        "--chdir", "/submission", *ns, "--die-with-parent", "--new-session",
        "--clearenv", "--setenv", "HOME", "/tmp", "--setenv", "PATH", f"{venv}/bin:/usr/bin:/bin",
        "--setenv", "OMP_NUM_THREADS", str(threads), "--setenv", "MKL_NUM_THREADS", str(threads),
        "--setenv", "MPLBACKEND", "Agg", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
        "--setenv", "PYTHONHASHSEED", "0",
    ]
    return (_prlimit(limits, nproc_rlimit) + ["bwrap"] + mounts +
            ["--", *inside, str(venv / "bin" / "python"), "-I", "/grader/probe_runner.py"])


def unsafe_command(limits: Limits) -> list[str]:
    venv, _ = _python_paths()
    return _prlimit(limits, True) + [str(venv / "bin" / "python"), "-I", str(RUNNER)]


def _prlimit(limits: Limits, nproc: bool) -> list[str]:
    cpu = int(limits.wall_s * max(1.0, limits.cpus)) + 30
    args = ["prlimit", f"--as={limits.memory_mb * 2**20}", f"--fsize={limits.fsize_mb * 2**20}",
            f"--cpu={cpu}", "--core=0"]
    if nproc:
        args.append(f"--nproc={limits.nproc}")
    return args + ["--"]


# ---------------------------------------------------------------- running it


def _tree_rss(root: int) -> int:
    """Resident bytes of `root` and all its descendants (the fallback memory watch)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(name)
        children.setdefault(int(stat[1]), []).append(pid)
        rss[pid] = int(stat[21]) * page
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def _reader(stream, cap: int, kept: bytearray, counted: list) -> threading.Thread:
    """Drain `stream` to its end, keeping the first `cap` bytes."""

    def loop():
        while True:
            try:
                chunk = stream.read1(1 << 16)
            except (OSError, ValueError):
                break
            if not chunk:
                break
            counted[0] += len(chunk)
            if len(kept) < cap:
                kept.extend(chunk[: cap - len(kept)])

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return t


def run_sandboxed(job: dict, inputs: list[Path], limits: Limits, unsafe: bool = False, threads: int = 1,
                  env: dict | None = None, stream_cap: int = protocol.MAX_STREAM_BYTES) -> RunResult:
    """Run the probe runner on `job` (stdin), inputs read-only; results come back on a pipe whose
    descriptor is added to the job as `results_fd`. Enforces the wall clock and the memory watch;
    kills everything of the submission at the end."""
    import json

    start = time.monotonic()
    slot = _take_slot()
    group = Group(limits) if not unsafe else None
    binds = Binds()
    res_r, res_w = os.pipe()
    try:
        if unsafe:
            cmd = unsafe_command(limits)
        else:
            cmd = sandbox_command(inputs, limits, slot, binds, threads, group.oom_file(),
                                  nproc_rlimit=not group.has("pids"))
            cmd = group.wrap(cmd)
            # bubblewrap's own pid 1 keeps the environment it was started with, and an unprivileged
            # probe (same uid) can read /proc/1/environ: start it with nothing of the grader's but
            # the PATH that found prlimit, bwrap and setpriv
            env = {"PATH": os.environ.get("PATH", os.defpath)}
        job = {**job, "results_fd": res_w, "sandboxed": not unsafe,
               "oom_events": "/grader/oom_events" if group is not None and group.has("memory") else None}
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                cwd="/", env=env, start_new_session=True, pass_fds=[res_w, *binds.fds])
    except BaseException:
        os.close(res_r)
        os.close(res_w)
        binds.close()
        if group is not None:
            group.remove()
        _give_slot(slot)
        raise
    os.close(res_w)
    binds.close()
    out_kept, out_count = bytearray(), [0]
    res_kept, res_count = bytearray(), [0]
    readers = [_reader(proc.stdout, limits.output_kb * 1024, out_kept, out_count),
               _reader(os.fdopen(res_r, "rb"), stream_cap, res_kept, res_count)]
    try:
        proc.stdin.write(json.dumps(job).encode())
        proc.stdin.close()
    except (BrokenPipeError, OSError):
        pass
    watch_memory = group is None or not group.has("memory")
    timed_out = memory = False
    last_watch = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if now - start > limits.wall_s:
            timed_out = True
            break
        if watch_memory and not unsafe and now - last_watch > 0.2:
            last_watch = now
            if _tree_rss(proc.pid) > limits.memory_mb * 2**20:
                memory = True
                break
        time.sleep(0.02)
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGKILL)   # bwrap and its pid namespace go with it
        except (ProcessLookupError, PermissionError):
            proc.kill()
        proc.wait()
    oom = group.oom_kills() if group is not None else 0
    if group is not None:
        group.remove()
    _give_slot(slot)
    for t in readers:
        t.join(timeout=10)
    output = bytes(out_kept).decode("utf-8", errors="replace")
    return RunResult(proc.returncode, timed_out, False, output, out_count[0], time.monotonic() - start,
                     bytes(res_kept) if res_count[0] <= stream_cap else b"", res_count[0],
                     memory, oom)
