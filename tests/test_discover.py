"""sl.discover, its report, the discovery suite's exact criteria, the CLI and the group
optimiser."""

import json
import math

import numpy as np
import pytest
import torch

import symlab as sl
from symlab import _loop, cli, problems
from symlab.discover import _merge


def rot(a):
    return np.array([[math.cos(a), math.sin(a)], [-math.sin(a), math.cos(a)]])


# ----------------------------------------------------------------------------- criteria
@pytest.mark.parametrize("prob", problems.PROBLEMS, ids=lambda p: p.name)
def test_identity_is_in_every_group(prob):
    space = prob.make_space()
    n = space.dim
    eye = np.eye(n)[None]
    assert prob.error(eye, np.zeros((1, n)))[0] < 1e-9
    scaled = 1.3 * eye  # a dilation is never a symmetry of these data
    assert prob.error(scaled, np.zeros((1, n)))[0] > prob.tol


def test_criteria_accept_elements_and_reject_others():
    oct_ = problems.problem("octagon")
    good = problems._dihedral(8)
    assert oct_.error(good, np.zeros((16, 2))).max() < 1e-9
    assert oct_.error(rot(0.2)[None], np.zeros((1, 2)))[0] > oct_.tol
    diag = problems.problem("two_vectors_so6")
    Q = np.linalg.qr(np.random.default_rng(0).standard_normal((3, 3)))[0]
    M = np.zeros((6, 6))
    M[:3, :3] = M[3:, 3:] = Q
    assert diag.error(M[None], np.zeros((1, 6)))[0] < 1e-9
    M2 = M.copy()
    M2[3:, 3:] = Q @ Q  # two different rotations: not a symmetry
    assert diag.error(M2[None], np.zeros((1, 6)))[0] > diag.tol
    ring = problems.problem("ring_affine2")
    c = np.array([2.0, -1.0])
    R = rot(0.7)
    assert ring.error(R[None], (c - R @ c)[None])[0] < 1e-9
    assert ring.error(R[None], np.zeros((1, 2)))[0] > ring.tol


def test_two_vectors_sample_is_invariant_under_the_diagonal_only():
    x = problems.two_vectors_sample(20000, 0)
    a, b = x[:, :3], x[:, 3:]
    cos_ab = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    Q = np.linalg.qr(np.random.default_rng(1).standard_normal((3, 3)))[0]
    a2 = a @ Q.T  # rotate only the first vector: the angle between them changes law
    cos_2 = (a2 * b).sum(1) / np.linalg.norm(a2, axis=1) / np.linalg.norm(b, axis=1)
    assert abs(np.mean(cos_ab) - np.mean(cos_2)) > 0.2
    assert np.allclose(np.linalg.norm(a @ Q.T, axis=1), np.linalg.norm(a, axis=1))


# ----------------------------------------------------------------------------- pieces
def test_merge_groups_nearby_maps():
    M = np.stack([rot(0.0), rot(0.01), rot(1.0), rot(1.005), -np.eye(2)])
    reps, shifts, counts, labels = _merge(M, np.zeros((5, 2)), 1.0, 0.07)
    assert len(reps) == 3 and sorted(counts.tolist()) == [1, 2, 2]
    assert labels[0] == labels[1] and labels[2] == labels[3] != labels[0]
    assert np.allclose(reps[0].T @ reps[0], np.eye(2))  # projected back onto O(2)


def test_so_params_from_matrix_round_trip_and_haar():
    space = sl.spaces.SO(3)
    p = space.sample_uniform(4000, seed=0).double()
    M = space.matrix(p)
    assert torch.allclose(space.matrix(space.params_from_matrix(M)), M, atol=1e-10)
    traces = torch.diagonal(M, dim1=-2, dim2=-1).sum(-1)
    assert abs(float(traces.mean())) < 0.06  # Haar: E tr M = 0 and E (tr M)² = 1
    assert abs(float((traces**2).mean()) - 1.0) < 0.05
    uniform_angles = space.matrix(space.sample_init(4000, seed=0).double())
    tr_u = torch.diagonal(uniform_angles, dim1=-2, dim2=-1).sum(-1)
    assert float((tr_u**2).mean()) < 0.92  # uniform Givens angles are not Haar


def test_uniform_starts_of_o2_are_rotation_invariant():
    p = sl.spaces.O2().sample_uniform(20000, seed=0).numpy()
    angle = np.arctan2(p[:, 1], p[:, 0])
    hist, _ = np.histogram(np.mod(angle, np.pi / 2), bins=9)
    assert hist.min() > 0.9 * hist.mean()  # no excess along the diagonals
    assert set(np.unique(p[:, 2])) == {-1.0, 1.0}


