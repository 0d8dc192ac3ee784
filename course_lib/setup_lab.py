"""One-time JupyterLab settings for the course's environment (run by `make setup`).

Turns off the "Jupyter news" notification, which would try to reach the network, and the
check for updates. Writes `share/jupyter/lab/settings/overrides.json` inside the active environment.
"""
import json
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
}


def main() -> None:
    path = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text()) if path.exists() else {}
    current.update(OVERRIDES)
    path.write_text(json.dumps(current, indent=2) + "\n")


if __name__ == "__main__":
    main()
