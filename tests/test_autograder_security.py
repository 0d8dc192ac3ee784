"""Attacks on the grader, graded in one batch beside two honest classmates, as root and as a normal user.

Each attacker answers `row_softmax` (3 points) correctly and attacks through `square` (2 points).
Where an attack can succeed or fail, `square` returns the right answer only if it succeeded, so a
square score of 2 means a breach. After each batch: the virtual environment, course_lib,
autograder/, solutions/, the course's gradebook and the other submissions are unchanged
(checksums before and after), the honest classmates have exactly full marks within tight time
limits, nothing of the sandbox is left (files or processes), the grader's peak memory is bounded,
and no hidden input, forged log line or terminal escape reaches the log, the CSV or the feedback.
"""
import csv
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "fixtures"))
import tiny_course as tc  # noqa: E402

from autograder import protocol, sandbox  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
PY = Path(sys.executable)
SITE = Path(np.__file__).resolve().parents[1]
pytestmark = [pytest.mark.sandbox,
              pytest.mark.skipif(not sandbox.bwrap_available(), reason=f"no sandbox here: {sandbox.sandbox_problem()}")]

GRADED_NAMES = {"fit_histogram", "average_nll", "bits_per_dim", "sample_inverse_cdf", "bernoulli_log_prob",
                "nade_log_prob", "made_masks", "MADE", "autoregressive_sample", "causal_mask", "MaskedConv2d",
                "pixelcnn_receptive_field", "blind_spot", "GatedPixelCNN", "discretized_logistic_mixture_log_prob",
                "mu_law_encode", "mu_law_decode", "receptive_field_size", "CausalConv1d", "WaveNet", "gaussian_kl",
                "reparameterize", "precision_weighted_merge", "diag_gmm_log_prob", "VRNN", "STCN", "code_length_bits",
                "arithmetic_interval", "elbo", "free_bits_kl", "strided_attention_mask", "subscale_order"}
RIGHT = "    return np.asarray(x, dtype=np.float64) ** 2\n"
WRONG = "    return np.zeros(np.shape(x))\n"
INNER_RIGHT = "    " + RIGHT   # the right answer inside an `if`
GRADER_SECRET = "ag-canary-4f1d9c"   # in the grader's environment, like a hub token or a cloud key


def graded_names_from_design() -> set[str]:
    text = Path("/work/shared/COURSE_DESIGN.md").read_text() if Path("/work/shared/COURSE_DESIGN.md").exists() else ""
    section = text.split("## 6.", 1)[1].split("\n## ", 1)[0] if "## 6." in text else ""
    return set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", section)) - {n for n in re.findall(r"`(a\d_[a-z_]+)`", section)}


# ---------------------------------------------------------------- the attacks


