"""Open every built page of the book in headless Chromium, with the network off.

Run through ``make test-browser`` (after ``make book``/``make build``): the pages of
``_toc.yml`` that exist in ``_build/html`` are served from a local HTTP server on
127.0.0.1, and Chromium is started with every host name except 127.0.0.1 resolving to
nothing (``--host-resolver-rules``); on top of that every request that is not to the local
server is intercepted and aborted, and recorded as a failure. On each page the test checks:

- the math is typeset: MathJax finished, every ``span.math``/``div.math`` holds its output
  (``mjx-container``), no TeX error (``mjx-merror``) and no raw ``\\(``, ``\\[`` or ``$…$``
  left in the prose;
- every image has loaded (``naturalWidth > 0``) and carries alt text;
- the console shows no error, no script raised, no request failed or was answered >= 400;
- on pages with stored widget state, the widgets render (a slider is present, no "Error
  displaying widget") and the first plot of their output area is visible.

A full-page screenshot of each page is saved as ``_build/screenshots/<page>.png`` (and the
widget area as ``<page>-widget.png``). Without Chromium the run stops with the install
command. Not part of ``make unit``.
"""

from __future__ import annotations

import functools
import http.server
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
HTML = Path(os.environ.get("SYMLAB_BOOK_HTML", ROOT / "_build" / "html"))
SHOTS = Path(os.environ.get("SYMLAB_BOOK_SCREENSHOTS", ROOT / "_build" / "screenshots"))
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("make test-browser needs Chromium and the Python package playwright: on "
                "Debian/Ubuntu run `sudo apt-get install -y chromium chromium-driver` (or set "
                "CHROMIUM=/path/to/chrome), and `make install` for playwright")
# every name resolves to nothing except the local server; requests are intercepted as well
HOST_RULES = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
TIMEOUT_MS = 45_000
PlaywrightTimeout = TimeoutError    # replaced by playwright's own once it is imported


