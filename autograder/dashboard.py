"""`python -m autograder dashboard A GRADING_DIR`: GRADING_DIR/dashboard.html, one static page for
the instructor (no server: open it from disk or an LMS).

It reads what `grade` wrote: the class's store (store/<id>/result.json: each student's scores,
checks and figures, the records scores.csv is regenerated from). The page holds the class's data as JSON and a small script
that draws from it: score distributions per task (inline SVG, drawn here), the most common failing
checks with counts and example students, a sortable, paginated table of students that filters by
failing check, a student's checks and figures (the same data and colours as their feedback, whose
page it links), and galleries of every student's first figure per task, grouped by outcome, with
violators outlined. Thumbnails are canvases drawn only when they scroll into view, 120 to a page,
so a class of 500 opens in a browser in about a second (bench/dashboard.py measures it).

Nothing here reads the hidden inputs: the check messages are those of the feedback and the figures
come from public display inputs (taskapi.Display).
"""
from __future__ import annotations

import csv
import html
import json
from collections import Counter, defaultdict
from pathlib import Path

from autograder import figures, protocol

PAGE = 50            # students per page of the table
GALLERY_PAGE = 120   # thumbnails per page of a gallery group
EXAMPLES = 5         # example students per failing check
TOP_FAILS = 12       # failing checks shown before "more"
OUTCOMES = ("passed", "partial", "failed", "other")


class DashboardError(Exception):
    """A problem with the grading folder, said so that the instructor knows what to do."""


def outcome(status: str) -> str:
    return status if status in ("passed", "partial", "failed") else "other"


def load_class(grading_dir: Path, assignment) -> tuple[list[str], list[dict]]:
    """(task names in order, one record per student) from the class's store (autograder/store.py),
    the same records scores.csv is regenerated from: every check and every figure of each student.
    `assignment` needs `.name`, `.task_names` and `.source_path` (grade.Assignment)."""
    from autograder import store

    grading_dir = Path(grading_dir)
    if not (grading_dir / store.FOLDER).is_dir():
        raise DashboardError(f"no graded class in {grading_dir} (no {store.FOLDER}/ folder): grade first "
                             f"(python -m autograder grade {assignment.name} SUBMISSIONS --out {grading_dir})")
    warnings = []
    stored = store.load(grading_dir, assignment, log=warnings.append)
    for w in warnings:
        print(w)
    if not stored:
        raise DashboardError(f"{grading_dir / store.FOLDER} holds no usable record of {assignment.name}"
                             + (f" ({len(warnings)} could not be read; see above)" if warnings else ""))
    out = []
    for sid in sorted(stored):
        result = stored[sid].result
        task_rows = [{"task": t.task, "score": float(t.score), "max_score": float(t.max_score), "status": t.status,
                      "message": protocol.clean_text(t.message, 2 * protocol.MAX_MESSAGE),
                      "checks": [[str(n), float(w), bool(p), protocol.clean_text(str(m))] for n, w, p, m in t.checks],
                      "figures": [figures.validate(f) for f in (getattr(t, "figures", None) or [])[:figures.MAX_FIGURES]]}
                     for t in result.tasks]
        page = Path("feedback") / sid / f"{assignment.source_path.stem}.html"
        out.append({"id": sid, "tasks": task_rows,
                    "notes": [protocol.clean_text(n, 2 * protocol.MAX_MESSAGE) for n in result.notes],
                    "feedback": page.as_posix() if (grading_dir / page).exists() else None})
    return list(assignment.task_names), out


# ---------------------------------------------------------------- summaries (pure)