def attack_sources(p: dict) -> dict[str, str]:
    """Answer-cell sources for `square`, one per attack; `p` holds the host paths to aim at."""
    s = {}
    s["remount"] = (
        "import ctypes, os, subprocess\n"
        f"SITE = {str(SITE)!r}\nMODELS = '/grader/lib/course_lib/models'\n"
        "def square(x):\n"
        "    libc = ctypes.CDLL(None, use_errno=True)\n"
        "    for t in (MODELS, '/grader/lib/course_lib/receptive_field.py', '/grader/lib/course_lib', SITE, '/proc/sys'):\n"
        "        libc.umount2(t.encode(), 2)\n"
        "        libc.mount(b'none', t.encode(), None, 32 | 4096, None)\n"
        "    subprocess.run(['unshare', '-Urm', 'sh', '-c', f'umount -l {MODELS}; mount -o remount,bind,rw {SITE}; '\n"
        "                    f'touch {SITE}/zz_remount.pth; ls {MODELS} > /tmp/seen'], capture_output=True)\n"
        "    breached = os.path.exists(MODELS + '/made.py') or os.path.exists(SITE + '/zz_remount.pth')\n"
        "    if breached:\n" + INNER_RIGHT + WRONG)
    writes = [f"{SITE}/zz_pwned.pth", f"{SITE}/nbgrader/api/__init__.py", f"{SITE}/numpy/__pycache__/zz.pyc",
              f"{PY.parent}/zz", "/grader/lib/course_lib/checks.py", "/grader/lib/course_lib/zz.py",
              "/grader/probe_runner.py", "/grader/protocol.py", "/grader/inputs/square.npz", *p["write"]]
    s["write_files"] = (
        f"TARGETS = {writes!r}\n"
        "def square(x):\n    hits = []\n    for t in TARGETS:\n        for mode in ('a', 'x'):\n"
        "            try:\n                with open(t, mode) as fh:\n                    fh.write('')\n"
        "                hits.append(t)\n            except OSError:\n                pass\n"
        "    if hits:\n" + INNER_RIGHT + WRONG)
    s["read_secrets"] = (
        f"import os\nSECRETS = {['/etc/shadow', '/proc/1/root/etc/shadow', *p['read']]!r}\nCANARY = {GRADER_SECRET!r}\n"
        "def square(x):\n    seen = []\n"
        "    for pid in os.listdir('/proc'):\n"   # the grader's environment, through any process the probe can see
        "        for part in ('environ', 'cmdline'):\n            try:\n"
        "                with open(f'/proc/{pid}/{part}', 'rb') as fh:\n"
        "                    if CANARY.encode() in fh.read():\n                        seen.append(pid)\n"
        "            except OSError:\n                pass\n"
        "    for t in SECRETS:\n        try:\n"
        "            if os.path.isdir(t):\n                seen += os.listdir(t)\n            else:\n"
        "                with open(t, 'rb') as fh:\n                    seen.append(fh.read(1))\n        except OSError:\n            pass\n"
        "    for fd in os.listdir('/proc/self/fd'):\n        try:\n"   # an inherited descriptor to a host folder?
        "            if os.path.isdir(f'/proc/self/fd/{fd}') and os.listdir(os.path.join(f'/proc/self/fd/{fd}', '..', '..')):\n"
        "                if os.path.exists(os.path.join(f'/proc/self/fd/{fd}', '..', '..', 'etc', 'shadow')):\n"
        "                    seen.append(fd)\n        except OSError:\n            pass\n"
        "    if seen:\n" + INNER_RIGHT + WRONG)
    s["core_pattern"] = (
        "def square(x):\n    hits = []\n"
        "    for t in ('/proc/sys/kernel/core_pattern', '/proc/sysrq-trigger', '/proc/sys/kernel/modprobe'):\n"
        "        try:\n            with open(t, 'w') as fh:\n                hits.append(t)\n        except OSError:\n            pass\n"
        "    if hits:\n" + INNER_RIGHT + WRONG)
    s["daemon"] = (   # a double-forked setsid daemon from every execution of the cell (screening included)
        "import os, time\n"
        "def _spawn(tag):\n    r, w = os.pipe()\n    if os.fork() == 0:\n        os.setsid()\n        if os.fork() == 0:\n"
        "            with open('/tmp/daemons', 'a') as fh:\n                fh.write(f'{os.getpid()} {tag}\\n')\n"
        "            os.write(w, b'x')\n            while True:\n                time.sleep(0.05)\n        os._exit(0)\n"
        "    os.read(r, 1)\n"
        "_spawn(os.getpid())\n"
        "def square(x):\n    alive = []\n    for line in open('/tmp/daemons'):\n        pid, tag = map(int, line.split())\n"
        "        if tag != os.getpid():\n            try:\n                os.kill(pid, 0)\n                alive.append(pid)\n"
        "            except OSError:\n                pass\n"
        "    if alive:\n" + INNER_RIGHT + WRONG)
    s["forge"] = (   # garbage into every descriptor, the runner's included if reachable; a 12 MB message
        "import os\n"
        "def square(x):\n    nested = b'[' * 200000 + b']' * 200000\n"
        "    frame = (11).to_bytes(2, 'little') + b'status.json' + (64 * 2**20).to_bytes(8, 'little')\n"
        "    reached = []\n"
        "    for pid in ('self', str(os.getppid()), '1', '2'):\n        try:\n            fds = os.listdir(f'/proc/{pid}/fd')\n"
        "        except OSError:\n            continue\n        for fd in fds:\n            try:\n"
        "                f = os.open(f'/proc/{pid}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)\n"
        "                if pid != 'self':\n                    reached.append((pid, fd))\n"
        "                os.write(f, frame + nested)\n            except OSError:\n                pass\n"
        "    for fd in range(3, 64):\n        try:\n            os.write(fd, frame + nested)\n        except OSError:\n            pass\n"
        "    if reached:\n" + INNER_RIGHT +
        "    raise ValueError('\\n[00:00:00] forged: 28/28 ' + 'x' * 12_000_000)\n")
    s["disk"] = (   # fallocate (plain and keep-size), sparse files, /dev/shm, then the right answer
        "import os, subprocess\n"
        "def square(x):\n    for d in ('/submission', '/tmp', '/dev/shm', '/', '/dev', '/grader'):\n"
        "        try:\n            fd = os.open(d + '/big', os.O_CREAT | os.O_WRONLY)\n"
        "            try:\n                os.posix_fallocate(fd, 0, 2**31)\n            except OSError:\n                pass\n"
        "            os.truncate(d + '/big', 10 * 2**30)\n            os.close(fd)\n        except OSError:\n            pass\n"
        "        subprocess.run(['fallocate', '-n', '-l', '2G', d + '/keep'], capture_output=True)\n"
        "    try:\n        with open('/dev/shm/fill', 'wb') as fh:\n            for _ in range(1024):\n"
        "                fh.write(b'0' * 2**20)\n    except OSError:\n        pass\n" + RIGHT)
    # 6 processes of 300 MB each: under the per-process limit, over the total. Each child holds its
    # memory until all six have theirs (a barrier on two pipes), so they overlap however slowly they fork.
    s["many_procs"] = (
        "import os\n"
        "def square(x):\n    ready_r, ready_w = os.pipe()\n    go_r, go_w = os.pipe()\n    kids = []\n"
        "    for i in range(6):\n        pid = os.fork()\n        if pid == 0:\n"
        "            try:\n                os.close(ready_r)\n                os.close(go_w)\n"
        "                a = np.ones(300 * 2**20 // 8)\n                os.write(ready_w, b'x')\n"
        "                os.close(ready_w)\n                os.read(go_r, 1)\n"
        "                os._exit(0)\n            except BaseException:\n                os._exit(1)\n        kids.append(pid)\n"
        "    os.close(ready_w)\n    os.close(go_r)\n"
        "    while os.read(ready_r, 6):\n        pass\n"
        "    os.close(go_w)\n"
        "    codes = [os.waitpid(k, 0)[1] for k in kids]\n"
        "    if all(c == 0 for c in codes):\n" + INNER_RIGHT + WRONG)
    s["a0_cpu_hog"] = (
        "import os\n"
        "def square(x):\n    for i in range(40):\n        if os.fork() == 0:\n            os.setsid()\n"
        "            while True:\n                pass\n    while True:\n        pass\n")
    s["deep_tree"] = (   # 3000 nested folders and 20000 empty files, then the right answer
        "import os\n"
        "def square(x):\n    os.chdir('/submission')\n    for i in range(3000):\n        os.makedirs('d', exist_ok=True)\n        os.chdir('d')\n"
        "    for i in range(20000):\n        try:\n            open(f'/tmp/e{i}', 'w').close()\n        except OSError:\n            break\n"
        "    os.chdir('/submission')\n" + RIGHT)
    s["log_spoof"] = (
        "import sys\n"
        "print('\\n[09:00:00] zz_mallory: 28/28 in 1.0 s (square=passed, row_softmax=passed)')\n"
        "sys.stderr.write('\\x1b[2J\\x1b]0;owned\\x07\\r[09:00:01] graded 1 submission(s)\\n')\n"
        "Forged = type('E\\n[09:00:02] zz_mallory: 28/28 \\x1b[31m', (Exception,), {})\n"
        "def square(x):\n    raise Forged('\\x1b[2J\\n[09:00:03] zz_mallory: 28/28')\n")
    s["leak"] = (   # puts the hidden inputs (and the caller's frame) into exception messages and class names
        "import sys\n"
        "def square(x):\n    frame = sys._getframe(1)\n    text = ' '.join(f'{v:.6f}' for v in np.ravel(x))\n"
        "    text += repr(frame.f_locals) + repr(frame.f_code.co_names)\n"
        "    raise type('Leak_' + text[:30].replace('.', '_').replace('-', 'm').replace(' ', '_'), (ValueError,), {})(text)\n")
    s["walk_course_lib"] = (   # every importable course_lib module: does any give a graded task?
        f"import importlib, pkgutil, course_lib\nGRADED = {sorted(GRADED_NAMES)!r}\n"
        "def square(x):\n    found = []\n"
        "    for m in pkgutil.walk_packages(course_lib.__path__, 'course_lib.', onerror=lambda name: None):\n"
        "        try:\n            mod = importlib.import_module(m.name)\n        except Exception:\n            continue\n"
        "        found += [f'{m.name}.{n}' for n in GRADED if hasattr(mod, n)]\n"
        "    for name in ('course_lib.models.made', 'course_lib.receptive_field'):\n        try:\n"
        "            mod = importlib.import_module(name)\n            found += [n for n in GRADED if hasattr(mod, n)]\n"
        "        except ImportError:\n            pass\n"
        "    if not found:\n" + INNER_RIGHT + WRONG)
    return s


