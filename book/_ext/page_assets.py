"""Sphinx extension: the book's page scripts — local MathJax/widgets, no duplicate scripts.

**Offline assets.** Serve MathJax, require.js and the Jupyter widgets HTML manager locally.

``tools/vendor_assets.py`` (run by ``make book``) installs pinned copies of the
three into ``_vendor/static/`` and lists them in ``_vendor/static/offline-assets.json``. At
``config-inited`` this extension adds that folder to ``html_static_path`` (its contents land in
``_build/html/_static/``) and points ``mathjax_path`` and myst-nb's ``nb_ipywidgets_js`` at the
local copies. Anything the manifest does not list comes from a CDN, and the build log says so
in one line: MathJax from Sphinx's default, require.js and the widget manager at the versions
``tools/vendor_assets.py`` pins (myst-nb's own defaults are older).

The folder is found through the ``SYMLAB_BOOK_ASSETS`` environment variable, else as
``_vendor/static`` next to ``_config.yml`` or in one of its parents (the student edition is
built from a copy of the sources under ``_build/student/src``).

**Duplicate inline scripts.** Sphinx 7.4 re-adds the inline scripts that extensions register
with ``app.add_js_file(None, body=…)`` when it prepares writing (as ``''`` instead of
``None``), so sphinx-thebe's ``const THEBE_JS_URL = …`` appears twice on every page and the
browser reports "Identifier 'THEBE_JS_URL' has already been declared". At
``html-page-context`` the second copy of each inline script is dropped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from sphinx.util import logging

logger = logging.getLogger(__name__)

MANIFEST = "offline-assets.json"
# CDN fallbacks for an asset tools/vendor_assets.py could not install: the same pinned
# versions, from jsDelivr's copy of the npm packages (myst-nb's own defaults, require.js 2.3.4
# and html-manager 1.0.6, differ from the pins). tests/test_browser_assets.py checks they agree.
REQUIREJS_VERSION = "2.3.8"
HTML_MANAGER_VERSION = "1.0.15"
_REQUIRE_CDN = (f"https://cdn.jsdelivr.net/npm/requirejs@{REQUIREJS_VERSION}/require.js",
                # sha256 of require.js in the npm tarball, the bytes jsDelivr serves
                {"integrity": "sha256-wfxrHVOvdSL3jWZJIquzKsrGTtDszLj5B/Hm/HJiVjo=",
                 "crossorigin": "anonymous"})
_MANAGER_CDN = ("https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@"
                f"{HTML_MANAGER_VERSION}/dist/embed-amd.js",
                {"data-jupyter-widgets-cdn": "https://cdn.jsdelivr.net/npm/",
                 "crossorigin": "anonymous"})


# An inline script placed between require.js and the widget manager on pages with widgets.
# (1) html-manager 1.x typesets widget labels through the MathJax 2 API (MathJax.Hub.Queue);
#     the book loads MathJax 3, so every label raised "reading 'Queue'" errors: route those
#     calls to MathJax 3's typesetPromise (the shim is re-installed once MathJax 3 replaces its
#     configuration object).
# (2) With a local html-manager, point require.js and webpack's public path at its folder, so
#     the icon fonts it references load from _static/ instead of a 404 next to the page.
_WIDGET_SHIM = """(function () {
  var hub = {Queue: function (job) {
    var mj = window.MathJax, el = job && job[2];
    if (mj && mj.typesetPromise && mj.startup && mj.startup.promise) {
      mj.startup.promise = mj.startup.promise
        .then(function () { return mj.typesetPromise(el ? [el] : undefined); })
        .catch(function (err) { console.warn("MathJax:", err); });
    }
  }};
  function install() { if (window.MathJax && !window.MathJax.Hub) { window.MathJax.Hub = hub; } }
  install();
  document.addEventListener("DOMContentLoaded", install);
  window.addEventListener("load", install);
  var dist = "%(dist)s";
  if (dist && window.require && window.require.config) {
    var root = new URL(document.documentElement.dataset.content_root || "./", location.href);
    var url = new URL(dist, root).href;
    window.__jupyter_widgets_assets_path__ = url;
    window.require.config({paths: {"@jupyter-widgets/html-manager/dist": url.replace(/\\/$/, "")}});
  }
})();"""


def find_static(confdir: str | os.PathLike) -> Path | None:
    """The installed asset folder, or None."""
    env = os.environ.get("SYMLAB_BOOK_ASSETS")
    if env:
        return Path(env) if (Path(env) / MANIFEST).is_file() else None
    here = Path(confdir).resolve()
    for base in (here, *list(here.parents)[:3]):
        candidate = base / "_vendor" / "static"
        if (candidate / MANIFEST).is_file():
            return candidate
    return None


def local_assets(static: Path | None) -> dict[str, str]:
    """{asset name: entry path relative to the static folder} for the installed assets."""
    if static is None:
        return {}
    try:
        manifest = json.loads((static / MANIFEST).read_text())
    except (OSError, ValueError):
        return {}
    return {name: info["entry"] for name, info in manifest.items()
            if isinstance(info, dict) and (static / info.get("entry", "")).is_file()}


def _configure(app, config) -> None:
    static = find_static(app.confdir)
    assets = local_assets(static)
    if assets:
        config.html_static_path = [*config.html_static_path, str(static)]
    if "mathjax" in assets:
        config.mathjax_path = assets["mathjax"]          # relative to _static
    require = (assets["requirejs"], {}) if "requirejs" in assets else _REQUIRE_CDN
    manager = (assets["html-manager"], {}) if "html-manager" in assets else _MANAGER_CDN
    dist = ("_static/" + assets["html-manager"].rsplit("/", 1)[0] + "/"
            if "html-manager" in assets else "")
    # ("" is an inline script: myst-nb passes each key and its attributes to app.add_js_file)
    config.nb_ipywidgets_js = {require[0]: require[1],
                               "": {"body": _WIDGET_SHIM % {"dist": dist}},
                               manager[0]: manager[1]}
    missing = sorted({"mathjax", "requirejs", "html-manager"} - set(assets))
    if missing:
        logger.info("offline assets: %s from the CDN (run python -m tools.vendor_assets for "
                    "offline pages)", ", ".join(missing))
    else:
        logger.info("offline assets: MathJax, require.js and the widget manager served "
                    "from %s", static)


def _drop_duplicate_inline_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not isinstance(scripts, list):
        return
    seen, unique = set(), []
    for js in scripts:
        if not js.filename:   # an inline script: None or ''
            key = (js.priority, tuple(sorted(js.attributes.items())))
            if key in seen:
                continue
            seen.add(key)
        unique.append(js)
    scripts[:] = unique


def setup(app):
    # after the built-in defaults exist, before myst-nb reads its config at builder-inited
    app.connect("config-inited", _configure, priority=400)
    # after the other extensions have added their page scripts
    app.connect("html-page-context", _drop_duplicate_inline_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
