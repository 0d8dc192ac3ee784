"""`make setup`'s JupyterLab step (scripts/setup_lab.py) and the course's kernel (course_lib.kernel):
kernels started from the installed spec wait passively and use half the cores, unless the user's
environment says otherwise."""
import json
import os
import runpy
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from course_lib.kernel import kernel_spec, thread_policy

ROOT = Path(__file__).resolve().parents[1]
SHOW_THREADS = ("import os, torch\n"
                "print(os.environ.get('OMP_WAIT_POLICY'), os.environ.get('OMP_NUM_THREADS'), torch.get_num_threads())")


@pytest.mark.parametrize("cores, threads", [(1, "1"), (2, "1"), (3, "1"), (8, "4"), (16, "8")])
def test_thread_policy_is_passive_with_half_the_cores(cores, threads):
    assert thread_policy(cores) == {"OMP_WAIT_POLICY": "PASSIVE", "OMP_NUM_THREADS": threads}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """scripts/setup_lab.py run against a fresh prefix that already has a JupyterLab setting of its own."""
    prefix = tmp_path_factory.mktemp("prefix")
    overrides = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    overrides.parent.mkdir(parents=True)
    overrides.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}))
    runpy.run_path(str(ROOT / "scripts" / "setup_lab.py"))["main"](prefix)
    return prefix / "share" / "jupyter"


def test_setup_installs_the_course_kernel_and_keeps_other_settings(installed):
    assert json.loads((installed / "kernels" / "python3" / "kernel.json").read_text()) == kernel_spec()
    settings = json.loads((installed / "lab" / "settings" / "overrides.json").read_text())
    assert settings["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "JupyterLab Dark"}


def _kernel_threads(env: dict) -> list[str]:
    km, kc = start_new_kernel(kernel_name="python3", env=env, startup_timeout=240)
    try:
        out = []
        reply = kc.execute_interactive(SHOW_THREADS, timeout=240, output_hook=lambda m: out.append(
            m["content"].get("text", "") if m["msg_type"] == "stream" else ""))
        assert reply["content"]["status"] == "ok", reply["content"]
        return "".join(out).split()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


ALL_CORES = str(len(os.sched_getaffinity(0)))


@pytest.mark.parametrize("user_threads", [None, ALL_CORES], ids=["course default", "user asks for all cores"])
def test_installed_kernel_runs_with_the_policy_unless_the_user_sets_threads(installed, monkeypatch, user_threads):
    monkeypatch.setenv("JUPYTER_PATH", str(installed))  # only the spec setup_lab.py wrote
    env = {k: v for k, v in os.environ.items() if not k.startswith("OMP_")}
    if user_threads:
        env["OMP_NUM_THREADS"] = user_threads  # as in `OMP_NUM_THREADS=8 make lab`
    threads = user_threads or thread_policy()["OMP_NUM_THREADS"]
    assert _kernel_threads(env) == ["PASSIVE", threads, threads]
