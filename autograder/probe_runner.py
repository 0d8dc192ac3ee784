"""The probe: runs INSIDE the sandbox, one process tree per submission. Standalone on purpose.

It imports only the standard library, numpy, torch and the protocol file (autograder/protocol.py,
bound at /grader/protocol.py and loaded by path; the autograder package is not visible in the
sandbox) and trusts nothing the student's code does. Protocol:

- stdin: one JSON job (see autograder/grade.py: `build_job`): the instructor's setup cell, the
  student's answer cells in notebook order, and for each task the probe function's source, its
  target name, the path of its inputs (.npz, written by the judge) and its seed.
- It runs the setup cell in this process, then screens the answer cells in a child process (each
  must finish within `cell_timeout` without killing the process), then runs each task in its own
  forked child: the child executes the answer cells that passed screening, then the task's probe,
  which calls the student's function or class on the judge's inputs and records results. After
  every child, every other process in the sandbox is killed (setsid or double-forked daemons too).
- Results go to the pipe `results_fd` as frames (see protocol.py): `<task>.json` (what each record
  holds, or the error it raised) and `<task>.npz` (plain numeric arrays, no pickle) after each
  task, `status.json` (how each child ended) at the end. Student code never holds that pipe: it is
  closed in every child, and this process is not dumpable, so neither /proc/<pid>/fd nor ptrace
  reaches it. The judge outside re-validates all of it; nothing here is trusted.

Recorded values are converted to arrays with functions captured at import time, before any student
code runs, and only exact built-in types are accepted (numpy arrays and scalars, torch tensors,
bool/int/float, lists/tuples of these): tensor subclasses and objects with a custom __eq__ are
rejected, so monkeypatching numpy or torch cannot change how a result is read. Exceptions are
reported by their type only (a message could carry hidden inputs or the probe's source).
"""
import builtins
import ctypes
import importlib.util
import io
import json
import os
import random
import re
import select
import signal
import sys
import time
import traceback

# ---------------------------------------------------------------- the protocol, then hide modules


