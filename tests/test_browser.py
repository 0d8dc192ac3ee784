"""Real-browser tests: what students and instructors click in JupyterLab, in Debian's Chromium.

A widget whose pure function passes its unit test can still be dead in the browser, and nbgrader's
JupyterLab extension has had releases that do not load on recent JupyterLab. These tests run all
cells of the lectures with explorers, move a control and check that the drawn image changes; run a
student's wrong answer against the visible tests; and check nbgrader's extension and Formgrader.

Screenshots go to `_build/browser/<run>/` (one per path on success, one per failure).
Run them alone with `make test-browser`.

On a busy machine JupyterLab may ask which kernel to start or say that a kernel restarted; the tests
answer such dialogs as a person would (the notebook's Python kernel, OK) and run the notebook again
when its kernel was replaced. They wait on states (kernel idle, execution counts, new images), never
on time. They share one xdist group with the notebook tests, so no notebook trains beside them.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from browser_support import (CHROMIUM, CHROMIUM_FLAGS, ROOT, chromium_missing_reason, copy_course, start_lab,
                             venv_env)
from course_lib.kernel import kernel_spec

_missing = chromium_missing_reason()
pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("jupyter"),  # with tests/test_notebooks.py
              pytest.mark.skipif(_missing is not None, reason=_missing or "")]

RUN_DIR = ROOT / "_build" / "browser" / os.environ.get("BROWSER_RUN", dt.datetime.now().strftime("%Y%m%d-%H%M%S"))
CELL_TIMEOUT_MS = 240_000


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A copy of the course with the assignments registered in its own gradebook."""
    root = copy_course(tmp_path_factory.mktemp("course") / "course")
    nbgrader = Path(sys.executable).parent / "nbgrader"
    for source in sorted((root / "solutions").glob("*/*.ipynb")):
        subprocess.run([str(nbgrader), "db", "assignment", "add", source.parent.name], cwd=root, check=True,
                       capture_output=True, env=venv_env())
    return root


@pytest.fixture(scope="module")
def lab(course, tmp_path_factory):
    server = start_lab(course, tmp_path_factory.mktemp("lab-runtime"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser_context():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(prefix="chromium-profile-"), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        yield context
        context.close()


@pytest.fixture
def page(browser_context, lab, request):
    """A fresh tab that records console errors and leaves a screenshot if the test fails; its
    kernels are shut down afterwards."""
    tab = browser_context.new_page()
    tab.console_errors = []
    tab.on("console", lambda msg: tab.console_errors.append(msg.text) if msg.type == "error" else None)
    tab.on("pageerror", lambda err: tab.console_errors.append(str(err)))
    tab.answered_dialogs = []  # titles of the JupyterLab dialogs the test answered, for failure reports
    yield tab
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    if failed:
        print(f"JupyterLab dialogs answered during the test: {tab.answered_dialogs}")
        RUN_DIR.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(RUN_DIR / f"FAILED-{request.node.name}.png"), full_page=True)
    tab.close()
    lab.shutdown_kernels()


def screenshot(page, name: str) -> Path:
    RUN_DIR.mkdir(parents=True, exist_ok=True)
    path = RUN_DIR / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# ----------------------------------------------------------------------------- notebook helpers

KERNEL_IDLE = "() => !!document.querySelector(\".jp-Notebook-ExecutionIndicator[data-status='idle']\")"
# Run All Cells has queued the cells (every code cell shows * until it has run).
RUN_STARTED = """() => [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')]
                 .some(p => p.textContent.includes('*'))"""
# Every code cell shows an execution count, or none is running and one failed.
RUN_FINISHED = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent);
    if (prompts.some(t => t.includes('*'))) return false;
    const done = prompts.every(t => /[0-9]/.test(t));
    const failed = document.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        && [...document.querySelectorAll('.jp-OutputArea-output')].some(o => o.textContent.includes('Traceback'));
    return done || failed;
}"""


def answer_dialogs(page) -> list[str]:
    """Answer the JupyterLab dialogs on screen as a person would: in "Select Kernel" choose the course's
    Python kernel; press the default button of notices ("Kernel Restarting", "Error Starting Kernel").
    Returns their titles."""
    answered = []
    dialogs = page.locator(".jp-Dialog")
    while dialogs.count():
        dialog = dialogs.first.element_handle()
        title = dialog.query_selector(".jp-Dialog-header")
        answered.append(title.inner_text().strip() if title else "(untitled)")
        select = dialog.query_selector("select")
        if select is not None:
            select.select_option(label=kernel_spec()["display_name"])
        dialog.query_selector(".jp-Dialog-footer .jp-mod-accept").click()
        dialog.wait_for_element_state("hidden")
    page.answered_dialogs += answered
    return answered


def wait_or_answer(page, condition: str, timeout_ms: float, arg=None) -> list[str]:
    """Wait until the JavaScript `condition` holds or a dialog comes up; answer the dialogs. Returns
    the titles of those answered (empty when the condition held first)."""
    either = f"(arg) => document.querySelector('.jp-Dialog') ? 'dialog' : (({condition})(arg) ? 'ok' : false)"
    outcome = page.wait_for_function(either, arg=arg, timeout=timeout_ms, polling=500).json_value()
    return [] if outcome == "ok" else answer_dialogs(page)


def wait_for(page, condition: str, timeout_ms: float, arg=None) -> None:
    """Wait until `condition` holds, answering any dialog that comes up meanwhile."""
    deadline = time.monotonic() + timeout_ms / 1000
    while wait_or_answer(page, condition, max(1.0, (deadline - time.monotonic()) * 1000), arg):
        pass


def open_notebook(page, lab, relpath: str) -> None:
    page.goto(lab.url(f"lab/tree/{relpath}?reset"))  # ?reset: a fresh workspace, only this notebook open
    page.wait_for_selector(".jp-Notebook .jp-Cell >> visible=true", timeout=CELL_TIMEOUT_MS)
    wait_for(page, KERNEL_IDLE, CELL_TIMEOUT_MS)  # the toolbar's kernel status reads idle


def run_all_cells(page, attempts: int = 3) -> None:
    """Run > Run All Cells, then wait until every code cell has run (or one failed). When a dialog
    comes up meanwhile (the kernel restarted, or JupyterLab asks which kernel to start), the
    kernel's state is gone: answer it and run all cells again, as a person would."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for _ in range(attempts):
        wait_for(page, KERNEL_IDLE, CELL_TIMEOUT_MS)
        page.locator(".jp-Notebook:visible").first.click()
        page.keyboard.press("Escape")
        page.get_by_role("menuitem", name="Run", exact=True).click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        try:
            if wait_or_answer(page, RUN_STARTED, 60_000):
                continue
        except PlaywrightTimeout:
            # CI once saw Run All Cells select the last cell without running any (no prompt changed,
            # kernel idle): the command reached the notebook before its kernel session. Ask again.
            continue
        if not wait_or_answer(page, RUN_FINISHED, CELL_TIMEOUT_MS):
            return
    raise AssertionError(f"Run All Cells did not complete in {attempts} attempts; JupyterLab dialogs "
                         f"answered: {page.answered_dialogs}")


