"""The runner/judge protocol in one place: what the sandbox may send back, how big, in what shape.

Standard library only: the probe runner loads this file by path inside the sandbox (it cannot import
the autograder package there), and the judge imports it as `autograder.protocol`.

The runner sends everything on one pipe (`results_fd` in the job), as frames:
`NAME_LEN (2 bytes) NAME BODY_LEN (8 bytes) BODY`, little-endian. Names are `status.json`,
`<task>.json` (the task's records) and `<task>.npz` (its arrays). The judge reads at most
`MAX_STREAM_BYTES` from the pipe (the rest is drained and dropped), refuses unknown or repeated
names and frames over their cap, parses JSON only after a depth check, and validates every parsed
object against the schemas below; anything that does not fit is dropped as if missing. Every
string that reaches a report is cut to `MAX_MESSAGE` characters and escaped (`clean_text`).
"""
from __future__ import annotations

import json
import re

# ---------------------------------------------------------------- what a submission may not import

# Every course_lib module that implements a graded task. The sandbox replaces each with an empty
# folder or file (and hides course_lib's bytecode cache), and the runner's import hook refuses them
# with a clear message. tests/test_autograder_security.py walks course_lib to keep this list complete.
HIDDEN_MODULES = ("course_lib.models", "course_lib.receptive_field")

# ---------------------------------------------------------------- sizes

MAX_MESSAGE = 300                   # characters of any message kept in scores.csv, feedback and the log
MAX_STREAM_BYTES = 96 * 2**20       # everything the runner sends back for one submission
MAX_STATUS_BYTES = 256 * 2**10      # status.json
MAX_META_BYTES = 1 * 2**20          # one task's records (<task>.json)
MAX_NPZ_BYTES = 64 * 2**20          # one task's arrays (<task>.npz), and what it may inflate to: 4x
MAX_ARRAYS = 4096                   # arrays in one task's .npz
MAX_RECORDS = 512                   # records per task
MAX_KEY = 64                        # characters of a record key
MAX_ITEMS = 64                      # items of a returned list/tuple
MAX_LIST_DEPTH = 2                  # nesting of returned lists
MAX_JSON_DEPTH = 12                 # nesting of any JSON document from the sandbox
MAX_CELLS = 200                     # answer cells in a job
MAX_ERRORS = 8                      # cell errors kept per task
MAX_OUTPUT_KEPT = 64 * 2**10        # bytes of the sandbox's stdout+stderr kept for the log

# ---------------------------------------------------------------- statuses

TASK_STATES = ("ok", "timeout", "crashed", "memory_limit")   # how a task's child ended (status.json)
CELL_STATES = ("timeout", "crashed", "memory_limit")          # why screening rejected an answer cell
KINDS = ("none", "python_bool", "python_int", "python_float", "ndarray", "numpy_scalar", "tensor",
         "list", "tuple")
_DTYPE = re.compile(r"^[a-z0-9]{1,16}$")
_TASK_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def task_name_ok(name) -> bool:
    return isinstance(name, str) and bool(_TASK_NAME.match(name))


# ---------------------------------------------------------------- frames


def encode_frame(name: str, body: bytes) -> bytes:
    raw = name.encode("ascii")
    return len(raw).to_bytes(2, "little") + raw + len(body).to_bytes(8, "little") + body


def frame_cap(name: str) -> int:
    if name == "status.json":
        return MAX_STATUS_BYTES
    if name.endswith(".json"):
        return MAX_META_BYTES
    return MAX_NPZ_BYTES


def _frames(data: bytes, task_names):
    """(name, body) of each frame in order; stops at the first malformed, unknown or oversized one."""
    allowed = {"status.json"} | {f"{t}.json" for t in task_names} | {f"{t}.npz" for t in task_names}
    pos = 0
    while pos + 2 <= len(data):
        n = int.from_bytes(data[pos:pos + 2], "little")
        name = data[pos + 2:pos + 2 + n].decode("ascii", errors="replace")
        pos += 2 + n
        if pos + 8 > len(data):
            return
        size = int.from_bytes(data[pos:pos + 8], "little")
        pos += 8
        if name not in allowed or size > frame_cap(name) or pos + size > len(data):
            return
        yield name, data[pos:pos + size]
        pos += size


def decode_frames(data: bytes, task_names) -> dict[str, bytes]:
    """Split the stream into {name: body}; a malformed stream yields the frames before the fault."""
    out = {}
    for name, body in _frames(data, task_names):
        if name in out:
            break
        out[name] = body
    return out


def decode_frame_groups(data: bytes, task_names, count: int) -> list[dict[str, bytes]]:
    """A batch's stream: `count` submissions' frames one after the other, each group closed by its
    status.json. Always `count` dicts; a group cut short by a fault, and all after it, stay empty."""
    groups, current = [], {}
    for name, body in _frames(data, task_names):
        if name in current or len(groups) == count:
            break
        current[name] = body
        if name == "status.json":
            groups.append(current)
            current = {}
    return groups + [{} for _ in range(count - len(groups))]


