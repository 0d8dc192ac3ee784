"""nbgrader's exchange for the course on a JupyterHub (students fetch and submit in the hub, the
instructor releases and collects). Install as /etc/jupyter/nbgrader_config.py on the hub machine (or
in the single-user image), so that every user's nbgrader finds the course and the exchange; the
course folder's own nbgrader_config.py (the repository's) keeps the course layout for the instructor.

The exchange is a folder on a file system all users share, with distinct Unix users for the
students: create it once with `sudo mkdir -p /srv/nbgrader/exchange && sudo chmod ugo+rwx
/srv/nbgrader/exchange`. See docs/jupyterhub.md.
"""
import os

c = get_config()  # noqa: F821 (provided by nbgrader)

c.CourseDirectory.course_id = os.environ.get("NBGRADER_COURSE_ID", "deep-autoregressive-models")
c.Exchange.root = os.environ.get("NBGRADER_EXCHANGE_ROOT", "/srv/nbgrader/exchange")
# A student's fetched assignment lands in ~/<assignment>/ and is submitted from there.
c.Exchange.assignment_dir = os.environ.get("NBGRADER_ASSIGNMENT_DIR", ".")