def failing_checks(tasks: list[str], students: list[dict]) -> list[dict]:
    """Every (task, check) that some student failed, most common first, with example students.
    Statuses without checks (crashed, timeout, not_defined...) count as a failing "check" named by
    the status."""
    seen: dict[tuple, list] = defaultdict(list)
    for s in students:
        for t in s["tasks"]:
            if t["checks"]:
                names = [c[0] for c in t["checks"] if not c[2]]
            elif t["status"] not in ("passed", "partial", "failed"):
                names = [f"status: {t['status']}"]
            else:
                names = []
            for n in names:
                seen[(t["task"], n)].append(s["id"])
    order = {t: i for i, t in enumerate(tasks)}
    items = sorted(seen.items(), key=lambda kv: (-len(kv[1]), order.get(kv[0][0], 0), kv[0][1]))
    return [{"key": f"{task}::{name}", "task": task, "check": name, "count": len(ids), "examples": ids[:EXAMPLES]}
            for (task, name), ids in items]


def distributions(tasks: list[str], students: list[dict], bins: int = 10) -> dict[str, list[int]]:
    """Per task, how many students scored in each tenth of the task's points (the last bin: full)."""
    out = {t: [0] * (bins + 1) for t in tasks}
    for s in students:
        for t in s["tasks"]:
            frac = t["score"] / t["max_score"] if t["max_score"] else 0.0
            out[t["task"]][bins if frac >= 1 else min(bins - 1, int(frac * bins))] += 1
    return out


def _svg_hist(task: str, counts: list[int]) -> str:
    w, h, pad = 260, 120, 26
    n, top = len(counts), max(counts) or 1
    bw = (w - pad - 6) / n
    bars = []
    for i, c in enumerate(counts):
        bh = (h - 2 * pad) * c / top
        x, y = pad + i * bw, h - pad - bh
        colour = "#17612b" if i == n - 1 else "#4d7ea8"
        label = "full marks" if i == n - 1 else f"{i * 10}-{i * 10 + 10}%"
        bars.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bw - 2:.1f}' height='{bh:.1f}' fill='{colour}'>"
                    f"<title>{label}: {c}</title></rect>")
        if c:
            bars.append(f"<text x='{x + bw / 2 - 1:.1f}' y='{y - 2:.1f}' font-size='9' text-anchor='middle'>{c}</text>")
    return (f"<svg class='hist' width='{w}' height='{h}' role='img' aria-label='score distribution of {html.escape(task)}'>"
            f"<text x='{w / 2}' y='12' font-size='11' text-anchor='middle'>{html.escape(task)}</text>{''.join(bars)}"
            f"<text x='{pad}' y='{h - 8}' font-size='9'>0%</text><text x='{w - 6}' y='{h - 8}' font-size='9' "
            f"text-anchor='end'>full</text><text x='{(w + pad) / 2}' y='{h - 1}' font-size='9' text-anchor='middle'>"
            "share of the task's points</text><text x='8' y='{0}' font-size='9' transform='rotate(-90 8 {0})' "
            "text-anchor='middle'>students</text></svg>".format(h / 2))


# ---------------------------------------------------------------- the page


