"""The Binder environment cannot be built from here; check what it would install instead."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _requirements():
    lines = (ROOT / "binder" / "requirements.txt").read_text().splitlines()
    return [ln.split("#")[0].strip() for ln in lines if ln.split("#")[0].strip()]


def test_binder_installs_a_cpu_only_torch_pinned_like_the_book():
    reqs = _requirements()
    assert any(r.startswith("--extra-index-url") and r.endswith("/whl/cpu") for r in reqs)
    torch_pins = [r for r in reqs if r.startswith("torch")]
    book_pin = [r.strip() for r in (ROOT / "requirements.txt").read_text().splitlines()
                if r.strip().startswith("torch==")]
    assert torch_pins == book_pin == ["torch==2.13.0"]


def test_binder_has_the_runtime_dependencies_and_installs_the_package():
    names = {r.split("=")[0].split(">")[0].split("<")[0].strip().lower() for r in _requirements()}
    for dep in ("numpy", "matplotlib", "h5py", "tqdm", "ipywidgets"):
        assert dep in names, dep
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post and "-e ." in post
    assert (ROOT / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild must be executable"
