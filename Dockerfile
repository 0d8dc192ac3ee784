# Container images of the course, from the same pins as `make setup` (requirements.txt):
#   docker build --target lab    -t deep-autoregressive-course:lab .     # single-user JupyterLab (students, a hub)
#   docker build --target grader -t deep-autoregressive-course:grader .  # the sandboxed autograder (cluster regrades)
# PIP_EXTRA_ARGS passes pip options, e.g. an index of CPU-only torch wheels to keep the images small.
FROM python:3.11-slim-bookworm AS env
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1 OMP_NUM_THREADS=1 \
    MPLBACKEND=Agg PATH=/opt/course/.venv/bin:$PATH
RUN apt-get update && apt-get install -y --no-install-recommends make bubblewrap util-linux \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/course
ARG PIP_EXTRA_ARGS=""
COPY requirements.txt pyproject.toml Makefile README.md STYLE.md environment.yml ./
RUN python -m venv .venv && .venv/bin/python -m pip install -q $PIP_EXTRA_ARGS -r requirements.txt
COPY course_lib course_lib
COPY scripts scripts

# Students: lectures, the released assignments and the exchange's settings; no solutions, no autograder.
FROM env AS lab
COPY deploy/requirements-hub.txt deploy/requirements-hub.txt
# scripts/setup_lab.py last: pip (re)installs ipykernel's own kernel spec, which the course's replaces.
RUN .venv/bin/python -m pip install -q --no-deps -e . && .venv/bin/python -m pip install -q -r deploy/requirements-hub.txt \
    && .venv/bin/python scripts/setup_lab.py
COPY lectures lectures
COPY assignments assignments
COPY deploy/nbgrader_config_exchange.py /etc/jupyter/nbgrader_config.py
RUN useradd --create-home --shell /bin/bash student
USER student
WORKDIR /home/student
EXPOSE 8888
CMD ["jupyter", "lab", "--ip=0.0.0.0", "--no-browser", "--ServerApp.root_dir=/opt/course"]

# Instructors and cluster jobs: the autograder with the solutions; grading needs bubblewrap to run in
# the container (see deploy/k8s_grade_job.yaml).
FROM env AS grader
COPY autograder autograder
RUN .venv/bin/python -m pip install -q --no-deps -e .
COPY solutions solutions
COPY assignments assignments
COPY tests/mutants tests/mutants
COPY nbgrader_config.py nbgrader_config.py
ENTRYPOINT ["python", "-m", "autograder"]
CMD ["--help"]
