"""One chapter, live: JupyterLab on 127.0.0.1, the notebook run, a Try-it slider moved.

Run through ``make test-live``. A copy of the chapter (``SYMLAB_LIVE_NOTEBOOK``, default
``book/04_gaussian_1d.ipynb``) is placed in a temporary folder, so JupyterLab's autosave never
touches the book. JupyterLab is started from this environment (its ``python3`` kernel) on a
free port of 127.0.0.1 with a random token; headless Chromium (the browser set-up of
``tests/test_browser.py``: every other host name resolves to nothing) opens the notebook,
runs all cells, and then

- checks that jupyterlab-myst renders the book's MyST markup: no raw ``{term}``/``{cite}``
  role or directive fence left, every admonition and exercise a box, every solution folded
  (closed) under its exercise, every ``{term}`` a link (its target, the glossary page, is
  not in the notebook, so the link only marks the term; a ``{cite}`` shows its key, marked
  unresolved, as there is no bibliography in a notebook);
- moves the first slider of the Try-it widget one step with the keyboard and waits until
  the widget's figure *and* its printed numbers have changed (at most ``SYMLAB_LIVE_REDRAW_S``
  seconds, default 20), printing the measured redraw time.

Everything is bounded: the server is told to shut itself down after a few idle minutes and
is stopped by the fixture in any case; each wait has its own timeout. Screenshots go to
``_build/screenshots/live-*.png``. Not part of ``make unit``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from test_browser import HOST_RULES, INSTALL_HINT, find_chromium

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = Path(os.environ.get("SYMLAB_LIVE_NOTEBOOK", ROOT / "book" / "04_gaussian_1d.ipynb"))
SHOTS = Path(os.environ.get("SYMLAB_BOOK_SCREENSHOTS", ROOT / "_build" / "screenshots"))
REDRAW_S = float(os.environ.get("SYMLAB_LIVE_REDRAW_S", "20"))
RUN_ALL_S = 300          # the whole chapter (it states about 45 s on two idle cores)
START_S = 90             # JupyterLab's server and page


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    if not NOTEBOOK.is_file():
        pytest.fail(f"no notebook {NOTEBOOK}")
    work = tmp_path_factory.mktemp("live")
    shutil.copy2(NOTEBOOK, work / NOTEBOOK.name)
    config = work / ".jupyter"
    # no "news" pop-up, no update check (they would also try the network)
    (config / "labconfig").mkdir(parents=True)
    (config / "labconfig" / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}\n')
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config),
               JUPYTER_RUNTIME_DIR=str(work / ".runtime"), SYMLAB_PROGRESS="0",
               JUPYTER_PATH=os.pathsep.join(
                   [str(Path(sys.prefix) / "share" / "jupyter"),
                    *filter(None, os.environ.get("JUPYTER_PATH", "").split(os.pathsep))]))
    env.pop("MPLBACKEND", None)          # the kernel's inline backend, as in JupyterLab
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1",
           f"--port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
           f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class="
           "jupyterlab.NeverCheckForUpdate",
           # stops itself: idle kernels culled after 2 min, the server 3 min after that
           "--MappingKernelManager.cull_idle_timeout=120",
           "--MappingKernelManager.cull_interval=30",
           "--ServerApp.shutdown_no_activity_timeout=180",
           "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")       # CI runs as root
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_S
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("JupyterLab did not start:\n" + (work / "lab.log").read_text())
                time.sleep(0.5)
        yield {"base": base, "token": token, "name": NOTEBOOK.name, "log": work / "lab.log"}
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=15)
        log.close()


@pytest.fixture(scope="module")
def page(lab):
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.exit(INSTALL_HINT, returncode=3)
    if chromium is None:
        pytest.exit(INSTALL_HINT, returncode=3)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, headless=True,
                                     args=[HOST_RULES, "--no-sandbox", "--disable-gpu",
                                           "--disable-dev-shm-usage"])
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        pg.set_default_timeout(START_S * 1000)
        started = time.monotonic()
        pg.goto(f"{lab['base']}/lab/tree/{lab['name']}?token={lab['token']}")
        pg.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell"
                             " && document.querySelector('.jp-Notebook .jp-Cell')")
        # wait for the kernel to be ready
        pg.wait_for_function(
            """() => { const w = window.jupyterapp.shell.currentWidget;
                       const k = w && w.sessionContext && w.sessionContext.session
                                 && w.sessionContext.session.kernel;
                       return k && k.status === 'idle'; }""")
        print(f"\nJupyterLab page and kernel ready in {time.monotonic() - started:.1f} s")
        yield pg
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / "live-end.png"))
        context.close()
        browser.close()


# --------------------------------------------------------------------------- MyST markup
MARKUP_PROBE = r"""() => {
  const md = [...document.querySelectorAll('.jp-MarkdownCell .myst')];
  const text = md.map(e => e.innerText).join('\n');
  const count = (re) => (text.match(re) || []).length;
  const inside = (sel) => md.reduce((n, e) => n + e.querySelectorAll(sel).length, 0);
  return {
    myst_cells: md.length,
    raw_role: count(/\{(term|cite|cite:[a-z]+|doc|ref|numref)\}/g),
    raw_directive: count(/(```|:::)\s*\{[a-z-]+\}/g),
    term_links: inside('a.hover-link'),
    boxes: inside('aside'),               // admonitions and exercises
    folded: inside('details:not([open])'),  // solutions (class: dropdown), closed
  };
}"""


def _source_counts() -> dict:
    """What the chapter's markdown holds: solutions, exercises + admonitions, term roles."""
    import json
    import re

    text = "\n".join("".join(c["source"]) for c in json.loads(NOTEBOOK.read_text())["cells"]
                     if c["cell_type"] == "markdown")
    return {"solutions": len(re.findall(r"\{solution\}", text)),
            "boxes": len(re.findall(r"\{(exercise|admonition|note|warning|tip|important)\}",
                                    text)),
            "terms": len(re.findall(r"\{term\}", text))}


def test_myst_markup_renders_in_jupyterlab(page):
    # markdown cells render as they come into view: visit every cell once
    page.evaluate("""async () => {
        const nb = window.jupyterapp.shell.currentWidget.content;
        for (let i = 0; i < nb.widgets.length; i++) {
            nb.activeCellIndex = i; nb.scrollToItem(i);
            await new Promise(r => setTimeout(r, 30));
        }
        nb.activeCellIndex = 0; nb.scrollToItem(0);
    }""")
    time.sleep(2)
    found, expected = page.evaluate(MARKUP_PROBE), _source_counts()
    print(f"MyST in JupyterLab: rendered {found}; the chapter's markdown holds {expected}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live-markup.png"))
    assert found["myst_cells"] > 10, "jupyterlab-myst is not rendering the markdown cells"
    assert found["raw_role"] == 0 and found["raw_directive"] == 0, found
    assert found["folded"] == expected["solutions"], "every solution folded under its exercise"
    assert found["boxes"] == expected["boxes"]
    assert found["term_links"] >= expected["terms"] > 0


# --------------------------------------------------------------------------- run + slider
def _run_all(page) -> float:
    started = time.monotonic()
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   const k = w.sessionContext.session.kernel;
                   const busy = [...document.querySelectorAll('.jp-InputPrompt')]
                                .some(p => p.textContent.includes('*'));
                   return k.status === 'idle' && !busy; }""",
        timeout=RUN_ALL_S * 1000, polling=500)
    return time.monotonic() - started


WIDGET_STATE = r"""() => {
  const slider = document.querySelector('.jp-OutputArea .widget-slider');
  if (!slider) return null;
  const area = slider.closest('.jp-OutputArea');
  const imgs = [...area.querySelectorAll('img')].map(i => i.src.length + ':' + i.src.slice(-200));
  const text = [...area.querySelectorAll('.jp-OutputArea-output pre, .widget-output pre')]
               .map(p => p.innerText).join('\n');
  return {imgs: imgs.join('|'), text: text,
          readout: (slider.querySelector('.widget-readout') || {}).innerText || ''};
}"""


def test_run_chapter_and_move_a_slider(page):
    seconds = _run_all(page)
    print(f"run all cells: {seconds:.1f} s")
    errors = page.evaluate("() => [...document.querySelectorAll("
                           "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]')]"
                           ".map(e => e.innerText).filter(t => /Error|Traceback/.test(t))")
    assert not errors, errors
    page.wait_for_selector(".jp-OutputArea .widget-slider", timeout=30_000)
    page.locator(".jp-OutputArea .widget-slider").first.scroll_into_view_if_needed()
    page.wait_for_function(f"() => {{ const s = ({WIDGET_STATE})(); return s && s.imgs; }}",
                           timeout=30_000)
    before = page.evaluate(WIDGET_STATE)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "live-before.png"))
    handle = page.locator(".jp-OutputArea .widget-slider .noUi-handle").first
    handle.focus()
    started = time.monotonic()
    page.keyboard.press("ArrowRight")
    page.wait_for_function(
        f"""(b) => {{ const s = ({WIDGET_STATE})();
                     return s && s.imgs && s.imgs !== b.imgs && s.text && s.text !== b.text; }}""",
        arg=before, timeout=REDRAW_S * 1000, polling=100)
    redraw = time.monotonic() - started
    after = page.evaluate(WIDGET_STATE)
    page.screenshot(path=str(SHOTS / "live-after.png"))
    print(f"slider {before['readout']} -> {after['readout']}: figure and printed numbers "
          f"redrawn in {redraw:.1f} s")
    print("printed before:", before["text"].strip().splitlines()[:2])
    print("printed after: ", after["text"].strip().splitlines()[:2])
    assert after["readout"] != before["readout"]
