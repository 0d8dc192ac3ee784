"""One-time JupyterLab set-up of the course's environment (run by `make setup`).

- Turns off the "Jupyter news" notification, which would try to reach the network, and the check for
  updates: `share/jupyter/lab/settings/overrides.json`.
- Installs the course's `python3` kernel (`course_lib.kernel`: passive OpenMP waiting, half the
  cores), so that two notebooks at once do not fight over the CPU: `share/jupyter/kernels/python3/`.

Both go inside the environment that runs this script (`sys.prefix`, the course's .venv).
"""
import json
import sys
from pathlib import Path

from course_lib.kernel import kernel_spec

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2) + "\n")


def main(prefix: Path = Path(sys.prefix)) -> None:
    share = prefix / "share" / "jupyter"
    overrides = share / "lab" / "settings" / "overrides.json"
    current = json.loads(overrides.read_text()) if overrides.exists() else {}
    write_json(overrides, {**current, **OVERRIDES})
    write_json(share / "kernels" / "python3" / "kernel.json", kernel_spec())


if __name__ == "__main__":
    main()