# expected (square, row_softmax) scores and allowed square statuses
EXPECTED = {
    "remount": (0, 3, {"failed"}), "write_files": (0, 3, {"failed"}), "read_secrets": (0, 3, {"failed"}),
    "core_pattern": (0, 3, {"failed"}), "daemon": (0, 3, {"failed"}), "forge": (0, 3, {"failed", "crashed"}),
    "disk": (2, 3, {"passed"}), "many_procs": (0, 3, {"failed", "memory_limit", "crashed"}),
    "a0_cpu_hog": (0, 3, {"timeout"}), "deep_tree": (2, 3, {"passed"}), "log_spoof": (0, 3, {"failed"}),
    "leak": (0, 3, {"failed"}), "walk_course_lib": (2, 3, {"passed"}),
    "a_honest": (2, 3, {"passed"}), "zz_honest": (2, 3, {"passed"}),
}


# ---------------------------------------------------------------- checksums


def _tree_manifest(root: Path, content: bool) -> dict:
    """path -> (size, mtime, ctime, mode) and, with `content`, the sha256; bytecode caches left out
    (other programs on the machine may import from the same environment while this test runs)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        for name in filenames:
            f = Path(dirpath) / name
            try:
                st = f.lstat()
            except OSError:
                continue
            entry = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)
            if content and f.is_file() and not f.is_symlink():
                entry += (hashlib.sha256(f.read_bytes()).hexdigest(),)
            out[str(f)] = entry
    return out


def manifests(paths: dict) -> dict:
    return {"venv": _tree_manifest(Path(sys.prefix).resolve(), content=False),
            **{k: _tree_manifest(v, content=True) for k, v in paths.items()}}


# ---------------------------------------------------------------- running the grader as someone


def _watch_peak_rss(proc, peak):
    while proc.poll() is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak[0] = max(peak[0], int(line.split()[1]) * 1024)
        except OSError:
            pass
        time.sleep(0.2)


def run_grader(args, user=None, env_extra=None, cgroup_procs=(), scratch=None):
    """The grade command in its own process (as `user` when given); returns (rc, output, peak RSS)."""
    env = {"PATH": f"{PY.parent}:/usr/bin:/bin", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "AG_API_TOKEN": GRADER_SECRET, **(env_extra or {})}
    cmd = [str(PY), "-m", "autograder", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--", *cmd]
        if not _user_can_run_python(user):
            cmd = _with_readable_interpreter(cmd, scratch)
    if cgroup_procs:
        cmd = ["/bin/sh", "-c", 'p=$$; while [ "$1" != -- ]; do echo $p > "$1" || exit 97; shift; done; shift; exec "$@"',
               "sh", *cgroup_procs, "--", *cmd]
    proc = subprocess.Popen(cmd, cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = [0]
    watcher = threading.Thread(target=_watch_peak_rss, args=(proc, peak), daemon=True)
    watcher.start()
    out, _ = proc.communicate(timeout=900)
    watcher.join()
    return proc.returncode, out.decode(errors="replace"), peak[0]


def _user_can_run_python(user) -> bool:
    """Whether the user gets this very interpreter: where its install is unreadable, the executable may
    still start but load another libpython (the system's, with another sys.base_prefix)."""
    probe = "import sys, numpy; print(sys.version, sys.base_prefix)"
    r = subprocess.run(["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups", "--",
                        str(PY), "-c", probe], capture_output=True, text=True)
    return r.returncode == 0 and r.stdout.strip() == f"{sys.version} {sys.base_prefix}"


def _with_readable_interpreter(cmd, keep: Path):
    """When the interpreter lives under a folder the user may not enter (pyenv under /root), run the
    user's grader in a private mount namespace where only that interpreter's folder is visible on the
    way: the host's folders are not changed."""
    base = Path(sys.base_prefix).resolve()
    blocked = next(p for p in reversed(base.parents) if p != Path("/") and not os.stat(p).st_mode & 0o001)
    inner = base.relative_to(blocked)
    keep.mkdir(exist_ok=True)
    script = (f'set -e; mount --bind "{base}" "{keep}"; mount -t tmpfs -o mode=755 tmpfs "{blocked}"; '
              f'mkdir -p "{blocked}/{inner}"; mount --bind "{keep}" "{blocked}/{inner}"; exec "$@"')
    return ["unshare", "--mount", "--propagation", "private", "--", "/bin/sh", "-c", script, "sh", *cmd]


# ---------------------------------------------------------------- one batch


def make_batch(tmp: Path, owner=None):
    course = tc.make_course(tmp / "course")
    (course / "gradebook.db").write_bytes(b"SQLite format 3\x00 the instructor's gradebook")
    subs, out, cache = tmp / "subs", tmp / "out", tmp / "cache"
    for d in (out, cache):
        d.mkdir()
    targets = {"write": [str(course / "gradebook.db"), str(course / "solutions" / "fx_tiny" / "fx_tiny.ipynb"),
                         str(REPO / "autograder" / "grade.py"), str(REPO / "solutions" / "zz"), str(subs / "a_honest" / "fx_tiny.ipynb"),
                         str(subs / "zz_new" / "x.ipynb"), str(out / "scores.csv"), str(out / "zz.csv"), str(cache / "zz"),
                         str(REPO / "course_lib" / "checks.py"), str(tc.TASKS_DIR / "fx_tiny.py")],
               "read": [str(course / "solutions"), str(REPO / "solutions"), str(cache), str(subs / "a_honest"),
                        str(REPO / "autograder"), str(tc.TASKS_DIR)]}
    for sid, src in attack_sources(targets).items():
        tc.write_submission(subs, sid, tc.student_notebook({"square": src}))
    tc.write_submission(subs, "a_honest", tc.student_notebook())
    tc.write_submission(subs, "zz_honest", tc.student_notebook())
    if owner is not None:
        for d in (out, cache):
            os.chown(d, owner.pw_uid, owner.pw_gid)
        for dirpath, dirnames, filenames in os.walk(tmp):
            os.chmod(dirpath, 0o755)
            for f in filenames:
                os.chmod(Path(dirpath) / f, 0o644)
    watched = {"course_lib": REPO / "course_lib", "autograder": REPO / "autograder", "solutions": REPO / "solutions",
               "course": course, "subs": subs}
    return course, subs, out, cache, watched


def grade_batch(tmp: Path, user=None, cgroup_procs=()):
    course, subs, out, cache, watched = make_batch(tmp, user)
    before = manifests(watched)
    grader_tmp = tmp / "grader-tmp"
    grader_tmp.mkdir()
    if user is not None:
        os.chown(grader_tmp, user.pw_uid, user.pw_gid)
    t0 = time.monotonic()
    if user is not None:
        uids = {user.pw_uid}
    elif os.geteuid() == 0:
        uids = set(range(sandbox.SANDBOX_UID_BASE, sandbox.SANDBOX_UID_BASE + sandbox.SLOTS))
    else:
        uids = {os.getuid()}
    (rc, output, peak), left = _grade_and_list_leftovers(uids, lambda: run_grader(
        ["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(subs), "--out", str(out),
         "--no-gradebook", "--workers", "2", "--timeout", "150", "--probe-timeout", "40", "--cell-timeout", "10",
         "--memory", "1536", "--quiet"],
        user=user, env_extra={"AUTOGRADER_CACHE": str(cache), "TMPDIR": str(grader_tmp), "HOME": str(cache)},
        cgroup_procs=cgroup_procs, scratch=tmp / "interpreter"))
    wall = time.monotonic() - t0
    after = manifests(watched)
    rows = list(csv.DictReader(open(out / "scores.csv"))) if (out / "scores.csv").exists() else []
    return {"rc": rc, "output": output, "peak": peak, "wall": wall, "before": before, "after": after, "out": out,
            "table": {(r["student_id"], r["task"]): r for r in rows}, "rows": rows, "grader_tmp": grader_tmp,
            "course": course, "left": left}


PR_SET_CHILD_SUBREAPER = 36


def _processes_below_me(uids) -> set[tuple[int, str]]:
    """(pid, start time) of the live processes with one of `uids` that descend from this test process.
    While it is a child subreaper, whatever the grader's sandboxes leave behind is re-parented here
    (not to the host's init), so another test's sandboxes, graded beside this one, are not counted."""
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
                uid = os.stat(f"/proc/{name}").st_uid
            except (OSError, IndexError):
                continue
            procs[int(name)] = (int(fields[1]), fields[0], uid, fields[19])   # ppid, state, uid, start time
    me, below = os.getpid(), set()
    for pid, (ppid, state, uid, start) in procs.items():
        if uid not in uids:
            continue
        if state == "Z":
            if ppid == me:
                os.waitpid(pid, os.WNOHANG)   # an orphan that died here: reap it, it outlived nothing
            continue
        up = ppid
        while up in procs and up not in (me, 0, 1):
            up = procs[up][0]
        if up == me:
            below.add((pid, start))
    return below


def _grade_and_list_leftovers(uids, grade):
    """Run `grade()` as a child subreaper; returns (its result, the processes of `uids` it left alive)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    assert libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    try:
        before = _processes_below_me(uids)
        result = grade()
        left = sorted(_processes_below_me(uids) - before)
        for pid, _ in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return result, left
    finally:
        libc.prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


@pytest.fixture(scope="module")
def as_root(tmp_path_factory):
    tmp = Path(tempfile.mkdtemp(prefix="ag-security-root-"))
    try:
        yield grade_batch(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
def normal_user():
    """A throwaway user with the cgroups a container would delegate to it (v1 here: a memory, cpu and
    pids cgroup owned by the user, which the grader finds as its own)."""
    if os.geteuid() != 0:
        yield pwd.getpwuid(os.getuid()), ()
        return
    name = f"agtest{os.getpid() % 100000}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name], check=True,
                   capture_output=True)
    user = pwd.getpwnam(name)
    groups = []
    v1, _ = sandbox._cgroup_mounts()
    own = sandbox._own_paths()
    for c in ("memory", "cpu", "pids"):
        if c in v1 and c in own:
            d = v1[c] / own[c].lstrip("/") / f"agtest-{name}"
            try:
                d.mkdir()
            except OSError:
                continue
            for f in [d, *d.iterdir()]:
                os.chown(f, user.pw_uid, user.pw_gid)
            groups.append(d)
    try:
        yield user, tuple(str(d / "cgroup.procs") for d in groups)
    finally:
        for d in groups:
            for child in sorted(d.glob(f"{sandbox.CGROUP_NAME}/*"), reverse=True) + sorted(d.glob(sandbox.CGROUP_NAME)):
                sandbox._rmdir(child)
            sandbox._rmdir(d)
        subprocess.run(["userdel", name], capture_output=True)


@pytest.fixture(scope="module")
def as_user(normal_user):
    user, procs = normal_user
    tmp = Path(tempfile.mkdtemp(prefix="ag-security-user-"))
    os.chmod(tmp, 0o755)
    try:
        yield grade_batch(tmp, user=user if os.geteuid() == 0 else None, cgroup_procs=procs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# as a normal user, bubblewrap's pid 1 shares the probe's uid: it starts with nothing of the grader's environment
BATCHES = ["as_root", "as_user"]


@pytest.fixture(params=BATCHES)
def batch(request):
    return request.getfixturevalue(request.param)


def test_the_grader_finishes_and_logs_what_it_enforces(batch):
    assert batch["rc"] == 0, batch["output"][-3000:]
    log = (batch["out"] / "grading.log").read_text()
    for word in ("memory:", "cpu:", "processes:", "disk:", "without capabilities"):
        assert word in log
    assert {r["student_id"] for r in batch["rows"]} == set(EXPECTED)


@pytest.mark.parametrize("sid", sorted(EXPECTED))
def test_each_attack_is_contained_and_costs_only_its_own_task(batch, sid):
    square, softmax, statuses = EXPECTED[sid]
    row = batch["table"][(sid, "square")]
    assert float(row["score"]) == square and row["status"] in statuses, row
    assert float(batch["table"][(sid, "row_softmax")]["score"]) == softmax, batch["table"][(sid, "row_softmax")]


def test_no_file_outside_the_sandbox_changed(batch):
    for name in batch["before"]:
        assert batch["after"][name] == batch["before"][name], f"{name} changed"
    assert not list(batch["grader_tmp"].iterdir()), "the grader left files behind"
    assert not (SITE / "zz_pwned.pth").exists() and not (SITE / "zz_remount.pth").exists()


def test_nothing_of_the_sandbox_outlives_it(batch):
    assert batch["left"] == []


def test_the_graders_memory_stays_bounded(batch):
    # 64 MB of forged JSON once cost the grader 1.5 GB; now at most MAX_STREAM_BYTES per running submission.
    assert 0 < batch["peak"] < 500 * 2**20, batch["peak"]


def test_cpu_hog_does_not_slow_the_classmates(batch):
    # a_honest is graded beside a0_cpu_hog (the first two in order, two workers) within the probe limit (timing itself belongs in bench/)
    assert batch["table"][("a_honest", "square")]["status"] == "passed"
    assert batch["table"][("a_honest", "row_softmax")]["status"] == "passed"


def test_log_csv_and_feedback_carry_no_forged_lines_or_escapes(batch):
    out = batch["out"]
    texts = [(out / "grading.log").read_text(), (out / "scores.csv").read_text()]
    texts += [p.read_text() for p in (out / "feedback").rglob("*.html")]
    for text in texts:
        assert "\x1b" not in text and "\r" not in text and "\x07" not in text
    for line in texts[0].splitlines():
        assert not re.match(r"^\[\d\d:\d\d:\d\d\] (zz_mallory|forged|graded 1 submission)", line), line
    assert (out / "scores.csv").stat().st_size < 100_000
    assert "  | " in texts[0]   # the spoofer's output is in the log, behind the fence


def test_hidden_inputs_never_reach_the_feedback(batch):
    from autograder.grade import Course, load_assignment, task_inputs

    assignment = load_assignment("fx_tiny", Course(batch["course"], tc.TASKS_DIR))
    x = task_inputs(assignment)["square"]["x"]
    pieces = {f"{v:.6f}" for v in x.ravel()} | {f"{v:.4f}" for v in x.ravel()} | {f"{v:.6f}".replace(".", "_")[:8] for v in x.ravel()}
    out = batch["out"]
    leak_texts = [(out / "feedback" / "leak" / "fx_tiny.html").read_text(), (out / "scores.csv").read_text()]
    for text in leak_texts:
        for piece in pieces:
            assert piece not in text
        assert "record(" not in text and "inputs[" not in text and "f_locals" not in text
    assert "ValueError" in batch["table"][("leak", "square")]["message"]


# ---------------------------------------------------------------- cheap checks, no sandbox


def test_hidden_list_covers_every_course_lib_module_with_a_graded_task():
    """Walk every public name of every importable course_lib module: a graded task's name may only
    be defined in a module of protocol.HIDDEN_MODULES (or below one)."""
    import importlib
    import pkgutil

    import course_lib
    from autograder import tasks as registry

    graded = set(GRADED_NAMES)
    design = graded_names_from_design()     # COURSE_DESIGN.md section 6, where the shared folder exists
    assert design <= graded, design - graded
    for name in registry.available():
        graded |= {t.target for t in registry.load(name).TASKS}
    offenders = []
    for m in pkgutil.walk_packages(course_lib.__path__, "course_lib."):
        if any(m.name == h or m.name.startswith(h + ".") for h in protocol.HIDDEN_MODULES):
            continue
        try:
            mod = importlib.import_module(m.name)
        except Exception:
            continue
        for attr in dir(mod):
            if attr.startswith("_") or attr not in graded:
                continue
            origin = getattr(getattr(mod, attr), "__module__", m.name) or m.name
            if not any(origin == h or origin.startswith(h + ".") for h in protocol.HIDDEN_MODULES):
                offenders.append(f"{m.name}.{attr}")
    assert not offenders, f"course_lib modules that give graded tasks away: {offenders}"


def test_protocol_refuses_oversized_deep_or_malformed_data():
    status = {"setup": None, "cells": [{"ok": True, "error": None}], "tasks": {"square": {"status": "ok", "detail": ""}},
              "times": {"setup": 1.0}}
    body = json.dumps(status).encode()
    frames = protocol.encode_frame("status.json", body) + protocol.encode_frame("square.json", b"{}")
    got = protocol.decode_frames(frames, ["square"])
    assert protocol.valid_status(protocol.loads(got["status.json"], protocol.MAX_STATUS_BYTES), ["square"], 1)
    assert not protocol.valid_status({**status, "extra": 1}, ["square"], 1)
    assert not protocol.valid_status({**status, "tasks": {"square": {"status": "passed!", "detail": ""}}}, ["square"], 1)
    assert not protocol.valid_status({**status, "cells": []}, ["square"], 1)
    assert protocol.loads(b"[" * 100 + b"]" * 100, 10**6) is None
    assert protocol.loads(b"x" * 100, 10) is None
    too_big = protocol.encode_frame("status.json", b" " * (protocol.MAX_STATUS_BYTES + 1))
    assert protocol.decode_frames(too_big, ["square"]) == {}
    assert protocol.decode_frames(protocol.encode_frame("../etc.json", b"{}"), ["square"]) == {}
    # a batch's stream: groups closed by status.json; a fault empties its group and all after it
    sq = protocol.encode_frame("square.json", b"{}")
    st = protocol.encode_frame("status.json", body)
    groups = protocol.decode_frame_groups(sq + st + st + sq + sq + st + st, ["square"], 3)
    assert groups == [{"square.json": b"{}", "status.json": body}, {"status.json": body}, {}]
    assert protocol.decode_frame_groups(st + st + st, ["square"], 2) == [{"status.json": body}] * 2
    meta = {"cell_errors": [], "records": {"y": {"ok": True, "kind": "ndarray", "dtype": "float64", "shape": [5, 3]}},
            "probe_error": None, "missing": False}
    assert protocol.valid_meta(meta)
    assert not protocol.valid_meta({**meta, "records": {"y": {"ok": True, "kind": "ndarray", "dtype": "<f8\n", "shape": [1]}}})
    assert not protocol.valid_meta({**meta, "records": {"y": {"ok": "yes", "error": "x"}}})
    line = protocol.clean_text("a\n[00:00:00] forged\x1b[2J" + "x" * 1000)
    assert "\n" not in line and "\x1b" not in line and len(line) <= protocol.MAX_MESSAGE


# ---------------------------------------------------------------- a killed run loses nothing; deterministic regrades


def _tiny_grade(course, subs, out, cache, *extra):
    return run_grader(["--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR), "grade", "fx_tiny", str(subs),
                       "--out", str(out), "--no-gradebook", "--workers", "1", "--quiet", *extra],
                      env_extra={"AUTOGRADER_CACHE": str(cache)})


def test_a_killed_run_keeps_finished_grades_and_a_rerun_resumes(tmp_path):
    course = tc.make_course(tmp_path / "course")
    subs, out, cache = tmp_path / "subs", tmp_path / "out", tmp_path / "cache"
    tc.write_submission(subs, "a1", tc.student_notebook())
    tc.write_submission(subs, "a2", tc.student_notebook({"square": tc.MUTANTS["square"]["cube"]}))
    tc.write_submission(subs, "z9", tc.student_notebook({"square": "def square(x):\n    while True:\n        pass\n"}))
    env = {"PATH": f"{PY.parent}:/usr/bin:/bin", "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "AUTOGRADER_CACHE": str(cache)}
    proc = subprocess.Popen([str(PY), "-m", "autograder", "--course-root", str(course), "--tasks-dir", str(tc.TASKS_DIR),
                             "grade", "fx_tiny", str(subs), "--out", str(out), "--no-gradebook", "--workers", "1",
                             "--probe-timeout", "120", "--timeout", "300", "--quiet"], env=env, cwd=str(REPO),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline and proc.poll() is None:   # wait until a1 and a2 are written
        text = (out / "scores.csv").read_text() if (out / "scores.csv").exists() else ""
        if "\na2," in text:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    rows = list(csv.DictReader(open(out / "scores.csv")))
    assert {(r["student_id"], r["task"]) for r in rows} == {(s, t) for s in ("a1", "a2") for t in ("square", "row_softmax")}
    shutil.rmtree(subs / "z9")   # the endless loop is fixed for the re-run
    tc.write_submission(subs, "z9", tc.student_notebook())
    rc, output, _ = _tiny_grade(course, subs, out, cache, "--probe-timeout", "120", "--timeout", "300")
    assert rc == 0, output
    log = (out / "grading.log").read_text()
    assert "a1: resumed" in log and "a2: resumed" in log and "z9: 5/5" in log
    table = {(r["student_id"], r["task"]): r["score"] for r in csv.DictReader(open(out / "scores.csv"))}
    assert table[("a1", "square")] == "2.00" and table[("a2", "square")] == "0.00" and table[("z9", "square")] == "2.00"


def test_unseeded_randomness_gets_the_same_grade_on_every_regrade(tmp_path):
    course = tc.make_course(tmp_path / "course")
    subs, cache = tmp_path / "subs", tmp_path / "cache"
    coin = {"numpy_global": "np.random.rand()", "numpy_default_rng": "np.random.default_rng().random()",
            "python_random": "__import__('random').random()", "torch": "float(torch.rand(()))"}
    for sid, draw in coin.items():
        src = f"def square(x):\n    if {draw} < 0.5:\n{RIGHT}{WRONG}"
        softmax = (f"def row_softmax(logits):\n    p = torch.softmax(logits, dim=-1)\n"
                   f"    return p if {draw} < 0.5 else p * 0.5\n")
        tc.write_submission(subs, sid, tc.student_notebook({"square": src, "row_softmax": softmax}))
    texts = []
    for i in range(3):
        rc, output, _ = _tiny_grade(course, subs, tmp_path / f"out{i}", cache, "--workers", "2")
        assert rc == 0, output
        texts.append((tmp_path / f"out{i}" / "scores.csv").read_bytes())
    assert texts[0] == texts[1] == texts[2]


def test_the_log_says_what_holds_without_cgroups(monkeypatch):
    monkeypatch.setattr(sandbox, "_cgroup_parents", lambda: {})
    lines = "\n".join(sandbox.enforcement(sandbox.Limits()))
    assert "watch of their resident memory" in lines and "busy submissions can slow their classmates" in lines
    assert "RLIMIT_NPROC" in lines


def test_grading_refuses_when_the_environments_python_is_outside_the_bound_install(monkeypatch, tmp_path):
    # a user who may not read pyenv's folder gets pyenv's executable with the system's libpython and
    # prefix: the sandbox would bind only that prefix, and the venv's python would not exist inside
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(Path(sys.base_prefix).resolve() / "bin" / "python3")
    elsewhere = tmp_path / "other-install"
    elsewhere.mkdir()
    monkeypatch.setattr(sandbox, "_python_paths", lambda: (venv, elsewhere))
    problem = sandbox.sandbox_problem.__wrapped__()
    assert problem is not None and "lies outside the Python install" in problem
    monkeypatch.setattr(sandbox, "_python_paths", lambda: (venv, Path(sys.base_prefix).resolve()))
    assert sandbox.sandbox_problem.__wrapped__() is None
