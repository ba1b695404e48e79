"""Install the book's JavaScript assets locally, so the built HTML reads with no network.

Usage (normally through ``make book``, which runs it before building)::

    .venv/bin/python -m tools.vendor_assets [--dest _vendor] [--force]

Three npm packages, pinned by version *and* sha512 integrity, are fetched with ``npm pack``
(the tarball only, no dependency tree) into ``_vendor/cache/`` and the files the pages load are
unpacked into ``_vendor/static/``, which the book's Sphinx extension
(``book/_ext/page_assets.py``) adds to ``html_static_path``:

========================  ============================================  =========================
asset                     what the pages load                           otherwise from
========================  ============================================  =========================
``mathjax``               ``mathjax/es5/tex-mml-chtml.js`` (+ fonts,    cdn.jsdelivr.net
                          TeX extensions, menu and a11y components)
``requirejs``             ``requirejs/require.js``                      cdn.jsdelivr.net
``html-manager``          ``html-manager/embed-amd.js`` (the Jupyter    cdn.jsdelivr.net
                          widgets HTML manager, renders stored widget
                          state)
========================  ============================================  =========================

``_vendor/static/offline-assets.json`` records what was installed; the Sphinx extension reads it
and falls back to the CDN, asset by asset, for anything missing (at the same pinned
versions; ``tests/test_browser_assets.py`` checks that the two files agree). Nothing here is committed
(``_vendor/`` is in ``.gitignore``). Re-running is a no-op once the pinned versions are in
place; a cached tarball is reused (and re-verified) without npm.

Where npm is missing or the registry cannot be reached, the script prints one line saying
which assets will come from the CDN and exits 0, so ``make book`` still builds.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from fnmatch import fnmatch
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = "offline-assets.json"

# name -> npm package, pinned version, the registry's sha512 integrity, and the files to keep
# (glob patterns relative to the package root; "**" crosses directories).
ASSETS: dict[str, dict] = {
    "mathjax": {
        "package": "mathjax",
        "version": "3.2.2",
        "integrity": "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/"
                     "FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
        "entry": "es5/tex-mml-chtml.js",
        # the combined TeX+MathML/CHTML component, and what it loads on demand: TeX
        # extensions (autoload), the CHTML fonts, the context menu and accessibility parts
        "keep": ["LICENSE", "es5/tex-mml-chtml.js", "es5/input/**", "es5/output/chtml.js",
                 "es5/output/chtml/**", "es5/ui/**", "es5/a11y/**", "es5/sre/**",
                 "es5/adaptors/**"],
    },
    "requirejs": {
        "package": "requirejs",
        "version": "2.3.8",
        "integrity": "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+"
                     "Jd5otXKGNehIonFlyQXSowL6Mw==",
        "entry": "require.js",
        "keep": ["LICENSE", "require.js"],
    },
    "html-manager": {
        "package": "@jupyter-widgets/html-manager",
        "version": "1.0.15",   # ipywidgets 8 (widget protocol 2), like myst-nb's CDN default
        "integrity": "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTo"
                     "pvFi//SABeNz1yp47bCrJ3CQA==",
        "entry": "dist/embed-amd.js",
        "keep": ["LICENSE", "dist/embed-amd.js", "dist/*.woff", "dist/*.woff2",
                 "dist/*.ttf", "dist/*.eot", "dist/*.svg"],
    },
}


def _sha512(path: Path) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def _tarball_name(spec: dict) -> str:
    # npm pack's file name: scope and slash flattened, e.g. jupyter-widgets-html-manager-1.0.15
    return f"{spec['package'].lstrip('@').replace('/', '-')}-{spec['version']}.tgz"


def _fetch(name: str, spec: dict, cache: Path) -> Path:
    """Return the verified tarball of one asset, fetching it with ``npm pack`` if needed."""
    tarball = cache / _tarball_name(spec)
    if tarball.is_file() and _sha512(tarball) == spec["integrity"]:
        return tarball
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm not found")
    cache.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run(
        [npm, "pack", f"{spec['package']}@{spec['version']}", "--pack-destination", str(cache),
         "--silent"],
        capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not tarball.is_file():
        last = (proc.stderr.strip().splitlines() or ["npm pack failed"])[-1]
        raise RuntimeError(last)
    if _sha512(tarball) != spec["integrity"]:
        tarball.unlink()
        raise RuntimeError(f"{tarball.name}: sha512 does not match the pinned integrity")
    return tarball


def _unpack(tarball: Path, spec: dict, dest: Path) -> int:
    """Extract the kept files of ``package/`` into ``dest``; return how many."""
    tmp = Path(tempfile.mkdtemp(dir=dest.parent))
    try:
        count = 0
        with tarfile.open(tarball) as tf:
            for member in tf.getmembers():
                if not member.isfile() or not member.name.startswith("package/"):
                    continue
                rel = member.name[len("package/"):]
                if not any(fnmatch(rel, pat) for pat in spec["keep"]):
                    continue
                target = tmp / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
                count += 1
        if not (tmp / spec["entry"]).is_file():
            raise RuntimeError(f"{tarball.name} has no {spec['entry']}")
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
        return count
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def install(dest: Path, force: bool = False) -> dict[str, str]:
    """Install every asset under ``dest/static``; return {name: error} for those that failed."""
    static, cache = dest / "static", dest / "cache"
    static.mkdir(parents=True, exist_ok=True)
    manifest_path = static / MANIFEST
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    failed = {}
    for name, spec in ASSETS.items():
        entry = f"{name}/{spec['entry']}"
        have = manifest.get(name, {})
        if (not force and have.get("version") == spec["version"]
                and have.get("integrity") == spec["integrity"] and (static / entry).is_file()):
            continue
        manifest.pop(name, None)
        try:
            tarball = _fetch(name, spec, cache)
            files = _unpack(tarball, spec, static / name)
        except (OSError, RuntimeError, subprocess.SubprocessError, tarfile.TarError) as exc:
            failed[name] = str(exc)
            continue
        manifest[name] = {"package": spec["package"], "version": spec["version"],
                          "integrity": spec["integrity"], "entry": entry, "files": files}
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return failed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / "_vendor")
    parser.add_argument("--force", action="store_true", help="re-install even if present")
    args = parser.parse_args(argv)
    failed = install(args.dest.resolve(), force=args.force)
    if failed:
        reasons = sorted(set(failed.values()))
        print(f"offline assets: could not install {', '.join(sorted(failed))} "
              f"({'; '.join(reasons)}) - the book will load them from the CDN "
              f"(install Node.js/npm for offline-readable pages)")
    else:
        versions = ", ".join(f"{n} {s['version']}" for n, s in ASSETS.items())
        print(f"offline assets: {versions} in {args.dest.name}/static")
    return 0


if __name__ == "__main__":
    sys.exit(main())