def test_group_adam_steps_have_length_lr_in_the_metric():
    theta = torch.zeros(3, 2, dtype=torch.float64)
    opt = _loop.GroupAdam(theta, eps=0.0)
    F = torch.diag_embed(torch.tensor([[1.0, 4.0]] * 3, dtype=torch.float64))
    g = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], dtype=torch.float64)
    opt.step(g, F, lr=0.1)
    # the length is measured in the damped metric F + DAMPING · mean(diag F) · 1
    Fd = F + _loop.DAMPING * 2.5 * torch.eye(2, dtype=torch.float64)
    length = torch.sqrt((theta[:, None] @ Fd @ theta[:, :, None]).flatten())
    assert torch.allclose(length, torch.full((3,), 0.1, dtype=torch.float64))
    # the natural gradient: along Fd⁻¹ g, not along g
    damp = _loop.DAMPING * 2.5
    d = torch.tensor([1 / (1.0 + damp), 1 / (4.0 + damp)], dtype=torch.float64)
    assert torch.allclose(theta[2] / theta[2].norm(), -d / d.norm())


def test_group_adam_steps_stay_bounded_where_the_parametrisation_is_singular():
    """At a coordinate singularity (a Givens angle at ±π/2) the metric loses rank; the damped
    step stays within lr / sqrt(DAMPING · mean eigenvalue) in the coordinates."""
    theta = torch.zeros(1, 2, dtype=torch.float64)
    opt = _loop.GroupAdam(theta, eps=0.0)
    F = torch.diag(torch.tensor([2.0, 1e-12], dtype=torch.float64))[None]
    opt.step(torch.tensor([[0.0, 1.0]], dtype=torch.float64), F, lr=0.1)
    assert 0 < theta.abs().max() <= 0.1 / math.sqrt(_loop.DAMPING * 1.0) + 1e-12


def test_settings_are_validated():
    for bad in (dict(lr_g=float("nan")), dict(steps=2.5), dict(optimizer="sgd"),
                dict(eps_g=-1.0), dict(hidden=(0,))):
        with pytest.raises((ValueError, TypeError)):
            _loop.Settings(**bad)
    with pytest.raises(ValueError, match="unknown setting"):
        sl.SymmetryGAN(sl.spaces.O2(), lr=0.1)


# ----------------------------------------------------------------------------- discover
@pytest.fixture(scope="module")
def ring_report():
    x = problems.ring_sample(4000, 0)
    return sl.discover(x, sl.spaces.Affine(2), runs=6, seed=0, steps=400, restarts=1,
                       polish=False, progress=False)


def test_discover_report(ring_report):
    r = ring_report
    m = len(r.elements)
    assert r.elements.shape == (m, 2, 2) and r.shifts.shape == (m, 2)
    assert r.p_values.shape == (m,) and np.all(r.p_values >= r.level / max(r.candidates, 1))
    assert r.discovery.runs == 6 and r.restarts.shape == (6,)
    assert r.candidates == m + len(r.rejected)
    text = r.summary()
    assert "sl.discover" in text and "held-out" in text
    d = json.loads(r.to_json())
    assert d["runs"] == 6 and len(d["elements"]) == m


def test_discover_restart_keeps_the_best_try():
    # a stuck run is replaced by the best of its ``tries`` fresh starts, and never by a worse
    # one: after restarts no run's loss is below its loss before them
    x = problems.ring_sample(4000, 0)
    kw = dict(runs=6, seed=0, steps=200, polish=False, progress=False, spares=0)
    before = sl.discover(x, sl.spaces.Affine(2), restarts=0, **kw)
    after = sl.discover(x, sl.spaces.Affine(2), restarts=1, tries=3, **kw)
    assert np.all(after.discovery.loss >= before.discovery.loss - 1e-12)
    redone = after.restarts > 0
    assert redone.any()  # this short fit leaves runs stuck, so the round is exercised
    assert np.array_equal(redone, ~(before.discovery.loss > before.threshold)
                          | before.discovery.failed)