def _load_protocol():
    here = os.path.dirname(os.path.abspath(__file__))
    for path in ("/grader/protocol.py", os.path.join(here, "protocol.py")):
        if os.path.isfile(path):
            spec = importlib.util.spec_from_file_location("autograder_protocol", path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise ImportError("protocol.py not found next to the probe runner")


protocol = _load_protocol()
_HIDDEN = tuple(protocol.HIDDEN_MODULES)


class _HiddenModuleFinder:
    """Refuses to import hidden modules (the course's reference implementations) with a clear message."""

    @staticmethod
    def find_spec(fullname, path=None, target=None):
        for name in _HIDDEN:
            if fullname == name or fullname.startswith(name + "."):
                raise ImportError(f"{fullname} is not available during grading: graded tasks must be "
                                  "implemented in the answer cell, not imported from the course's reference code")
        return None


sys.meta_path.insert(0, _HiddenModuleFinder)
if os.path.isdir("/grader/lib"):
    sys.path.insert(0, "/grader/lib")

import numpy as np  # noqa: E402
import torch  # noqa: E402

# ---------------------------------------------------------------- the real API, captured before student code

_type = builtins.type
_isinstance = builtins.isinstance
_callable = builtins.callable
_len = builtins.len
_str = builtins.str
_repr = builtins.repr
_float = builtins.float
_int = builtins.int
_bool = builtins.bool
_open = builtins.open
_list = builtins.list
_tuple = builtins.tuple
_dict = builtins.dict
_range = builtins.range
_enumerate = builtins.enumerate
_exec = builtins.exec
_compile = builtins.compile
_ndarray = np.ndarray
_np_array = np.array
_np_generic = np.generic
_np_savez = np.savez
_np_load = np.load
_np_dtype_object = np.dtype(object)
_Tensor = torch.Tensor
_Parameter = torch.nn.Parameter
_t_detach = torch.Tensor.detach
_t_cpu = torch.Tensor.cpu
_t_numpy = torch.Tensor.numpy
_t_resolve_conj = torch.Tensor.resolve_conj
_t_resolve_neg = torch.Tensor.resolve_neg
_t_contig = torch.Tensor.contiguous
_t_is_sparse = torch.Tensor.is_sparse.__get__
_t_layout = torch.Tensor.layout.__get__
_t_strided = torch.strided
_json_dump = json.dump
_tobytes = np.ndarray.tobytes
_int_to_bytes = int.to_bytes
_BUILTINS_SNAPSHOT = dict(builtins.__dict__)
_os_exit = os._exit
_os_fork = os.fork
_os_kill = os.kill
_os_getpid = os.getpid
_os_replace = os.replace
_os_remove = os.remove
_os_pipe = os.pipe
_os_close = os.close
_os_write = os.write
_os_dup2 = os.dup2
_waitpid = os.waitpid
_time = time.monotonic
_sleep = time.sleep
_scalar_types = (_bool, _int, _float)
_MAX_ERR = protocol.MAX_MESSAGE
_OPTIM = re.compile(r"\boptim\b")
_mro_of = type.__dict__["__mro__"].__get__
_name_of = type.__dict__["__name__"].__get__


def _known_exceptions():
    """id -> (class, name) of the exception classes of Python, numpy and torch, taken before any
    student code runs: only these names are reported, so a class named after hidden data says nothing."""
    import numpy.linalg

    found = {}
    modules = [builtins, np, numpy.linalg, torch]
    for extra in ("numpy.exceptions",):
        mod = sys.modules.get(extra)
        if mod is not None:
            modules.append(mod)
    for mod in modules:
        for name, obj in _list(vars(mod).items()):   # no module __getattr__: nothing imported lazily
            if _isinstance(obj, _type) and issubclass(obj, BaseException) and _len(name) <= 40:
                found[id(obj)] = (obj, name)
    return found


_KNOWN_EXC = _known_exceptions()


_NameError = builtins.NameError
_name_error_name = _NameError.__dict__["name"].__get__
_isidentifier = builtins.str.isidentifier


def _describe_exception(err):
    """The exception's type, never its message (which could carry hidden inputs or the probe's source).
    A NameError also gives the missing name in Python's words, when it is a plain identifier; the judge
    shows it only if the notebook's own code contains that name (grade.explain_name_errors)."""
    t = _type(err)
    entry = _KNOWN_EXC.get(id(t))
    if entry is not None and entry[0] is t:
        if t is _NameError:
            name = _name_error_name(err)
            if _type(name) is _str and _len(name) <= 64 and _isidentifier(name):
                return f"NameError: name '{name}' is not defined"
        return entry[1]
    try:
        for base in _mro_of(t):
            entry = _KNOWN_EXC.get(id(base))
            if entry is not None and entry[0] is base:
                return f"an exception derived from {entry[1]}"
    except BaseException:
        pass
    return "an exception of its own class"


def _fail(message):
    return {"ok": False, "error": message[:_MAX_ERR]}


def to_array(value, key, arrays, depth=0):
    """Strictly convert `value` to plain arrays in `arrays`; return its JSON description."""
    t = _type(value)
    if value is None:
        return {"ok": True, "kind": "none"}
    if t is _bool or t is _int or t is _float:
        arr = _np_array(value)
        arrays[key] = arr
        return {"ok": True, "kind": "python_" + t.__name__, "dtype": _str(arr.dtype), "shape": []}
    if t is _ndarray:
        if value.dtype == _np_dtype_object or value.dtype.kind not in "biufc":
            return _fail(f"returned a numpy array of dtype {value.dtype}; expected numbers")
        arrays[key] = _np_array(value, copy=True)
        return {"ok": True, "kind": "ndarray", "dtype": _str(value.dtype), "shape": _list(value.shape)}
    if _isinstance(value, _np_generic) and t.__module__ == "numpy":
        arr = _np_array(value)
        if arr.dtype.kind not in "biufc":
            return _fail(f"returned a numpy scalar of type {t.__name__}; expected a number")
        arrays[key] = arr
        return {"ok": True, "kind": "numpy_scalar", "dtype": _str(arr.dtype), "shape": []}
    if t is _Tensor or t is _Parameter:
        if _t_is_sparse(value) or _t_layout(value) is not _t_strided:
            return _fail("returned a sparse or non-strided tensor; expected a dense tensor")
        plain = _t_contig(_t_resolve_neg(_t_resolve_conj(_t_cpu(_t_detach(value)))))
        arr = _np_array(_t_numpy(plain), copy=True)
        arrays[key] = arr
        return {"ok": True, "kind": "tensor", "dtype": _str(value.dtype).replace("torch.", ""),
                "shape": _list(arr.shape)}
    if (t is _list or t is _tuple) and depth < 2:
        if _len(value) > 64:
            return _fail(f"returned a {t.__name__} of {_len(value)} items; expected a short list")
        items = [to_array(v, f"{key}/{i}", arrays, depth + 1) for i, v in _enumerate(value)]
        return {"ok": True, "kind": t.__name__, "items": items}
    if _isinstance(value, _Tensor):
        return _fail(f"returned an object of type {t.__name__}, a subclass of torch.Tensor; "
                     "return a plain torch.Tensor")
    if _isinstance(value, _ndarray):
        return _fail(f"returned an object of type {t.__name__}, a subclass of numpy.ndarray; "
                     "return a plain numpy array")
    return _fail(f"returned an object of type {t.__name__}; expected an array, tensor or number")


class Recorder:
    """`record(key, thunk)`: call thunk() (or take a value), convert strictly, remember errors."""

    def __init__(self):
        self.arrays = {}
        self.meta = {}

    def __call__(self, key, thunk):
        key = _str(key)
        try:
            value = thunk() if _callable(thunk) else thunk
        except BaseException as err:  # SystemExit and KeyboardInterrupt too: one record, one error
            self.meta[key] = _fail(_describe_exception(err))
            return None
        try:
            self.meta[key] = to_array(value, key, self.arrays)
        except BaseException as err:
            self.meta[key] = _fail("could not read the returned value: " + _describe_exception(err))
        return value


# ---------------------------------------------------------------- child processes


# ---------------------------------------------------------------- this process, kept out of the students' reach

_RESULTS_FD = None      # the pipe to the judge (closed in every child)
_SANDBOXED = False      # in the sandbox's own pid namespace: every other process belongs to the submission
_OOM_EVENTS = None      # the memory cgroup's event counter, bound read-only by the grader


def _not_dumpable():
    """No ptrace and no /proc/<pid>/fd for processes of the same uid: the student's children cannot
    reach this process's memory or its results pipe."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE, 0
    except (OSError, AttributeError):
        pass


def _oom_count():
    if not _OOM_EVENTS:
        return 0
    try:
        with _open(_OOM_EVENTS) as fh:
            for line in fh.read().splitlines():
                if line.startswith("oom_kill "):
                    return _int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _kill_group(pid):
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _sweep():
    """Kill every other process of the submission (in the sandbox: everything in this pid namespace
    but its init and this process, setsid and double-forked daemons included) and reap ours."""
    if not _SANDBOXED:
        return
    me = _os_getpid()
    for _ in _range(400):
        try:
            _os_kill(-1, signal.SIGKILL)      # every process we may signal in this namespace, except init and us
        except (ProcessLookupError, PermissionError):
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            pass
        if not [n for n in os.listdir("/proc") if n.isdigit() and _int(n) not in (1, me)]:
            return
        _sleep(0.005)


def _in_child():
    """First thing in every forked child: drop the results pipe, start a process group."""
    os.setpgid(0, 0)
    if _RESULTS_FD is not None:
        _os_close(_RESULTS_FD)


def _seed_everything(seed):
    """Fixed seeds for Python's random, numpy's global generator, numpy's default_rng() without a
    seed, and torch, so a submission that draws unseeded numbers gets the same grade on every regrade."""
    seed = _int(seed) % 2**32
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    sequence = np.random.SeedSequence(seed)
    original = np.random.default_rng

    def default_rng(seed=None):
        return original(sequence.spawn(1)[0] if seed is None else seed)

    np.random.default_rng = default_rng


def _restore_builtins():
    """Undo changes to the builtins module (isinstance, type, open...) made by student cells."""
    d = builtins.__dict__
    d.clear()
    d.update(_BUILTINS_SNAPSHOT)


MAX_RESULT_BYTES = protocol.MAX_NPZ_BYTES + protocol.MAX_META_BYTES


def _death(status, oom_before):
    """How a child ended, when it did not exit normally: (state, detail) or None."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGKILL and _oom_count() > oom_before:
            return "memory_limit", "the submission went over its memory limit and the process was killed"
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = _str(sig)
        hint = {"SIGSEGV": " (a segmentation fault)", "SIGKILL": " (killed)",
                "SIGXCPU": " (CPU time limit)", "SIGXFSZ": " (file size limit)"}.get(name, "")
        return "crashed", f"the process was killed by {name}{hint}"
    code = os.WEXITSTATUS(status)
    if code != 0:
        return "crashed", f"the process exited with code {code} (os._exit or a fatal error)"
    return None


def _fork_in_group(fn):
    """Fork a child in a process group of its own that runs fn(write_fd) and exits (3 if fn raised).
    Returns (its pid, the pipe's read end)."""
    read_fd, write_fd = _os_pipe()
    pid = _os_fork()
    if pid == 0:
        code = 0
        try:
            _in_child()
            _os_close(read_fd)
            fn(write_fd)
        except BaseException:
            code = 3
        _os_exit(code)
    _os_close(write_fd)
    try:
        os.setpgid(pid, pid)
    except OSError:
        pass
    return pid, read_fd


def _child_run(fn, timeout):
    """Fork; run fn(write_fd) in the child. The child sends its results through the pipe; this
    (clean) process collects them, then kills whatever the child left behind. Returns (status,
    detail, payload bytes)."""
    oom_before = _oom_count()

    def child(write_fd):
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        fn(write_fd)

    pid, read_fd = _fork_in_group(child)
    deadline = _time() + timeout
    chunks, size, eof, status = [], 0, False, None
    while True:
        if not eof:
            r, _, _ = select.select([read_fd], [], [], 0.01)
            if r:
                chunk = os.read(read_fd, 1 << 20)
                if not chunk:
                    eof = True
                elif size < MAX_RESULT_BYTES:
                    chunks.append(chunk)
                    size += len(chunk)
        else:
            _sleep(0.005)
        done, st = _waitpid(pid, os.WNOHANG)
        if done:
            status = st
            break
        if _time() > deadline:
            _kill_group(pid)
            try:
                _os_kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _waitpid(pid, 0)
            _os_close(read_fd)
            _sweep()
            return "timeout", f"did not finish within {timeout:g} s", b""
    # the child has exited: kill what it left behind, then drain what it wrote
    _kill_group(pid)
    _sweep()
    while not eof:
        r, _, _ = select.select([read_fd], [], [], 0.2)
        if not r:
            break
        chunk = os.read(read_fd, 1 << 20)
        if not chunk:
            break
        if size < MAX_RESULT_BYTES:
            chunks.append(chunk)
            size += len(chunk)
    _os_close(read_fd)
    death = _death(status, oom_before)
    if death:
        return death[0], death[1], b""
    if size >= MAX_RESULT_BYTES:
        return "crashed", "the task's results were larger than the grader accepts", b""
    return "ok", "", b"".join(chunks)


def _send(fd, data):
    _os_write_all(fd, _int_to_bytes(_len(data), 8, "little"))
    _os_write_all(fd, data)


def _os_write_all(fd, data):
    view = memoryview(data)
    while _len(view):
        n = _os_write(fd, view)
        view = view[n:]


def _decode_payload(payload):
    """Parse what a task child sent (in this clean process): meta, then (header, bytes) per array."""
    import ast

    parts, pos = [], 0
    while pos + 8 <= len(payload):
        n = int.from_bytes(payload[pos:pos + 8], "little")
        pos += 8
        if n < 0 or pos + n > len(payload):
            raise ValueError("truncated results")
        parts.append(payload[pos:pos + n])
        pos += n
    if not parts or len(parts) % 2 != 1:
        raise ValueError("malformed results")
    meta = ast.literal_eval(parts[0].decode("utf-8"))
    arrays = {}
    for head, data in zip(parts[1::2], parts[2::2]):
        key, dstr, shape = ast.literal_eval(head.decode("utf-8"))
        dtype = np.dtype(dstr)
        if dtype.kind not in "biufc":
            raise ValueError("non-numeric array")
        arrays[str(key)] = np.frombuffer(data, dtype=dtype).reshape(tuple(int(v) for v in shape)).copy()
    if not isinstance(meta, dict):
        raise ValueError("malformed results")
    return meta, arrays


def _exec_cell(source, ns, label):
    # Cells arrive as Python: the judge turned them into code with IPython's own input transformer.
    code = _compile(source, label, "exec")
    _exec(code, ns)


def _screen_cells(cells, setup_ns, cell_timeout, seed=0):
    """Which answer cells run to completion without hanging or killing their process.

    A child executes the cells in order and reports "S i" (started) and "E i" / "X i" (ended, or
    raised) on a pipe. A cell that hangs past `cell_timeout`, or during which the child dies, is
    marked bad, and screening restarts after it.
    """
    verdicts = [None] * _len(cells)
    start = 0
    while start < _len(cells):
        oom_before = _oom_count()

        def run_cells(write_fd, start=start):
            _seed_everything(seed)
            ns = _dict(setup_ns)
            for i in _range(start, _len(cells)):
                _os_write(write_fd, f"S{i}\n".encode())
                try:
                    _exec_cell(cells[i]["source"], ns, f"<answer cell {cells[i]['task']}>")
                    _os_write(write_fd, f"E{i}\n".encode())
                except BaseException as err:
                    _os_write(write_fd, f"X{i} {_describe_exception(err)}\n".encode()[:_MAX_ERR])

        pid, read_fd = _fork_in_group(run_cells)
        buf, current, started, timed_out, reaped = b"", None, _time(), False, False

        def parse(data):
            nonlocal current, started
            for line in data.split(b"\n"):
                text = line.decode(errors="replace")
                try:
                    kind, idx = text[0], _int(text[1:].split(" ", 1)[0])
                except (ValueError, IndexError):
                    continue
                if not start <= idx < _len(cells):
                    continue
                if kind == "S":
                    current, started = idx, _time()
                elif kind in "EX" and idx == current:
                    verdicts[idx] = {"ok": True, "error": text.split(" ", 1)[1][:80] if kind == "X" and " " in text else None}
                    current = None

        while True:
            r, _, _ = select.select([read_fd], [], [], 0.05)
            if r:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                buf += chunk
                if b"\n" in buf:
                    complete, buf = buf.rsplit(b"\n", 1)
                    parse(complete)
                buf = buf[-4096:]          # a cell writing into this pipe cannot grow it
                continue
            if current is not None and _time() - started > cell_timeout:
                timed_out = True
                break
            done, _ = _waitpid(pid, os.WNOHANG)
            if done:
                reaped = True
                while select.select([read_fd], [], [], 0)[0]:
                    chunk = os.read(read_fd, 65536)
                    if not chunk:
                        break
                    buf += chunk
                parse(buf)
                break
        _os_close(read_fd)
        _kill_group(pid)
        if not reaped:
            try:
                _os_kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            _waitpid(pid, 0)
        _sweep()
        died_of_memory = _oom_count() > oom_before
        bad = current if current is not None else next(
            (i for i in _range(start, _len(cells)) if verdicts[i] is None), None)
        if bad is None:
            break
        if timed_out:
            verdicts[bad] = {"ok": False, "status": "timeout",
                             "error": f"the answer cell did not finish within {cell_timeout:g} s (an endless loop at top level?)"}
        elif died_of_memory:
            verdicts[bad] = {"ok": False, "status": "memory_limit",
                             "error": "running the answer cell went over the submission's memory limit"}
        else:
            verdicts[bad] = {"ok": False, "status": "crashed",
                             "error": "running the answer cell killed the process (os._exit, a segmentation fault or the memory limit)"}
        start = bad + 1
    return verdicts


def _run_task(task, cells, verdicts, setup_ns, inputs, threads, wfd):
    """In a forked child: execute the good answer cells, then the task's probe; send the results."""
    torch.set_num_threads(threads)
    _seed_everything(task.get("seed", 0))
    ns = _dict(setup_ns)
    own_errors = []
    for i, cell in _enumerate(cells):
        if not verdicts[i]["ok"]:
            continue
        try:
            _exec_cell(cell["source"], ns, f"<answer cell {cell['task']}>")
        except BaseException as err:
            if cell["task"] == task["name"] and _len(own_errors) < protocol.MAX_ERRORS:
                own_errors.append(_describe_exception(err))
    _restore_builtins()
    record = Recorder()
    meta = {"cell_errors": own_errors, "records": record.meta, "probe_error": None, "missing": False}
    target = task["target"]
    if target not in ns:
        meta["missing"] = True
    else:
        probe_ns = {"np": np, "torch": torch, "__name__": "probe", "__builtins__": builtins}
        try:
            _exec_cell(task["probe_source"], probe_ns, f"<probe {task['name']}>")
            probe = probe_ns[task["probe_name"]]
            probe(ns[target], inputs, record)
        except BaseException as err:
            meta["probe_error"] = _describe_exception(err)
    _restore_builtins()
    _send(wfd, _repr(meta).encode("utf-8"))
    for key, arr in _list(record.arrays.items()):
        _send(wfd, _repr((key, arr.dtype.str, _tuple(arr.shape))).encode("utf-8"))
        _send(wfd, _tobytes(arr))


def _emit(name, body):
    if _RESULTS_FD is not None:
        _os_write_all(_RESULTS_FD, protocol.encode_frame(name, body))


def _send_results(name, payload):
    """Decode what a task's child sent (in this clean process), check it against the protocol and
    send it to the judge. Raises ValueError when it does not fit."""
    meta, arrays = _decode_payload(payload)
    if not protocol.valid_meta(meta) or _len(arrays) > protocol.MAX_ARRAYS:
        raise ValueError("results outside the protocol")
    buf = io.BytesIO()
    _np_savez(buf, **{k.replace("/", "__"): v for k, v in arrays.items()})
    npz = buf.getvalue()
    text = json.dumps(meta).encode("utf-8")
    if _len(npz) > protocol.MAX_NPZ_BYTES or _len(text) > protocol.MAX_META_BYTES:
        raise ValueError("results too large")
    _emit(f"{name}.npz", npz)
    _emit(f"{name}.json", text)


def _warm_up(optimizers):
    """Pay torch's one-time costs before forking, so that they are paid once per submission and not in
    every task's child (inside its time limit): the first backward pass and, where the job's code names
    torch.optim (`optimizers`), the optimizers' first use, which imports torch._dynamo (about 2.5 CPU s,
    so it is not paid where nothing needs it). Code that reaches an optimizer without naming it pays
    that in its own child."""
    try:
        layer = torch.nn.Linear(2, 2)
        layer(torch.zeros(1, 2)).sum().backward()
        if optimizers:
            for opt in (torch.optim.Adam(layer.parameters(), lr=0.1), torch.optim.SGD(layer.parameters(), lr=0.1)):
                opt.zero_grad()
                layer(torch.zeros(1, 2)).sum().backward()
                opt.step()
    except Exception:
        pass


def _names_optimizers(job):
    """Whether the setup cell, an answer cell (of any submission of a batch) or a probe names torch.optim."""
    sources = [job.get("setup") or ""] + [t["probe_source"] for t in job["tasks"]]
    for entry in job.get("batch") or [{"cells": job["cells"]}]:
        sources += [c["source"] for c in entry["cells"]]
    return any(_OPTIM.search(s) for s in sources)


def main():
    global _RESULTS_FD, _SANDBOXED, _OOM_EVENTS
    job = json.loads(sys.stdin.read())
    _RESULTS_FD = _int(job["results_fd"])
    _SANDBOXED = job.get("sandboxed") is True
    _OOM_EVENTS = job.get("oom_events")
    if _SANDBOXED:   # nothing inherited but stdio and the results pipe
        os.closerange(3, _RESULTS_FD)
        os.closerange(_RESULTS_FD + 1, 65536)
    elif job.get("lib"):
        sys.path.insert(0, job["lib"])
    _not_dumpable()
    threads = _int(job.get("threads", 1))
    torch.set_num_threads(threads)
    t0 = _time()
    # Inputs are read before any student code runs.
    inputs = {}
    for task in job["tasks"]:
        with _np_load(task["inputs"], allow_pickle=False) as data:
            inputs[task["name"]] = {k: _np_array(data[k]) for k in data.files}
    setup_ns = {"__name__": "__main__", "__builtins__": builtins}
    setup_error = None
    try:
        _exec_cell(job["setup"], setup_ns, "<setup cell>")
    except BaseException as err:
        setup_error = _describe_exception(err)
    _warm_up(_names_optimizers(job))
    setup_s = round(_time() - t0, 3)
    # A batch (the instructor's `check` of trusted mutants only): several submissions, one after the
    # other, in this one process; each one's cells and probes run in forked children, as for one.
    batch = job.get("batch") or [{"cells": job["cells"], "seed": job.get("seed", 0), "task_seeds": None}]
    for entry in batch:
        tasks = [t if entry["task_seeds"] is None else {**t, "seed": entry["task_seeds"][t["name"]]}
                 for t in job["tasks"]]
        _grade_one(entry["cells"], tasks, entry["seed"], job, setup_ns, setup_error, setup_s, inputs, threads)
    _os_close(_RESULTS_FD)


def _grade_one(cells, tasks, seed, job, setup_ns, setup_error, setup_s, inputs, threads):
    """Screen one submission's answer cells, run each task's probe, send its frames and status.json."""
    status = {"setup": setup_error, "cells": None, "tasks": {}, "times": {"setup": setup_s}}
    t0 = _time()
    verdicts = _screen_cells(cells, setup_ns, _float(job.get("cell_timeout", 10)), seed)
    status["cells"] = verdicts
    status["times"]["screen"] = round(_time() - t0, 3)
    for task in tasks:
        shown = task.get("display_of")
        if shown is not None and status["tasks"].get(shown, {}).get("status") != "ok":
            continue   # the figures of a task whose graded probe did not finish: not worth its time
        own = [i for i, c in _enumerate(cells) if c["task"] == task["name"]]
        bad = [verdicts[i] for i in own if not verdicts[i]["ok"]]
        if bad:
            status["tasks"][task["name"]] = {"status": bad[0]["status"], "detail": bad[0]["error"]}
            continue
        t0 = _time()
        state, detail, payload = _child_run(
            lambda wfd, t=task: _run_task(t, cells, verdicts, setup_ns, inputs[t["name"]], threads, wfd),
            _float(task.get("timeout", 60)))
        if state == "ok":
            try:
                _send_results(task["name"], payload)
            except (OSError, BrokenPipeError):
                raise
            except Exception:
                state, detail = "crashed", ("the task's results were missing, unreadable or too large (did the "
                                            "process exit early, e.g. by os._exit?)")
        status["tasks"][task["name"]] = {"status": state, "detail": detail}
        status["times"][task["name"]] = round(_time() - t0, 3)
        sys.stdout.flush()
        sys.stderr.flush()
    _emit("status.json", json.dumps(status).encode("utf-8"))


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        traceback.print_exc()
        _os_exit(2)