def build(assignment, grading_dir: Path, out: Path | None = None) -> Path:
    """Write the page (default GRADING_DIR/dashboard.html) for `assignment` (see load_class)."""
    grading_dir = Path(grading_dir)
    tasks, students = load_class(grading_dir, assignment)
    fails = failing_checks(tasks, students)
    hists = distributions(tasks, students)
    data = {"assignment": assignment.name, "tasks": tasks, "students": students, "fails": fails,
            "categories": {str(k): v for k, v in figures.CATEGORY.items()},
            "colours": {str(k): v for k, v in figures.COLOURS.items()}, "page": PAGE, "galleryPage": GALLERY_PAGE}
    blob = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("</", "<\\/").replace("<!--", "<\\!--")
    e = html.escape
    total_max = sum(t["max_score"] for t in students[0]["tasks"])
    fail_rows = [(
        f"<tr><td>{e(f['task'])}</td><td>{e(f['check'])}</td><td>{f['count']}</td><td>"
        + " ".join(f"<a href='#' class='student-link' data-id='{e(sid, quote=True)}'>{e(sid)}</a>" for sid in f["examples"])
        + f"</td><td><button class='filter-btn' data-key='{e(f['key'], quote=True)}'>show these students</button></td></tr>")
        for f in fails]
    head = "<tr><th>task</th><th>check</th><th>students</th><th>examples</th><th></th></tr>"
    fail_table = f"<table id='fails'>{head}{''.join(fail_rows[:TOP_FAILS])}</table>"
    if len(fail_rows) > TOP_FAILS:
        fail_table += (f"<details><summary>{len(fail_rows) - TOP_FAILS} more failing checks</summary><table>{head}"
                       f"{''.join(fail_rows[TOP_FAILS:])}</table></details>")
    options = "".join(f"<option value='{e(f['key'], quote=True)}'>{e(f['task'])}: {e(f['check'])} ({f['count']})</option>"
                      for f in fails)
    kinds = defaultdict(set)   # task -> kinds of its first figure: maps and fields first in the galleries' menu
    for s in students:
        for t in s["tasks"]:
            if t["figures"]:
                kinds[t["task"]].add(t["figures"][0]["kind"])
    gallery_tasks = sorted((t for t in tasks if kinds[t] - {"error"}),
                           key=lambda t: (not kinds[t] & {"dependency", "field"}, tasks.index(t)))
    page = f"""<!doctype html><html><head><meta charset='utf-8'><title>{e(assignment.name)}: class dashboard</title>
<style>{_CSS}</style></head><body>
<h1>{e(assignment.name)}: class dashboard</h1>
<p>{len(students)} students, {len(tasks)} autograded tasks, {total_max:g} autograded points. Figures are drawn from
each student's results on public display inputs (never the hidden ones); each student's feedback page has the same
figures. Colours: <span class='key' style='background:{figures.COLOURS[1]}'></span> connection as expected,
<span class='key' style='background:{figures.COLOURS[2]}'></span> violation (a connection that must not be there),
<span class='key' style='background:{figures.COLOURS[3]}'></span> missing (an expected connection that is not there).</p>
<nav><a href='#scores'>scores</a> · <a href='#failing'>failing checks</a> · <a href='#students'>students</a> ·
<a href='#galleries'>galleries</a></nav>
<h2 id='scores'>Score distribution per task</h2><div class='hists'>{''.join(_svg_hist(t, hists[t]) for t in tasks)}</div>
<h2 id='failing'>Most common failing checks</h2>
{fail_table if fails else "<p>No student failed a check.</p>"}
<h2 id='students'>Students</h2>
<p><label>failing check: <select id='filter'><option value=''>(everyone)</option>{options}</select></label>
<span id='count'></span> <button id='prev'>previous</button> <span id='pageinfo'></span> <button id='next'>next</button></p>
<table id='table'><thead><tr><th data-sort='id'>student</th><th data-sort='total'>total</th>
{''.join(f"<th data-sort='t{i}'>{e(t)}</th>" for i, t in enumerate(tasks))}<th data-sort='status'>status</th></tr></thead>
<tbody></tbody></table>
<div id='detail' hidden></div>
<h2 id='galleries'>Galleries</h2>
<p>Every student's first figure for a task, grouped by the task's outcome; a red outline marks a figure with
violations, a blue one with missing connections only. Click a thumbnail for the student.</p>
<p><label>task: <select id='gtask'>{''.join(f"<option>{e(t)}</option>" for t in gallery_tasks)}</select></label></p>
<div id='gallery'></div>
<script type='application/json' id='data'>{blob}</script>
<script>{_JS}</script></body></html>
"""
    out = Path(out) if out else grading_dir / "dashboard.html"
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return out