def test_discover_spares_replace_stuck_runs():
    # the first fit trains ceil(spares * runs) extra runs in the same batch; converged ones
    # take the places of stuck runs (each counted as restarted once), best first, and the
    # report keeps exactly ``runs`` runs
    x = problems.ring_sample(4000, 0)
    kw = dict(runs=6, seed=0, steps=200, polish=False, progress=False, restarts=0)
    plain = sl.discover(x, sl.spaces.Affine(2), spares=0, **kw)
    spared = sl.discover(x, sl.spaces.Affine(2), spares=1.0, **kw)
    assert plain.discovery.runs == spared.discovery.runs == 6
    assert not plain.restarts.any()
    stuck = ~(spared.discovery.loss > spared.threshold) | spared.discovery.failed
    replaced = spared.restarts > 0
    assert replaced.any()  # this short fit leaves runs stuck and some spares converge
    assert np.all(spared.restarts <= 1)
    assert not (replaced & stuck).any()  # a replaced run holds a converged spare


@pytest.mark.parametrize("kwargs, match", [
    (dict(runs=1), "runs"), (dict(runs=2.5), "runs"), (dict(runs="4"), "runs"),
    (dict(test_fraction=0.0), "test_fraction"), (dict(test_fraction=1e-4), "held-out"),
    (dict(level=2.0), "level"), (dict(restarts=-1), "restarts"), (dict(seed=1.5), "seed"),
    (dict(tries=0), "tries"), (dict(tries=1.5), "tries"), (dict(spares=-0.1), "spares"),
    (dict(spares=float("nan")), "spares"),
])
def test_discover_bad_arguments(kwargs, match):
    x = problems.ring_sample(2000, 0)
    with pytest.raises((ValueError, TypeError), match=match):
        sl.discover(x, sl.spaces.Affine(2), **kwargs)