# ---------------------------------------------------------------- JSON, after a depth check


def _depth_ok(text: str, limit: int) -> bool:
    depth, in_str, escape = 0, False, False
    for ch in text:
        if in_str:
            if escape:
                escape = False
            elif ch == "\\":
                escape = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def loads(body: bytes, cap: int):
    """Parse untrusted JSON: None unless it is at most `cap` bytes of UTF-8 nested at most MAX_JSON_DEPTH."""
    if not isinstance(body, (bytes, bytearray)) or len(body) > cap:
        return None
    try:
        text = bytes(body).decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not _depth_ok(text, MAX_JSON_DEPTH):
        return None
    try:
        return json.loads(text, parse_constant=lambda c: None)
    except (ValueError, RecursionError):
        return None


# ---------------------------------------------------------------- schemas (strict: exact keys and types)


def _is_str(x, limit=MAX_MESSAGE * 4):
    return isinstance(x, str) and len(x) <= limit


def _is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def valid_status(obj, task_names, n_cells) -> bool:
    """status.json: {"setup": str|None, "cells": [n_cells verdicts], "tasks": {task: {"status", "detail"}},
    "times": {name: seconds}}."""
    if not isinstance(obj, dict) or set(obj) != {"setup", "cells", "tasks", "times"}:
        return False
    if obj["setup"] is not None and not _is_str(obj["setup"]):
        return False
    cells = obj["cells"]
    if not isinstance(cells, list) or len(cells) != n_cells:
        return False
    for v in cells:
        if not isinstance(v, dict) or not isinstance(v.get("ok"), bool):
            return False
        if v["ok"]:
            if set(v) != {"ok", "error"} or not (v["error"] is None or _is_str(v["error"])):
                return False
        elif set(v) != {"ok", "status", "error"} or v["status"] not in CELL_STATES or not _is_str(v["error"]):
            return False
    tasks = obj["tasks"]
    if not isinstance(tasks, dict) or not set(tasks) <= set(task_names):
        return False
    for st in tasks.values():
        if not isinstance(st, dict) or set(st) != {"status", "detail"}:
            return False
        if st["status"] not in TASK_STATES + CELL_STATES or not _is_str(st["detail"]):
            return False
    times = obj["times"]
    if not isinstance(times, dict) or len(times) > len(task_names) + 2:
        return False
    return all(_is_str(k, 64) and _is_num(v) for k, v in times.items())


def _valid_entry(e, depth=0) -> bool:
    if not isinstance(e, dict) or not isinstance(e.get("ok"), bool):
        return False
    if not e["ok"]:
        return set(e) == {"ok", "error"} and _is_str(e["error"])
    kind = e.get("kind")
    if kind not in KINDS:
        return False
    if kind == "none":
        return set(e) == {"ok", "kind"}
    if kind in ("list", "tuple"):
        items = e.get("items")
        return (set(e) == {"ok", "kind", "items"} and depth < MAX_LIST_DEPTH and isinstance(items, list)
                and len(items) <= MAX_ITEMS and all(_valid_entry(i, depth + 1) for i in items))
    shape = e.get("shape")
    return (set(e) == {"ok", "kind", "dtype", "shape"} and isinstance(e["dtype"], str) and bool(_DTYPE.match(e["dtype"]))
            and isinstance(shape, list) and len(shape) <= 32
            and all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < 2**40 for s in shape))


def valid_meta(obj) -> bool:
    """<task>.json: {"cell_errors": [str], "records": {key: entry}, "probe_error": str|None, "missing": bool}."""
    if not isinstance(obj, dict) or set(obj) != {"cell_errors", "records", "probe_error", "missing"}:
        return False
    if not isinstance(obj["missing"], bool):
        return False
    if obj["probe_error"] is not None and not _is_str(obj["probe_error"]):
        return False
    errs = obj["cell_errors"]
    if not isinstance(errs, list) or len(errs) > MAX_ERRORS or not all(_is_str(e) for e in errs):
        return False
    recs = obj["records"]
    if not isinstance(recs, dict) or len(recs) > MAX_RECORDS:
        return False
    return all(_is_str(k, MAX_KEY) and _valid_entry(v) for k, v in recs.items())


# ---------------------------------------------------------------- text from the sandbox

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def escape_text(text: str) -> str:
    """Control characters (terminal escapes, carriage returns, bidi overrides) as visible \\xNN codes."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256 else f"\\u{ord(m.group()):04x}",
                        text)


def clean_text(text, limit: int = MAX_MESSAGE) -> str:
    """One line of at most `limit` characters, no control characters: safe in a CSV cell, a log line
    and (after HTML escaping) a page."""
    text = text if isinstance(text, str) else str(text)
    text = escape_text(text.replace("\r\n", "\n").replace("\n", " ").replace("\t", " "))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def fence(output: str, prefix: str = "  | ") -> str:
    """Student output for the log: every line escaped and behind a prefix, so none can look like the
    grader's own lines."""
    return "\n".join(prefix + escape_text(line.replace("\t", "    ")) for line in output.split("\n"))