def toc_pages() -> list[str]:
    """The book's pages (``book/intro``, ``book/01_…``) in table-of-contents order."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            walk(entry.get("sections"))
            for part in entry.get("parts", []) if isinstance(entry, dict) else []:
                walk(part.get("chapters"))

    walk(toc.get("chapters"))
    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    return [n.removesuffix(".md").removesuffix(".ipynb") for n in names]


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        return env if Path(env).is_file() else shutil.which(env)
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output readable
        pass


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").is_file():
        pytest.exit(f"no built book at {HTML}: run `make build` first", returncode=4)
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    chromium = find_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.exit(INSTALL_HINT, returncode=3)
    if chromium is None:
        pytest.exit(INSTALL_HINT, returncode=3)
    global PlaywrightTimeout
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, headless=True,
                               args=[HOST_RULES, "--no-sandbox", "--disable-gpu",
                                     "--disable-dev-shm-usage"])
        yield b
        b.close()


# inline TeX that survived typesetting: \( … \), \[ … \], or $…$ with a non-space after
# the opening and before the closing dollar
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|(?<![\w$])\$(?=\S)[^$\n]{1,200}(?<=\S)\$(?![\w$])")

PROBE = r"""
() => {
  const main = document.querySelector('main') || document.body;
  const mathNodes = [...main.querySelectorAll('span.math, div.math')];
  const untypeset = mathNodes.filter(n => !n.querySelector('mjx-container'))
                             .map(n => n.textContent.trim().slice(0, 80));
  // prose text without code, outputs and typeset math
  const clone = main.cloneNode(true);
  clone.querySelectorAll('pre, code, mjx-container, script, style, .cell_output, ' +
                         '.output, textarea').forEach(n => n.remove());
  const imgs = [...main.querySelectorAll('img')].map(i => ({
    src: i.currentSrc.slice(0, 120), complete: i.complete, w: i.naturalWidth,
    alt: i.getAttribute('alt'), inWidget: !!i.closest('.jupyter-widgets, .widget-output')}));
  return {
    mathNodes: mathNodes.length,
    typeset: main.querySelectorAll('mjx-container').length,
    untypeset,
    merror: [...main.querySelectorAll('mjx-merror')].map(n => n.textContent.slice(0, 80)),
    prose: clone.textContent,
    imgs,
    sliders: main.querySelectorAll('.widget-slider, .jupyter-widgets .slider').length,
    widgetErrors: [...main.querySelectorAll('.jupyter-widgets')]
        .filter(n => /Error displaying widget/.test(n.textContent)).length,
  };
}
"""


def _has_widgets(html_path: Path) -> bool:
    return "application/vnd.jupyter.widget-view+json" in html_path.read_text(errors="ignore")


PAGES = toc_pages()


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_offline(page, server, browser):
    html_path = HTML / f"{page}.html"
    assert html_path.is_file(), f"{page} is in _toc.yml but {html_path} was not built"
    widgets = _has_widgets(html_path)
    problems: list[str] = []
    external: list[str] = []

    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  service_workers="block")
    pg = context.new_page()

    def route(r):
        url = r.request.url
        if url.startswith(server) or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            external.append(url)
            r.abort("blockedbyclient")

    context.route("**/*", route)
    pg.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
          if m.type == "error" and "favicon.ico" not in (m.location or {}).get("url", "")
          else None)
    pg.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    pg.on("requestfailed", lambda r: None if r.url in external
          else problems.append(f"request failed: {r.url} ({r.failure})"))
    # (Chromium asks for /favicon.ico by itself; the book has none, and that is no error)
    pg.on("response", lambda r: problems.append(f"HTTP {r.status}: {r.url}")
          if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    def wait(what: str, js: str) -> bool:
        if external:      # a script it needs was blocked: the wait would only time out
            problems.append(f"not waiting for {what}: the page needed the network")
            return False
        try:
            pg.wait_for_function(js, timeout=TIMEOUT_MS)
            return True
        except PlaywrightTimeout:
            problems.append(f"timed out after {TIMEOUT_MS // 1000} s waiting for {what}")
            return False

    shot = SHOTS / f"{page.split('/')[-1]}.png"
    try:
        pg.goto(f"{server}/{page}.html", wait_until="load", timeout=TIMEOUT_MS)
        # MathJax (deferred; only on pages with math) typesets once at startup, and its
        # promise resolves when that is done
        if pg.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')"):
            if wait("MathJax to start", "() => !!(window.MathJax && MathJax.startup)"):
                pg.evaluate("() => MathJax.startup.promise.then(() => true)")
        if widgets:
            wait("a widget slider", "() => !!document.querySelector('.widget-slider')")
            wait("the widget's first plot",
                 "() => [...document.querySelectorAll('.jupyter-widgets img, .widget-output img')]"
                 ".some(i => i.complete && i.naturalWidth > 0)")
        wait("the images", "() => [...document.images].every(i => i.complete)")
        try:
            pg.wait_for_load_state("networkidle", timeout=TIMEOUT_MS)
        except PlaywrightTimeout:
            problems.append("the page never went quiet on the network")
        info = pg.evaluate(PROBE)

        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(shot), full_page=True)
        if widgets and info["sliders"]:
            area = pg.locator(".jupyter-widgets.widget-vbox, .jupyter-widgets").first
            area.scroll_into_view_if_needed()
            area.screenshot(path=str(shot.with_name(f"{shot.stem}-widget.png")))
    finally:
        context.close()

    if info["untypeset"]:
        problems.append(f"{len(info['untypeset'])} math node(s) not typeset, e.g. "
                        f"{info['untypeset'][0]!r}")
    if info["mathNodes"] and not info["typeset"]:
        problems.append("no MathJax output (mjx-container) on a page with math")
    if info["merror"]:
        problems.append(f"TeX errors: {info['merror'][:3]}")
    raw = RAW_TEX.findall(info["prose"])
    if raw:
        problems.append(f"raw TeX left in the text: {raw[:5]}")
    for img in info["imgs"]:
        if not img["complete"] or img["w"] == 0:
            problems.append(f"image did not load: {img['src']}")
        alt = (img["alt"] or "").strip()
        # myst-nb's default alt is the image's own path: that is no description
        if not img["inWidget"] and (not alt or re.search(r"\.(png|jpe?g|svg|gif)$", alt)):
            problems.append(f"image without alt text: {img['src']}")
    if widgets:
        if info["sliders"] == 0:
            problems.append("widget state stored but no slider rendered")
        if info["widgetErrors"]:
            problems.append(f"{info['widgetErrors']} widget(s) show 'Error displaying widget'")
    if external:
        problems.append(f"{len(external)} request(s) to the network blocked: {external[:5]}")

    n_img = len(info["imgs"])
    print(f"\n    {info['typeset']} formulas typeset, {n_img} image(s) loaded, "
          f"{'widgets rendered, ' if widgets else ''}screenshot {os.path.relpath(shot, ROOT)}"
          if not problems else f"\n    {len(problems)} problem(s)", end=" ")
    assert not problems, f"{page}:\n  " + "\n  ".join(problems)