def run_command(assignment, grading_dir: Path, out: Path | None = None) -> int:
    import sys

    try:
        path = build(assignment, grading_dir, out)
    except DashboardError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path} ({path.stat().st_size / 1024:.0f} KB): open it in a browser (file://{path.resolve()})")
    return 0


_CSS = """body{font-family:sans-serif;margin:1em 2em;line-height:1.35}table{border-collapse:collapse;margin-bottom:1em}
td,th{border:1px solid #ccc;padding:.2em .45em;text-align:left;vertical-align:top;font-size:.9em}
th[data-sort]{cursor:pointer;background:#f3f3f3}th[data-sort]:hover{background:#e4e4e4}
.hists{display:flex;flex-wrap:wrap;gap:.5em}.key{display:inline-block;width:.9em;height:.9em;border:1px solid #999}
.passed{color:#17612b}.partial{color:#8a6100}.failed,.other{color:#a31515}
#detail{border:2px solid #4d7ea8;padding:.5em 1em;margin:1em 0;background:#fbfdff}
.thumbs{display:flex;flex-wrap:wrap;gap:6px}.thumb{border:3px solid #ddd;padding:2px;cursor:pointer;text-align:center;font-size:10px;width:104px}
.thumb.violation{border-color:#d62728}.thumb.missing{border-color:#56b4e9}.thumb canvas{display:block;margin:auto}
figure{display:inline-block;margin:.4em 1em .4em 0;vertical-align:top}figcaption{font-size:.8em;max-width:340px}
.err{color:#a31515}"""

# Draws from the page's JSON: the same categories and colours as autograder/figures.py.
_JS = r"""
const D = JSON.parse(document.getElementById('data').textContent);
const C = D.colours, byId = new Map(D.students.map(s => [s.id, s]));
const esc = t => String(t).replace(/[&<>"']/g, c => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]));
const num = v => v === null ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v;
function total(s) { return s.tasks.reduce((a, t) => a + t.score, 0); }
function worst(s) { const st = s.tasks.map(t => t.status).filter(x => x !== 'passed'); return st.length ? [...new Set(st)].join(',') : 'passed'; }
function failsOf(s) {
  const keys = new Set();
  for (const t of s.tasks) {
    if (t.checks.length) { for (const c of t.checks) if (!c[2]) keys.add(t.task + '::' + c[0]); }
    else if (!['passed','partial','failed'].includes(t.status)) keys.add(t.task + '::status: ' + t.status);
  }
  return keys;
}
function grid(cv, cells, px) {
  const h = cells.length, w = cells[0].length, s = Math.max(1, Math.floor(px / Math.max(h, w)));
  cv.width = w * s; cv.height = h * s; const g = cv.getContext('2d');
  for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) { g.fillStyle = C[cells[i][j]]; g.fillRect(j * s, i * s, s, s); }
  if (s >= 4) { g.strokeStyle = '#ddd'; g.lineWidth = 0.5; for (let i = 0; i <= h; i++) { g.beginPath(); g.moveTo(0, i*s); g.lineTo(w*s, i*s); g.stroke(); }
    for (let j = 0; j <= w; j++) { g.beginPath(); g.moveTo(j*s, 0); g.lineTo(j*s, h*s); g.stroke(); } }
  return s;
}
function series(cv, a, b, bars, px) {
  const n = a.length; cv.width = px * 2; cv.height = px; const g = cv.getContext('2d');
  const vals = a.concat(b).map(num).filter(Number.isFinite); let lo = Math.min(0, ...vals), hi = Math.max(0, ...vals);
  if (hi === lo) hi = lo + 1; const y = v => cv.height - 4 - (cv.height - 8) * (v - lo) / (hi - lo), dx = (cv.width - 8) / n;
  for (let i = 0; i < n; i++) {
    const ra = num(a[i]), rb = num(b[i]), x = 4 + i * dx;
    if (bars) { g.fillStyle = '#4d4d4d'; g.fillRect(x, y(ra), dx / 2 - 1, y(0) - y(ra)); g.fillStyle = '#e69f00'; g.fillRect(x + dx / 2, y(rb), dx / 2 - 1, y(0) - y(rb)); }
    else { g.fillStyle = '#4d4d4d'; g.fillRect(x + dx / 2 - 2, y(ra) - 2, 4, 4); g.strokeStyle = '#d62728';
      if (Number.isFinite(rb)) { g.beginPath(); g.moveTo(x + dx/2 - 3, y(rb) - 3); g.lineTo(x + dx/2 + 3, y(rb) + 3); g.moveTo(x + dx/2 + 3, y(rb) - 3); g.lineTo(x + dx/2 - 3, y(rb) + 3); g.stroke(); } }
  }
}
function draw(cv, f, px) {
  if (f.kind === 'dependency' || f.kind === 'field') {
    const s = grid(cv, f.cells, px);
    if (f.kind === 'field') { const g = cv.getContext('2d'); g.strokeStyle = '#e69f00'; g.lineWidth = 2; g.strokeRect(f.target[1] * s + 1, f.target[0] * s + 1, s - 2, s - 2); }
  } else if (f.kind === 'sampler') series(cv, f.exact, f.empirical, true, px);
  else if (f.kind === 'values') series(cv, f.reference, f.student, false, px);
}
function legend(f) {
  if (f.kind === 'dependency') return `${esc(f.ylabel)} (rows) by ${esc(f.xlabel)} (columns): ${f.violations} violation(s), ${f.missing} missing`;
  if (f.kind === 'field') return `rows by columns, output pixel outlined in orange: ${f.violations} extra, ${f.missing} missing`;
  if (f.kind === 'sampler') return `grey: exact probabilities, orange: the student's frequencies (n = ${f.n}), outcomes ${esc(f.labels[0])}..${esc(f.labels[f.labels.length-1])}`;
  if (f.kind === 'values') return `grey squares: reference, red crosses: the student's, across ${f.labels.length} display inputs (${esc(f.ylabel)})`;
  return '';
}
function figureEl(f, px) {
  const el = document.createElement('figure'); el.className = 'dash-figure';
  if (f.kind === 'error') { el.innerHTML = `<figcaption class='err'>${esc(f.title)}: ${esc(f.message)}</figcaption>`; return el; }
  const cv = document.createElement('canvas'); draw(cv, f, px); el.appendChild(cv);
  const cap = document.createElement('figcaption'); cap.innerHTML = `<b>${esc(f.title)}</b><br>${legend(f)}`; el.appendChild(cap); return el;
}
function showStudent(id) {
  const s = byId.get(id), box = document.getElementById('detail'); if (!s) return;
  box.hidden = false; box.dataset.student = id;
  let h = `<h3>${esc(s.id)}: ${total(s).toFixed(2)} points</h3>` + (s.feedback ? `<p><a href='${encodeURI(s.feedback)}'>the student's feedback page</a></p>` : '');
  for (const n of s.notes) h += `<p class='err'>${esc(n)}</p>`;
  box.innerHTML = h;
  for (const t of s.tasks) {
    const sec = document.createElement('section'); sec.className = 'task';
    sec.innerHTML = `<h4>${esc(t.task)}: ${t.score.toFixed(2)} / ${t.max_score.toFixed(2)} <span class='${esc(t.status === 'passed' || t.status === 'partial' || t.status === 'failed' ? t.status : 'other')}'>(${esc(t.status)})</span></h4>` +
      (t.checks.length ? '<table>' + t.checks.map(c => `<tr><td>${esc(c[0])}</td><td class='${c[2] ? 'passed' : 'failed'}'>${c[2] ? 'passed' : 'failed'}</td><td>${esc(c[3])}</td></tr>`).join('') + '</table>' : `<p><samp>${esc(t.message)}</samp></p>`);
    for (const f of t.figures) sec.appendChild(figureEl(f, 220));
    box.appendChild(sec);
  }
  box.scrollIntoView();
}
let sortKey = 'id', sortDir = 1, page = 0;
function rows() {
  const key = document.getElementById('filter').value;
  let list = D.students.filter(s => !key || failsOf(s).has(key));
  const val = s => sortKey === 'id' ? s.id : sortKey === 'total' ? total(s) : sortKey === 'status' ? worst(s) : s.tasks[+sortKey.slice(1)].score;
  list.sort((a, b) => { const x = val(a), y = val(b); return (x < y ? -1 : x > y ? 1 : 0) * sortDir || (a.id < b.id ? -1 : 1); });
  return list;
}
function render() {
  const list = rows(), pages = Math.max(1, Math.ceil(list.length / D.page)); page = Math.min(page, pages - 1);
  document.getElementById('count').textContent = `${list.length} student(s)`;
  document.getElementById('pageinfo').textContent = `page ${page + 1} of ${pages}`;
  document.querySelector('#table tbody').innerHTML = list.slice(page * D.page, (page + 1) * D.page).map(s =>
    `<tr><td><a href='#' class='student-link' data-id='${esc(s.id)}'>${esc(s.id)}</a></td><td>${total(s).toFixed(2)}</td>` +
    s.tasks.map(t => `<td class='${['passed','partial','failed'].includes(t.status) ? t.status : 'other'}'>${t.score.toFixed(2)}</td>`).join('') +
    `<td>${esc(worst(s))}</td></tr>`).join('');
}
document.querySelectorAll('th[data-sort]').forEach(th => th.addEventListener('click', () => {
  const k = th.dataset.sort; sortDir = sortKey === k ? -sortDir : 1; sortKey = k; render(); }));
document.getElementById('filter').addEventListener('change', () => { page = 0; render(); });
document.getElementById('prev').addEventListener('click', () => { page = Math.max(0, page - 1); render(); });
document.getElementById('next').addEventListener('click', () => { page += 1; render(); });
document.addEventListener('click', ev => {
  const a = ev.target.closest('.student-link, .thumb'); if (a) { ev.preventDefault(); showStudent(a.dataset.id); return; }
  const b = ev.target.closest('.filter-btn'); if (b) { document.getElementById('filter').value = b.dataset.key; page = 0; render(); document.getElementById('students').scrollIntoView(); }
});
const lazy = new IntersectionObserver(entries => { for (const en of entries) if (en.isIntersecting) {
  const el = en.target, f = byId.get(el.dataset.id).tasks.find(t => t.task === el.dataset.task).figures[0];
  draw(el.querySelector('canvas'), f, 96); lazy.unobserve(el); } });
function gallery() {
  const task = document.getElementById('gtask').value, box = document.getElementById('gallery'); box.innerHTML = '';
  if (!task) { box.textContent = 'no task of this assignment has figures'; return; }
  const groups = {passed: [], partial: [], failed: [], other: []};
  for (const s of D.students) { const t = s.tasks.find(t => t.task === task); if (t && t.figures.length && t.figures[0].kind !== 'error')
    groups[['passed','partial','failed'].includes(t.status) ? t.status : 'other'].push([s, t]); }
  for (const [name, items] of Object.entries(groups)) {
    if (!items.length) continue;
    const sec = document.createElement('section'); sec.className = 'group'; sec.dataset.outcome = name;
    sec.innerHTML = `<h3>${name}: ${items.length} student(s)</h3>`; const thumbs = document.createElement('div'); thumbs.className = 'thumbs'; sec.appendChild(thumbs);
    let shown = 0; const more = document.createElement('button');
    const add = () => { for (const [s, t] of items.slice(shown, shown + D.galleryPage)) {
        const f = t.figures[0], d = document.createElement('div');
        d.className = 'thumb' + (f.violations ? ' violation' : f.missing ? ' missing' : ''); d.dataset.id = s.id; d.dataset.task = task;
        d.title = `${s.id}: ${t.score.toFixed(2)} / ${t.max_score.toFixed(2)}`;
        d.innerHTML = `<canvas width='96' height='96'></canvas>${esc(s.id)}`; thumbs.appendChild(d); lazy.observe(d); }
      shown += D.galleryPage; more.hidden = shown >= items.length; more.textContent = `show ${Math.min(D.galleryPage, items.length - shown)} more`; };
    more.addEventListener('click', add); sec.appendChild(more); add(); box.appendChild(sec);
  }
}
document.getElementById('gtask').addEventListener('change', gallery);
render(); gallery(); document.body.dataset.ready = '1';
"""
