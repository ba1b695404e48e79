"""The offline assets of the HTML book: tools/vendor_assets.py and book/_ext/page_assets.py.

(The browser test itself, tests/test_browser.py, runs through `make test-browser`.) Run from
the repository root (``python -m pytest``, as the Makefile does), so ``tools`` imports.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from sphinx.builders.html._assets import _JavaScript

from tools import vendor_assets

ROOT = Path(__file__).resolve().parent.parent


def _load_extension(name: str):
    """A module of book/_ext (Sphinx loads it from there; it is no package)."""
    spec = importlib.util.spec_from_file_location(name, ROOT / "book" / "_ext" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


page_assets = _load_extension("page_assets")

DEFAULT_MATHJAX = "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-mml-chtml.js"


def fake_static(tmp_path: Path, names=("mathjax", "requirejs", "html-manager")) -> Path:
    static = tmp_path / "_vendor" / "static"
    manifest = {}
    for name in names:
        entry = f"{name}/{vendor_assets.ASSETS[name]['entry']}"
        (static / entry).parent.mkdir(parents=True, exist_ok=True)
        (static / entry).write_text("// stub\n")
        manifest[name] = {"entry": entry, "version": vendor_assets.ASSETS[name]["version"]}
    (static / page_assets.MANIFEST).write_text(json.dumps(manifest))
    return static


def configure(confdir: Path):
    config = SimpleNamespace(html_static_path=[], mathjax_path=DEFAULT_MATHJAX,
                             nb_ipywidgets_js={})
    page_assets._configure(SimpleNamespace(confdir=str(confdir)), config)
    return config


def test_pins_are_exact_versions_with_integrity():
    for name, spec in vendor_assets.ASSETS.items():
        assert spec["version"].count(".") == 2 and spec["version"][0].isdigit(), name
        assert spec["integrity"].startswith("sha512-"), name
        assert any(spec["entry"] == pattern for pattern in spec["keep"]), name


def test_cdn_fallbacks_are_the_pinned_versions():
    pins = {name: spec["version"] for name, spec in vendor_assets.ASSETS.items()}
    assert page_assets.REQUIREJS_VERSION == pins["requirejs"]
    assert page_assets.HTML_MANAGER_VERSION == pins["html-manager"]
    assert f"/requirejs@{pins['requirejs']}/" in page_assets._REQUIRE_CDN[0]
    assert f"/html-manager@{pins['html-manager']}/" in page_assets._MANAGER_CDN[0]
    assert page_assets._REQUIRE_CDN[1]["integrity"].startswith("sha256-")


def test_local_assets_are_used_when_installed(tmp_path, monkeypatch):
    monkeypatch.delenv("SYMLAB_BOOK_ASSETS", raising=False)
    static = fake_static(tmp_path)
    config = configure(tmp_path)
    assert config.html_static_path == [str(static)]
    assert config.mathjax_path == "mathjax/es5/tex-mml-chtml.js"       # under _static/
    scripts = list(config.nb_ipywidgets_js)
    assert scripts[0] == "requirejs/require.js" and scripts[2] == "html-manager/dist/embed-amd.js"
    shim = config.nb_ipywidgets_js[""]["body"]
    assert "MathJax.Hub" in shim and "_static/html-manager/dist/" in shim
    assert not any("://" in s for s in scripts)


def test_a_copy_of_the_sources_below_finds_the_assets(tmp_path, monkeypatch):
    # the student edition builds from _build/student/src
    monkeypatch.delenv("SYMLAB_BOOK_ASSETS", raising=False)
    static = fake_static(tmp_path)
    src = tmp_path / "_build" / "student" / "src"
    src.mkdir(parents=True)
    assert page_assets.find_static(src) == static


def test_cdn_fallback_asset_by_asset(tmp_path, monkeypatch):
    monkeypatch.delenv("SYMLAB_BOOK_ASSETS", raising=False)
    fake_static(tmp_path, names=("requirejs",))                        # only require.js
    config = configure(tmp_path)
    assert config.mathjax_path == DEFAULT_MATHJAX
    scripts = list(config.nb_ipywidgets_js)
    assert scripts[0] == "requirejs/require.js"
    assert scripts[2].startswith("https://cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager@")
    assert '""' in config.nb_ipywidgets_js[""]["body"]    # no local widget-manager folder


def test_nothing_installed_means_cdn_everywhere(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMLAB_BOOK_ASSETS", str(tmp_path / "missing"))
    config = configure(tmp_path)
    assert config.html_static_path == [] and config.mathjax_path == DEFAULT_MATHJAX
    assert all("://" in s for s in config.nb_ipywidgets_js if s)


def test_vendor_without_npm_says_so_in_one_line_and_succeeds(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(vendor_assets.shutil, "which", lambda name: None)
    assert vendor_assets.main(["--dest", str(tmp_path / "_vendor")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and "npm not found" in out[0] and "CDN" in out[0]
    manifest = json.loads((tmp_path / "_vendor" / "static" / "offline-assets.json").read_text())
    assert manifest == {}


def test_a_cached_tarball_is_verified_before_use(tmp_path, monkeypatch):
    monkeypatch.setattr(vendor_assets.shutil, "which", lambda name: None)
    cache = tmp_path / "cache"
    cache.mkdir()
    spec = vendor_assets.ASSETS["requirejs"]
    (cache / vendor_assets._tarball_name(spec)).write_bytes(b"not the pinned tarball")
    with pytest.raises(RuntimeError, match="npm not found"):
        vendor_assets._fetch("requirejs", spec, cache)


def test_duplicate_inline_scripts_are_dropped():
    body = {"body": "const THEBE_JS_URL = 'x'"}
    scripts = [_JavaScript("a.js"), _JavaScript(None, **body), _JavaScript("b.js"),
               _JavaScript("", **body), _JavaScript(None, body="other")]
    context = {"script_files": scripts}
    page_assets._drop_duplicate_inline_scripts(None, "page", "page.html", context, None)
    assert [(s.filename, s.attributes.get("body")) for s in context["script_files"]] == [
        ("a.js", None), (None, body["body"]), ("b.js", None), (None, "other")]
