"""The similarity report flags renamed copies (of a classmate's cell, of course_lib's code) and
leaves independent answers alone."""
import re
from pathlib import Path

import nbformat
import pytest

from autograder import similarity
from autograder.grade import Course

ROOT = Path(__file__).resolve().parents[1]
A2 = "a2_nade_made"

ALICE = '''def made_masks(input_degrees, hidden_degrees):
    """Masks from degrees."""
    degrees = [np.asarray(input_degrees)] + [np.asarray(h) for h in hidden_degrees]
    masks = []
    for lower, upper in zip(degrees[:-1], degrees[1:]):
        masks.append(torch.tensor(np.greater_equal.outer(upper, lower), dtype=torch.float32))
    final = np.greater.outer(np.asarray(input_degrees), degrees[-1])
    masks.append(torch.tensor(final, dtype=torch.float32))
    return masks
'''
# alice's cell with every name changed, a comment, other formatting and two lines swapped
BOB = '''def made_masks(input_degrees, hidden_degrees):
    # written by bob
    result = []
    levels = [np.asarray(input_degrees)] + [np.asarray(layer) for layer in hidden_degrees]
    for a, b in zip(levels[:-1], levels[1:]):
        result.append(torch.tensor(np.greater_equal.outer(b, a),
                                   dtype=torch.float32))
    last = np.greater.outer(np.asarray(input_degrees), levels[-1])
    result.append(torch.tensor(last, dtype=torch.float32))
    return result
'''
# course_lib.models.made.made_masks renamed, with two lines swapped
CAROL = '''def made_masks(input_degrees, hidden_degrees):
    out = []
    first = torch.as_tensor(np.asarray(input_degrees), dtype=torch.long)
    last = first
    for level in hidden_degrees:
        level = torch.as_tensor(np.asarray(level), dtype=torch.long)
        out.append((level[:, None] >= last[None, :]).float())
        last = level
    out.append((first[:, None] > last[None, :]).float())
    return out
'''
DAN = '''def made_masks(input_degrees, hidden_degrees):
    result = []
    prev = list(input_degrees)
    for layer in hidden_degrees:
        m = torch.zeros(len(layer), len(prev))
        for i, k in enumerate(layer):
            for j, p in enumerate(prev):
                if k >= p:
                    m[i, j] = 1.0
        result.append(m)
        prev = list(layer)
    m = torch.zeros(len(input_degrees), len(prev))
    for i, d in enumerate(input_degrees):
        for j, p in enumerate(prev):
            if d > p:
                m[i, j] = 1.0
    result.append(m)
    return result
'''
STUDENTS = {"alice": ALICE, "bob": BOB, "carol": CAROL, "dan": DAN}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    released = nbformat.read(ROOT / "assignments" / A2 / f"{A2}.ipynb", as_version=4)
    subs = tmp_path_factory.mktemp("submitted")
    for sid, code in STUDENTS.items():
        nb = nbformat.from_dict(nbformat.reads(nbformat.writes(released), as_version=4))
        for cell in nb.cells:
            if cell.metadata.get("nbgrader", {}).get("grade_id") == "made_masks":
                cell.source = code
        (subs / sid).mkdir()
        nbformat.write(nb, subs / sid / f"{A2}.ipynb")
    out = tmp_path_factory.mktemp("out") / "similarity.html"
    assert similarity.run_command(A2, subs, Course(ROOT), 0.7, out) == 0
    return out.read_text()


def _flagged(html_text, task):
    section = html_text.split(f"<h2>{task}:")[1].split("<h2>")[0]
    return {tuple(m) for m in re.findall(r"<h3>(.+?) and (.+?) \(", section)}


def test_renamed_copy_of_a_classmate_is_flagged(report):
    assert ("alice", "bob") in _flagged(report, "made_masks")


def test_renamed_copy_of_course_lib_made_masks_is_flagged(report):
    assert ("carol", "course_lib/models/made.py: made_masks") in _flagged(report, "made_masks")


def test_independent_answers_are_not_flagged(report):
    pairs = _flagged(report, "made_masks")
    assert not any("dan" in pair for pair in pairs)
    assert not any(a == "alice" and not b.startswith(("bob",)) for a, b in pairs)
    # the untouched stubs of the other tasks are the same for everyone and are never evidence
    assert not _flagged(report, "MADE") and not _flagged(report, "nade_log_prob")


def test_normalise_ignores_names_docstrings_comments_and_layout():
    a = similarity.fingerprint("a", ALICE)
    b = similarity.fingerprint("b", BOB)
    d = similarity.fingerprint("d", DAN)
    assert similarity.compare(a, b).score >= 0.7
    assert similarity.compare(a, d) is None or similarity.compare(a, d).score < 0.3
    assert '"""' not in similarity.normalise(ALICE) and "#" not in similarity.normalise(BOB)