def error_outputs(page) -> list[str]:
    """Tracebacks shown in the notebook (stderr text such as progress bars and warnings is not an error)."""
    texts = page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']").all_inner_texts()
    return [t for t in texts if "Traceback" in t or t.lstrip().split(":")[0].endswith("Error")]


def widget_image(widget) -> str:
    """The data URL of the (last) image an explorer drew."""
    images = widget.locator("img")
    images.last.wait_for(timeout=120_000)
    return images.last.get_attribute("src")


def explorer(page, marker: str):
    """The widget box whose controls include a label containing `marker`."""
    answer_dialogs(page)  # nothing may stand between the controls and the pointer
    boxes = page.locator(".jupyter-widgets.widget-box", has=page.locator(f".widget-label:has-text('{marker}')"))
    boxes.first.wait_for(timeout=120_000)
    boxes.first.scroll_into_view_if_needed()
    return boxes.first


def wait_for_new_image(widget, before: str, timeout_ms: int = 120_000) -> str:
    wait_for(widget.page, """([el, before]) => { const imgs = el.querySelectorAll('img');
                 return imgs.length && imgs[imgs.length - 1].src !== before; }""",
             timeout_ms, arg=[widget.element_handle(), before])
    return widget_image(widget)


# ----------------------------------------------------------------------------- instructor path


def test_nbgrader_extension_loads_without_console_errors(page, lab):
    page.goto(lab.url("lab"))
    page.get_by_role("menuitem", name="Nbgrader").wait_for(timeout=120_000)
    page.get_by_role("menuitem", name="Nbgrader").click()
    page.get_by_text("Formgrader").first.wait_for(timeout=30_000)
    screenshot(page, "instructor-lab-nbgrader-menu")
    assert page.console_errors == [], f"browser console errors: {page.console_errors}"


def test_formgrader_lists_the_course_assignments(page, lab, course):
    page.goto(lab.url("formgrader"))
    expected = sorted(p.parent.name for p in (course / "solutions").glob("*/*.ipynb"))
    assert expected, "no assignments under solutions/"
    for name in expected:
        page.get_by_text(name, exact=True).first.wait_for(timeout=60_000)
    screenshot(page, "instructor-formgrader-assignments")


# ----------------------------------------------------------------------------- student path