def test_discover_bad_data():
    with pytest.raises(ValueError, match="dimension"):
        sl.discover(np.zeros((100, 3)) + np.arange(3), sl.spaces.Affine(2))
    with pytest.raises((ValueError, TypeError)):
        sl.discover(np.zeros((0, 2)), sl.spaces.Affine(2))
    with pytest.raises((ValueError, TypeError), match="space"):
        sl.discover(problems.ring_sample(100, 0), "SO(2)")
    x = problems.ring_sample(100, 0)
    x[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        sl.discover(x, sl.spaces.Affine(2))


# ----------------------------------------------------------------------------- CLI
def test_parse_space():
    assert isinstance(cli.parse_space("SO(4)"), sl.spaces.SO) and cli.parse_space("SO(4)").dim == 4
    assert isinstance(cli.parse_space("O2"), sl.spaces.O2)
    assert cli.parse_space("Affine(2)").dim == 2
    for bad in ("SO(", "Nope(3)", "SearchSpace", ""):
        with pytest.raises(ValueError, match="space"):
            cli.parse_space(bad)


def test_read_points_formats(tmp_path):
    import h5py
    x = problems.ring_sample(50, 0)
    np.save(tmp_path / "a.npy", x)
    np.savetxt(tmp_path / "a.csv", x, delimiter=",", header="x,y", comments="")
    with h5py.File(tmp_path / "a.h5", "w") as f:
        f["grp/pts"] = x
    for spec in ("a.npy", "a.csv", "a.h5:grp/pts"):
        assert np.allclose(cli.read_points(str(tmp_path / spec)), x)
    with pytest.raises(OSError, match="no such file"):
        cli.read_points(str(tmp_path / "missing.npy"))
    (tmp_path / "bad.npy").write_bytes(b"not numpy")
    with pytest.raises(OSError, match="bad.npy"):
        cli.read_points(str(tmp_path / "bad.npy"))
    with pytest.raises(OSError, match="dataset"):
        cli.read_points(str(tmp_path / "a.h5") + ":nope")


def test_cli_end_to_end(tmp_path, capsys):
    x = problems.ring_sample(2000, 0)
    np.save(tmp_path / "ring.npy", x)
    rc = cli.main(["discover", str(tmp_path / "ring.npy"), "--space", "Affine(2)", "--runs", "2",
                   "--steps", "100", "--restarts", "0", "--no-progress"])
    assert rc == 0
    assert "sl.discover" in capsys.readouterr().out
    assert json.loads((tmp_path / "ring.npy.symlab.json").read_text())["runs"] == 2
    assert (tmp_path / "ring.npy.symlab.png").stat().st_size > 0
    rc = cli.main(["discover", str(tmp_path / "ring.npy"), "--space", "SO(3)", "--runs", "2"])
    assert rc == 2 and "3 dimensions" in capsys.readouterr().err


def test_hand_written_adam_matches_torch():
    torch.manual_seed(0)
    p1 = torch.randn(5, 7, dtype=torch.float64)
    p2 = p1.clone().requires_grad_(True)
    ours = _loop.Adam(p1, eps=1e-7)
    ref = torch.optim.Adam([p2], lr=0.01, eps=1e-7)
    for _ in range(20):
        g = torch.randn(5, 7, dtype=torch.float64)
        ours.step(g, 0.01)
        p2.grad = g.clone()
        ref.step()
    assert torch.allclose(p1, p2.detach(), atol=1e-12)


def test_group_metric_is_the_left_invariant_length():
    """δθᵀ F δθ equals ‖skew A‖² + stretch² ‖sym A‖² + ‖b‖² / gain² with A = M⁻¹ δM, b = M⁻¹ δu:
    a form that conjugation by a rotation Q (A ↦ Q A Qᵀ, b ↦ Q b) leaves unchanged."""
    space = sl.spaces.Iwasawa2D()
    std = _loop.Standardised(space, torch.zeros(2, dtype=torch.float64), 1.0)
    theta = space.sample_init(5, seed=2).double()
    F = std.metric(theta, shift_gain=0.5, stretch=3.0)
    d = torch.randn(5, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    h = 1e-6
    Mp, up = std.maps(theta + h * d)
    Mm, um = std.maps(theta - h * d)
    M0 = std.maps(theta)[0]
    A = torch.linalg.solve(M0, (Mp - Mm) / (2 * h))
    b = torch.linalg.solve(M0, ((up - um) / (2 * h))[..., None])[..., 0] / 0.5
    skew, sym = 0.5 * (A - A.transpose(1, 2)), 0.5 * (A + A.transpose(1, 2))
    expected = skew.pow(2).sum((1, 2)) + 9.0 * sym.pow(2).sum((1, 2)) + b.pow(2).sum(1)
    got = (d[:, None] @ F @ d[:, :, None]).flatten()
    assert torch.allclose(got, expected, rtol=1e-4)
    Q = torch.tensor(rot(0.83))
    Ac, bc = Q @ A @ Q.T, b @ Q.T
    skc, syc = 0.5 * (Ac - Ac.transpose(1, 2)), 0.5 * (Ac + Ac.transpose(1, 2))
    conj = skc.pow(2).sum((1, 2)) + 9.0 * syc.pow(2).sum((1, 2)) + bc.pow(2).sum(1)
    assert torch.allclose(conj, expected, rtol=1e-10)


def test_compact_spaces_have_their_own_defaults_and_settings_still_win():
    so4 = sl.SymmetryGAN(sl.spaces.SO(4))
    assert (so4.optimizer, so4.steps, so4.lr_g, so4.eps_g) == ("lie", 5000, 0.2, 0.01)
    so2so2 = sl.SymmetryGAN(sl.spaces.SO2xSO2())  # abelian: Adam on its angles
    assert (so2so2.optimizer, so2so2.lr_g) == ("adam", 0.2)
    for space in (sl.spaces.Affine(2), sl.spaces.RotationScale2D(), sl.spaces.O2()):
        gan = sl.SymmetryGAN(space)
        assert (gan.optimizer, gan.steps, gan.lr_g, gan.eps_g) == ("adam", 3000, 0.01, 0.3)
    mixed = sl.SymmetryGAN(sl.spaces.SO(3), lr_g=0.1, optimizer="group")
    assert (mixed.optimizer, mixed.steps, mixed.lr_g, mixed.eps_g) == ("group", 5000, 0.1, 0.01)
    # sl.discover explores compact groups with these defaults, other spaces with its recipe
    from symlab.discover import RECIPE, recipe_for
    assert recipe_for(sl.spaces.SO(4)) == {} and recipe_for(sl.spaces.O2()) == RECIPE


def test_compositions_complete_a_finite_group():
    # 14 of D8's 16 elements: their products that are no candidate yet are the 2 missing
    from symlab.discover import _compositions
    D8 = problems._dihedral(8)
    M, V = _compositions(D8[:14], np.zeros((14, 2)), 1.0, 0.14, 64, 0)
    assert len(M) == 2
    d = np.linalg.norm(M[:, None] - D8[None, 14:], axis=(2, 3))
    assert np.all(d.min(1) < 1e-9) and np.all(d.min(0) < 1e-9)
    assert len(_compositions(D8, np.zeros((16, 2)), 1.0, 0.14, 64, 0)[0]) == 0  # closed
    M, _ = _compositions(D8[:14], np.zeros((14, 2)), 1.0, 0.14, 1, 0)
    assert len(M) == 1                                                         # the cap
