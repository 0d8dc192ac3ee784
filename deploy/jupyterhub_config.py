"""An example JupyterHub for the course (docs/jupyterhub.md): one machine, real Unix users (PAM
log-in), each user's server started from the course environment built by the Dockerfile's `lab`
stage or by `make setup` in /opt/course, nbgrader's exchange in /srv/nbgrader/exchange.

nbgrader's exchange relies on each student being a distinct Unix user on one shared file system,
which this set-up gives; spawners that run every user as the same uid (one container user for all)
would let students read each other's submissions. Run: `jupyterhub -f deploy/jupyterhub_config.py`.
"""
import os

c = get_config()  # noqa: F821 (provided by JupyterHub)

COURSE = os.environ.get("COURSE_ROOT", "/opt/course")
INSTRUCTORS = set(os.environ.get("COURSE_INSTRUCTORS", "instructor").split(","))

c.JupyterHub.bind_url = os.environ.get("HUB_URL", "http://:8000")
c.JupyterHub.authenticator_class = "jupyterhub.auth.PAMAuthenticator"
c.Authenticator.allow_all = True          # every Unix user of this machine may log in
c.Authenticator.admin_users = INSTRUCTORS

# every server runs the course's pinned environment, offline, in the user's home folder
c.Spawner.cmd = [f"{COURSE}/.venv/bin/jupyterhub-singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.environment = {
    "PATH": f"{COURSE}/.venv/bin:/usr/bin:/bin",
    "NBGRADER_EXCHANGE_ROOT": "/srv/nbgrader/exchange",   # read by /etc/jupyter/nbgrader_config.py
    "OMP_NUM_THREADS": "2",
    "MPLBACKEND": "module://matplotlib_inline.backend_inline",
}
c.Spawner.cpu_limit = 2          # enforced by spawners that can (systemd, containers)
c.Spawner.mem_limit = "4G"

# the instructors' group, e.g. for a shared formgrader service or course-wide announcements
c.JupyterHub.load_groups = {"instructors": {"users": sorted(INSTRUCTORS)}}