def move_slider(widget, label: str, presses: int = 2) -> None:
    slider = widget.locator(".widget-slider", has=widget.page.locator(f".widget-label:text-is('{label}')")).first
    handle = slider.locator(".noUi-handle").first
    handle.focus()
    for _ in range(presses):
        handle.press("ArrowRight")


def choose(widget, label: str, option: str | None = None) -> str:
    """Pick `option` (or the next one) in the dropdown labelled `label`; returns the choice."""
    select = widget.locator(".widget-dropdown", has=widget.page.locator(f".widget-label:text-is('{label}')")).first \
        .locator("select")
    options = select.locator("option").all_inner_texts()
    current = select.evaluate("s => s.options[s.selectedIndex].text")
    choice = option or next(o for o in options if o != current)
    select.select_option(label=choice)
    return choice


def run_lecture(page, lab, relpath: str) -> None:
    open_notebook(page, lab, relpath)
    run_all_cells(page)
    assert error_outputs(page) == [], f"{relpath} raised in the browser: {error_outputs(page)[:2]}"


def test_receptive_field_explorer_redraws_when_the_output_pixel_moves(page, lab):
    run_lecture(page, lab, "lectures/05_pixelcnn.ipynb")
    widget = explorer(page, "column")
    before = widget_image(widget)
    move_slider(widget, "column", presses=3)
    after_col = wait_for_new_image(widget, before)
    move_slider(widget, "row", presses=2)
    after_row = wait_for_new_image(widget, after_col)
    assert len({before, after_col, after_row}) == 3, "the heat map did not change when the output pixel moved"
    screenshot(page, "student-05-receptive-field-explorer")


def test_mask_explorer_redraws_when_ordering_and_hidden_sizes_change(page, lab):
    run_lecture(page, lab, "lectures/04_made.ipynb")
    widget = explorer(page, "ordering")
    before = widget_image(widget)
    choice = choose(widget, "ordering")
    after_order = wait_for_new_image(widget, before)
    hidden = widget.locator(".widget-text", has=page.locator(".widget-label:text-is('hidden sizes')")).locator("input")
    hidden.fill("10, 5")
    hidden.press("Enter")
    after_hidden = wait_for_new_image(widget, after_order)
    assert len({before, after_order, after_hidden}) == 3, f"the drawing did not change (ordering -> {choice})"
    screenshot(page, "student-04-mask-explorer")


def test_dilation_explorer_redraws_when_kernel_and_dilations_change(page, lab):
    run_lecture(page, lab, "lectures/09_wavenet.ipynb")
    widget = explorer(page, "dilations")
    before = widget_image(widget)
    move_slider(widget, "kernel size", presses=1)
    after_kernel = wait_for_new_image(widget, before)
    dilations = widget.locator(".widget-text", has=page.locator(".widget-label:text-is('dilations')")).locator("input")
    dilations.fill("1, 2, 4, 8, 16")
    dilations.press("Enter")
    after_dilations = wait_for_new_image(widget, after_kernel)
    assert len({before, after_kernel, after_dilations}) == 3, "the connection graph did not change"
    screenshot(page, "student-09-dilation-explorer")


def wrong_made_masks() -> str:
    """A realistic wrong answer from the A2 mutant set: '>=' in the output mask, so output d sees x_d."""
    import runpy

    return runpy.run_path(str(ROOT / "tests" / "mutants" / "a2_nade_made.py"))["MUTANTS"]["made_masks"]["output_not_strict"]


