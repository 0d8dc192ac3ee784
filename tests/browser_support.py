"""Helpers for the real-browser tests: a JupyterLab server in a temporary copy of the course, and
Debian's Chromium driven by Playwright (never a browser Playwright downloads itself)."""
from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-quic"]
_IGNORE = shutil.ignore_patterns(".venv", ".git", "_build", "dist", "grading", "demo", "__pycache__",
                                 ".pytest_cache", "gradebook.db", ".ipynb_checkpoints", "*.egg-info")


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install -y chromium; .ci/run installs it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (it is in the dev extra: make setup)"
    return None


def venv_env() -> dict:
    """The environment with this Python's bin folder first on PATH (nbgrader runs `alembic` by name)."""
    bin_dir = str(Path(sys.executable).parent)
    return dict(os.environ, PATH=bin_dir + os.pathsep + os.environ.get("PATH", ""))


def copy_course(dest: Path) -> Path:
    """A throw-away copy of the course, so the tests never touch the working tree or its gradebook."""
    shutil.copytree(ROOT, dest, ignore=_IGNORE)
    return dest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LabServer:
    root: Path
    port: int
    token: str
    process: subprocess.Popen
    log: Path

    def url(self, path: str = "lab") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path}{sep}token={self.token}"

    def shutdown_kernels(self) -> None:
        """End every session and kernel, so one test's notebook neither slows down the next nor
        leaves it a session whose kernel is gone."""
        import json

        for kind in ("sessions", "kernels"):  # deleting a session stops its kernel; then any left over
            with urllib.request.urlopen(self.url(f"api/{kind}"), timeout=30) as r:
                for item in json.load(r):
                    req = urllib.request.Request(self.url(f"api/{kind}/{item['id']}"), method="DELETE")
                    try:
                        urllib.request.urlopen(req, timeout=60).close()
                    except urllib.error.HTTPError as err:
                        if err.code != 404:  # already gone with its session
                            raise

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_lab(root: Path, runtime: Path, timeout: float = 120.0) -> LabServer:
    """Start JupyterLab on a free loopback port with a random token, from the course root (where
    nbgrader finds nbgrader_config.py), and wait until it answers."""
    port, token = free_port(), secrets.token_hex(16)
    runtime.mkdir(parents=True, exist_ok=True)
    # Render every cell (no windowing), so the tests see all prompts and outputs of a notebook.
    settings = runtime / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    env = dict(venv_env(), JUPYTER_RUNTIME_DIR=str(runtime / "runtime"),
               JUPYTERLAB_WORKSPACES_DIR=str(runtime / "workspaces"),
               JUPYTERLAB_SETTINGS_DIR=str(runtime / "settings"))
    # Kernels start from the course's kernel spec (conftest.py puts it on JUPYTER_PATH), with the same
    # thread policy as the notebook tests.
    env.pop("MPLBACKEND", None)  # the test suite sets Agg; kernels in the browser draw inline
    jupyter = Path(sys.executable).parent / "jupyter"
    cmd = [str(jupyter), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.token={token}",
           f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False", "--LabApp.news_url=None"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # CI runs as root
    log = runtime / "jupyterlab.log"
    process = subprocess.Popen(cmd, cwd=root, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with code {process.returncode}; see {log}")
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2)
            return LabServer(root, port, token, process, log)
        except OSError:
            time.sleep(0.5)
    process.kill()
    raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s; see {log}")