def _cell(page, grade_id: str, notebook_path: Path):
    import nbformat

    cells = nbformat.read(notebook_path, as_version=4).cells
    index = next(i for i, c in enumerate(cells) if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
    return page.locator(".jp-Notebook:visible .jp-Cell").nth(index)


CELL_HAS_RUN = "el => /[0-9]/.test(el.querySelector('.jp-InputArea-prompt').textContent)"


def _run_cell(page, cell) -> None:
    answer_dialogs(page)
    cell.locator(".jp-InputArea-prompt").click()  # select the cell in command mode
    page.keyboard.press("Shift+Enter")


def test_student_sees_what_is_wrong_with_a_wrong_answer(page, lab, course):
    relpath = "assignments/a2_nade_made/a2_nade_made.ipynb"
    open_notebook(page, lab, relpath)
    answer = _cell(page, "made_masks", course / relpath)
    answer.locator(".cm-content").click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(wrong_made_masks())
    page.keyboard.press("Escape")
    tests = _cell(page, "made_masks_tests", course / relpath)
    for _ in range(3):
        for cell in (_cell(page, "setup", course / relpath), answer, tests):
            _run_cell(page, cell)
        if not wait_or_answer(page, CELL_HAS_RUN, CELL_TIMEOUT_MS, arg=tests.element_handle()):
            break
        # a dialog came up before the tests ran (the kernel was replaced): run the three cells again
    else:
        raise AssertionError(f"the visible tests never ran; JupyterLab dialogs answered: {page.answered_dialogs}")
    shown = tests.locator(".jp-OutputArea-output").all_inner_texts()
    text = "\n".join(shown)
    assert "AssertionError" in text and "STRICT inequality" in text, f"the student saw: {text[:800]}"
    screenshot(page, "student-a2-wrong-answer")


@pytest.fixture(scope="module")
def demo_class(course):
    """The demo class of A2 (perfect, partial, blank, crashing, ...) graded into the course's gradebook."""
    env = venv_env()
    demo = course / "grading" / "demo-browser"
    subs = subprocess.run([sys.executable, "-c", "import sys; from pathlib import Path; from autograder.demo import "
                           "build_class; print(build_class(Path(sys.argv[1])))", str(demo / "submissions")],
                          cwd=course, env=env, capture_output=True, text=True)
    assert subs.returncode == 0, subs.stderr[-2000:]
    graded = subprocess.run([sys.executable, "-m", "autograder", "grade", "a2_nade_made", str(demo / "submissions"),
                             "--out", str(demo / "out"), "--timeout", "120"], cwd=course, env=env,
                            capture_output=True, text=True, timeout=900)
    assert graded.returncode == 0, graded.stdout[-2000:] + graded.stderr[-2000:]
    return demo / "out"


def test_formgrader_shows_the_autograder_scores(page, lab, demo_class):
    import csv

    rows = list(csv.DictReader((demo_class / "grades.csv").open()))
    perfect = next(r for r in rows if r["student_id"] == "perfect")
    page.goto(lab.url("formgrader/manage_students"))
    row = page.locator("tr", has=page.get_by_text("perfect", exact=True))
    row.first.wait_for(timeout=60_000)
    score = float(perfect["score"])
    assert f"{score:g}" in row.first.inner_text() or f"{score:.2f}" in row.first.inner_text(), \
        f"Formgrader row {row.first.inner_text()!r} does not show the grades.csv score {score}"
    screenshot(page, "instructor-formgrader-scores")


def test_formgrader_shows_the_autograders_messages(page, lab, course, demo_class, monkeypatch):
    """A TA grading `partial` sees, in the comment box of the wrong answer cell, why it lost points."""
    from nbgrader.api import Gradebook

    from autograder import grade, report, store

    monkeypatch.setenv("PATH", venv_env()["PATH"])   # nbgrader runs alembic by name
    assignment = grade.load_assignment("a2_nade_made", grade.Course(course))
    task = next(t for t in store.load(demo_class, assignment)["partial"].result.tasks if t.task == "made_masks")
    assert task.status != "passed" and any(not passed for _, _, passed, _ in task.checks)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook_id = gb.find_submission_notebook("a2_nade_made", "a2_nade_made", "partial").id
    page.goto(lab.url(f"formgrader/submissions/{notebook_id}"))
    # formgrader fills the box's placeholder with the comment once it has fetched it from its API
    page.wait_for_function("() => (document.querySelector('#made_masks-comment') || {}).placeholder",
                           timeout=180_000)
    shown = page.locator("#made_masks-comment").get_attribute("placeholder")
    assert shown == report.autograder_comment(task), shown[:600]
    assert "FAILED" in shown
    screenshot(page, "instructor-formgrader-autograder-messages")


def test_no_internal_record_name_reaches_students(demo_class, course, monkeypatch):
    """The probes' record keys (such as c0_is_module) are the grader's own names: no message, feedback
    page or gradebook comment of the demo class (crashing and cheating students included) names one."""
    import re

    from nbgrader.api import Gradebook

    from autograder import grade, sandbox

    monkeypatch.setenv("PATH", venv_env()["PATH"])
    assignment = grade.load_assignment("a2_nade_made", grade.Course(course))
    ref = grade.reference(assignment, grade.task_inputs(assignment), sandbox.Limits(), unsafe=False)  # cached
    keys = {k.split("/")[0] for meta, _ in ref.values() for k in meta["records"]}
    internal = sorted(k for k in keys if "_" in k or any(c.isdigit() for c in k))   # not plain words
    assert "c0_is_module" in internal
    texts = [(demo_class / "scores.csv").read_text()] + [p.read_text() for p in (demo_class / "feedback").rglob("*.html")]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        texts += [c.auto_comment or "" for sub in gb.assignment_submissions("a2_nade_made")
                  for nb in sub.notebooks for c in nb.comments]
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, internal)) + r")\b")
    found = sorted({m.group(1) for text in texts for m in pattern.finditer(text)})
    assert found == [], f"internal record names in student-facing text: {found}"
