"""Generate an LHC-Olympics-like QCD dijet sample with Pythia 8 and FastJet.

Run it as a module::

    python -m symlab.data.generate --events 100000 --seed 2112 --out dijets.h5
    python -m symlab.data.generate --pthat-check --events 40000 --seed 1   # the pT-hat study

Needs the optional extra ``pip install symlab[generate]`` (``pythia8mc``, ``fastjet``).

What one event goes through (the settings are the fields of :class:`GeneratorConfig`):

1. **Pythia 8**: pp at √s = 13 TeV, ``HardQCD:all = on`` with ``PhaseSpace:pTHatMin``,
   ``PartonLevel:MPI = off`` (as in the LHCO R&D sample), everything else at Pythia's defaults.
2. **Pre-filter** (speed only, no effect on the selected sample): an event is dropped as soon
   as its leading parton-level anti-kT jet is below ``prefilter_pt`` = 850 GeV — first when the
   shower evolution passes ``veto_scale`` = 50 GeV (a Pythia ``UserHooks`` veto, which skips the
   rest of the shower), then again at the end of the parton level (which skips hadronisation).
   Triggered events have a parton-level leading jet above ~1.05 TeV at either stage, so the cut
   is far from biting (``--pthat-check`` prints both minima).
3. **Jets**: visible final-state particles (neutrinos excluded) clustered with anti-kT,
   R = 1.0, E-scheme, by FastJet's core (fjcore, driven through Pythia's ``SlowJet`` in its
   FastJet mode) — the same jets as the ``fastjet`` package gives (see :func:`cluster_fastjet`).
4. **Detector smearing** (a stand-in for Delphes): each jet four-momentum is scaled by
   ``1 + pt_resolution · z`` (z ~ N(0, 1), η and the mass-to-pT ratio kept) and rotated in φ by
   ``phi_resolution · z'``; jets are then re-ordered by smeared pT. ``pt_resolution = 0.035`` is
   calibrated so that the median (pT1 − pT2)/(pT1 + pT2) matches LHCO's 0.042.
5. **Trigger**: the leading (smeared) jet has pT > 1.2 TeV and |η| < 2.5; the two leading jets
   are kept.
6. **Features** in the LHCO layout: ``pxj1 pyj1 pzj1 mj1 tau1j1 tau2j1 tau3j1`` and the same for
   jet 2, plus ``label = 0``. τ_N (N = 1, 2, 3) is the normalised N-subjettiness (β = 1, R0 = 1)
   on the jet's constituents with exclusive-kT subjet axes (:func:`nsubjettiness`); it is
   dimensionless, so only ratios such as τ2/τ1 compare with LHCO's.

Events are generated in fixed-size chunks; chunk ``k`` gets its own Pythia seed and smearing
stream from ``numpy.random.SeedSequence(seed, spawn_key=(k,))``, so a given ``(events, seed,
chunk)`` gives the same file whatever the number of worker processes.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass

import numpy as np

from .. import _checks
from .._progress import use_progress as _use_progress
from .lhco import LHCO_COLUMNS, LHCO_REFERENCE, dijet_summary, write_lhco_features

__all__ = ["GeneratorConfig", "generate", "nsubjettiness", "cluster_fastjet", "pthat_check",
           "main"]

_INSTALL = "pip install 'symlab[generate]'  (pythia8mc==8.317.2 and fastjet)"


@dataclass(frozen=True)
class GeneratorConfig:
    """Every physics setting of the generator (defaults = the shipped sample)."""

    ecm: float = 13000.0             #: centre-of-mass energy, GeV
    pthat_min: float = 700.0         #: PhaseSpace:pTHatMin, GeV (see pthat_check)
    mpi: bool = False                #: PartonLevel:MPI (off, as in LHCO)
    jet_r: float = 1.0               #: anti-kT radius
    trigger_pt: float = 1200.0       #: leading-jet pT threshold (after smearing), GeV
    trigger_eta: float = 2.5         #: leading-jet |η| limit
    pt_resolution: float = 0.035     #: relative Gaussian jet-pT resolution
    phi_resolution: float = 0.01     #: Gaussian jet-φ resolution, rad
    prefilter_pt: float = 850.0      #: parton-level leading-jet pT below which an event is dropped
    veto_scale: float = 50.0         #: shower pT scale of the early pre-filter, GeV (0: off)
    jet_ptmin: float = 20.0          #: jets below this (truth) pT are ignored, GeV
    chunk: int = 500                 #: selected events per chunk (one Pythia seed per chunk)

    def __post_init__(self):
        for name in ("ecm", "pthat_min", "jet_r", "trigger_eta"):
            _checks.rate(getattr(self, name), name)
        for name in ("trigger_pt", "pt_resolution", "phi_resolution", "prefilter_pt",
                     "veto_scale", "jet_ptmin"):
            _checks.nonnegative(getattr(self, name), name)
        _checks.flag(self.mpi, "mpi")
        _checks.count(self.chunk, "chunk")

    def pythia_settings(self, seed: int, bias_pow: float = 0.0) -> list[str]:
        """The Pythia ``readString`` lines for one chunk."""
        s = [
            f"Beams:eCM = {self.ecm:g}",
            "HardQCD:all = on",
            f"PhaseSpace:pTHatMin = {self.pthat_min:g}",
            f"PartonLevel:MPI = {'on' if self.mpi else 'off'}",
            "HadronLevel:all = off",          # hadronised on demand, after the pre-filter
            "Random:setSeed = on",
            f"Random:seed = {int(seed)}",
            "Print:quiet = on",
        ]
        if bias_pow:
            s += ["PhaseSpace:bias2Selection = on", f"PhaseSpace:bias2SelectionPow = {bias_pow:g}",
                  f"PhaseSpace:bias2SelectionRef = {self.pthat_min:g}"]
        return s


# ----------------------------------------------------------------------------- physics pieces
def _require():
    try:
        import fastjet  # noqa: F401
        import pythia8mc  # noqa: F401
    except ImportError as err:
        raise ImportError(f"the generator needs Pythia 8 and FastJet: {_INSTALL}") from err


def _chunk_seeds(seed: int, chunk_index: int) -> tuple[int, np.random.Generator]:
    """Pythia seed (1 … 900,000,000) and smearing generator for chunk ``chunk_index``."""
    ss = np.random.SeedSequence(int(seed), spawn_key=(int(chunk_index),))
    pythia_seed = int(ss.generate_state(1, np.uint64)[0] % 900_000_000) + 1
    return pythia_seed, np.random.default_rng(ss.spawn(1)[0])


def nsubjettiness(pt: np.ndarray, rap: np.ndarray, phi: np.ndarray, e4: np.ndarray,
                  nmax: int = 3, r0: float = 1.0) -> np.ndarray:
    """Normalised N-subjettiness τ_1 … τ_nmax of one jet (Thaler & Van Tilburg, β = 1).

    τ_N = Σ_k pT_k min_a ΔR(k, a) / (R0 Σ_k pT_k), with the N axes a the exclusive-kT subjets
    of the constituents (FastJet's kt algorithm run to exactly N jets; no axis minimisation).

    Args:
        pt, rap, phi: constituent transverse momenta, rapidities, azimuths ``[M]``.
        e4: constituent four-momenta ``[M, 4]`` = (px, py, pz, E).
        nmax: largest N.
        r0: the characteristic radius in the normalisation (the jet radius).

    Returns:
        ``[nmax]`` float array; τ_N = 0 when the jet has at most N constituents.
    """
    import fastjet as fj

    taus = np.zeros(nmax)
    m = len(pt)
    if m == 0:
        return taus
    pjs = [fj.PseudoJet(*row) for row in e4.tolist()]
    seq = fj.ClusterSequence(pjs, fj.JetDefinition(fj.kt_algorithm, fj.JetDefinition.max_allowable_R))
    norm = r0 * pt.sum()
    for n in range(1, nmax + 1):
        if m <= n:
            break
        axes = seq.exclusive_jets(n)
        ay = np.array([a.rap() for a in axes])
        aphi = np.array([a.phi() for a in axes])
        dphi = np.abs(phi[:, None] - aphi[None, :]) % (2 * np.pi)
        dphi = np.minimum(dphi, 2 * np.pi - dphi)
        dr = np.sqrt((rap[:, None] - ay[None, :]) ** 2 + dphi ** 2).min(axis=1)
        taus[n - 1] = (pt * dr).sum() / norm
    return taus


def cluster_fastjet(e4: np.ndarray, r: float = 1.0, ptmin: float = 20.0) -> np.ndarray:
    """Anti-kT jets of particles ``[M, 4]`` (px, py, pz, E) with the ``fastjet`` package.

    Returns ``[J, 4]`` jet four-momenta sorted by decreasing pT. Used to cross-check the
    generator's fjcore clustering (they agree to rounding).
    """
    import fastjet as fj

    pjs = [fj.PseudoJet(*row) for row in e4.tolist()]
    seq = fj.ClusterSequence(pjs, fj.JetDefinition(fj.antikt_algorithm, r))
    jets = fj.sorted_by_pt(seq.inclusive_jets(ptmin))
    return np.array([(j.px(), j.py(), j.pz(), j.e()) for j in jets]).reshape(-1, 4)


def _particles(event, indices) -> np.ndarray:
    """``[M, 4]`` four-momenta of the event entries ``indices``."""
    out = np.empty((len(indices), 4))
    for row, i in enumerate(indices):
        p = event[i]
        out[row] = (p.px(), p.py(), p.pz(), p.e())
    return out


def _smear(jets: np.ndarray, cfg: GeneratorConfig, rng: np.random.Generator) -> np.ndarray:
    """Smear ``[J, 4]`` jet four-momenta (px, py, pz, E) as documented in the module."""
    scale = np.clip(1.0 + cfg.pt_resolution * rng.standard_normal(len(jets)), 0.05, None)
    dphi = cfg.phi_resolution * rng.standard_normal(len(jets))
    c, s = np.cos(dphi), np.sin(dphi)
    out = jets * scale[:, None]
    px, py = out[:, 0].copy(), out[:, 1].copy()
    out[:, 0], out[:, 1] = c * px - s * py, s * px + c * py
    return out


def _eta(p: np.ndarray) -> np.ndarray:
    pt = np.hypot(p[..., 0], p[..., 1])
    return np.arcsinh(p[..., 2] / np.maximum(pt, 1e-12))


def _mass(p: np.ndarray) -> np.ndarray:
    m2 = p[..., 3] ** 2 - (p[..., :3] ** 2).sum(-1)
    return np.sqrt(np.maximum(m2, 0.0))


def _shower_veto(p8, scale: float, cut: float | None, r: float, ptmin: float):
    """A Pythia ``UserHooks`` that looks at the event once, when the shower passes ``scale``:
    it records the leading anti-kT jet pT of the partons at that moment (``.last``) and, if
    ``cut`` is set and that pT is below it, vetoes the event (Pythia then starts a new one)."""

    class ShowerVeto(p8.UserHooks):
        def __init__(self):
            p8.UserHooks.__init__(self)
            self.jets = p8.SlowJet(-1, r, ptmin, 25.0, 1, 2, None, True, True)
            self.last, self.vetoed = 0.0, 0

        def canVetoPT(self):
            return True

        def scaleVetoPT(self):
            return scale

        def doVetoPT(self, iPos, event):
            self.jets.analyze(event)
            self.last = self.jets.pT(0) if self.jets.sizeJet() > 0 else 0.0
            if cut is not None and self.last < cut:
                self.vetoed += 1
                return True
            return False

    return ShowerVeto()


class _Engine:
    """One Pythia instance plus the jet finders; generates events for one chunk."""

    def __init__(self, cfg: GeneratorConfig, pythia_seed: int, bias_pow: float = 0.0,
                 record: bool = False):
        import pythia8mc as p8

        self.cfg = cfg
        self.pythia = p8.Pythia("", False)
        for line in cfg.pythia_settings(pythia_seed, bias_pow):
            if not self.pythia.readString(line):
                raise RuntimeError(f"Pythia rejected the setting {line!r}")
        self.hook = None
        if cfg.veto_scale > 0:
            cut = None if record else cfg.prefilter_pt
            self.hook = _shower_veto(p8, cfg.veto_scale, cut, cfg.jet_r, cfg.jet_ptmin)
            self.pythia.setUserHooksPtr(self.hook)
        if not self.pythia.init():
            raise RuntimeError("Pythia failed to initialise (see its messages above)")
        # anti-kT (power -1), R, pTmin, particle |eta| < 25, select: 1 = all final (partons),
        # 2 = visible final (no neutrinos), massSet 2 = true masses, no hook, fjcore, standard ΔR.
        self.parton_jets = p8.SlowJet(-1, cfg.jet_r, cfg.jet_ptmin, 25.0, 1, 2, None, True, True)
        self.hadron_jets = p8.SlowJet(-1, cfg.jet_r, cfg.jet_ptmin, 25.0, 2, 2, None, True, True)
        self.counts = {"generated": 0, "failed": 0, "prefiltered": 0, "triggered": 0,
                       "lt2jets": 0}

    @property
    def info(self):
        """Pythia's Info for the current event (``infoPython()`` returns a snapshot copy)."""
        return self.pythia.infoPython()

    def next_parton_level(self) -> float | None:
        """Generate one event up to parton level; return its leading parton-jet pT.

        Events vetoed by the early pre-filter are replaced inside ``pythia.next()``; they are
        counted in ``counts["generated"]`` and ``counts["prefiltered"]``.
        """
        before = self.hook.vetoed if self.hook is not None else 0
        ok = self.pythia.next()
        if self.hook is not None:
            self.counts["generated"] += self.hook.vetoed - before
            self.counts["prefiltered"] += self.hook.vetoed - before
        self.counts["generated"] += 1
        if not ok:
            self.counts["failed"] += 1
            return None
        sj = self.parton_jets
        sj.analyze(self.pythia.event)
        return sj.pT(0) if sj.sizeJet() > 0 else 0.0

    def hadronise_and_cluster(self):
        """Hadronise the current event; return (truth jets ``[J, 4]``, constituent indices)."""
        if not self.pythia.forceHadronLevel():
            self.counts["failed"] += 1
            return None
        sj = self.hadron_jets
        sj.analyze(self.pythia.event)
        n = sj.sizeJet()
        jets = np.empty((n, 4))
        for j in range(n):
            p = sj.p(j)
            jets[j] = (p.px(), p.py(), p.pz(), p.e())
        return jets, [list(sj.constituents(j)) for j in range(n)]

    def select(self, jets: np.ndarray, rng: np.random.Generator):
        """Smear, re-order, trigger. Returns (order of the smeared jets, smeared jets) or None."""
        cfg = self.cfg
        if len(jets) < 2:
            self.counts["lt2jets"] += 1
            return None
        smeared = _smear(jets, cfg, rng)
        order = np.argsort(-np.hypot(smeared[:, 0], smeared[:, 1]), kind="stable")
        lead = smeared[order[0]]
        if not (math.hypot(lead[0], lead[1]) > cfg.trigger_pt
                and abs(float(_eta(lead))) < cfg.trigger_eta):
            return None
        self.counts["triggered"] += 1
        return order, smeared

    def features(self, jets, constituents, order, smeared) -> np.ndarray:
        """The 14 LHCO features of the two leading smeared jets."""
        row = []
        event = self.pythia.event
        for j in order[:2]:
            p = smeared[j]
            e4 = _particles(event, constituents[j])
            pt = np.hypot(e4[:, 0], e4[:, 1])
            rap = 0.5 * np.log((e4[:, 3] + e4[:, 2]) / np.maximum(e4[:, 3] - e4[:, 2], 1e-300))
            phi = np.arctan2(e4[:, 1], e4[:, 0])
            taus = nsubjettiness(pt, rap, phi, e4, 3, self.cfg.jet_r)
            row += [p[0], p[1], p[2], float(_mass(p)), *taus]
        return np.asarray(row)


def _run_chunk(task):
    """Worker: generate ``n`` selected events of chunk ``k``. Returns (k, features, diagnostics)."""
    cfg, seed, k, n = task
    pythia_seed, rng = _chunk_seeds(seed, k)
    eng = _Engine(cfg, pythia_seed)
    feats = np.empty((n, len(LHCO_COLUMNS)))
    truth = np.empty((n, 3))                       # truth pT1, pT2 (same jets), pT-hat
    got = 0
    while got < n:
        lead = eng.next_parton_level()
        if lead is None:
            continue
        if lead < cfg.prefilter_pt:
            eng.counts["prefiltered"] += 1
            continue
        res = eng.hadronise_and_cluster()
        if res is None:
            continue
        jets, constituents = res
        sel = eng.select(jets, rng)
        if sel is None:
            continue
        order, smeared = sel
        feats[got] = eng.features(jets, constituents, order, smeared)
        truth[got] = (*np.hypot(jets[order[:2], 0], jets[order[:2], 1]), eng.info.pTHat())
        got += 1
    return k, feats, truth, dict(eng.counts, sigma_mb=eng.info.sigmaGen())


def _config(config) -> GeneratorConfig:
    if config is None:
        return GeneratorConfig()
    if not isinstance(config, GeneratorConfig):
        raise _checks.ArgumentTypeError(f"config must be a GeneratorConfig or None; got "
                                        f"{type(config).__name__}")
    return config


def _plan(events: int, chunk: int) -> list[int]:
    sizes = [chunk] * (events // chunk)
    if events % chunk:
        sizes.append(events % chunk)
    return sizes


def generate(events: int, seed: int, out=None, config: GeneratorConfig | None = None,
             workers: int | None = None, progress: bool | None = None) -> dict:
    """Generate ``events`` triggered dijet events and (optionally) write them to ``out``.

    Args:
        events: number of selected (triggered) events N.
        seed: master seed S; chunk k uses ``SeedSequence(S, spawn_key=(k,))``.
        out: output path (LHCO features layout, see :func:`~symlab.data.write_lhco_features`),
            or ``None`` to only return the arrays.
        config: physics settings (default :class:`GeneratorConfig`).
        workers: processes (default: all cores, at most one per chunk).
        progress: tqdm bar (default: in terminals and notebooks).

    Returns:
        dict with ``features`` ``[N, 14]`` float32 (LHCO columns), ``truth`` ``[N, 3]``
        (unsmeared pT of the two kept jets, pT-hat), ``counts`` (generated, pre-filtered,
        triggered, failed), ``summary`` (:func:`~symlab.data.dijet_summary`), ``seconds``.
    """
    events = _checks.count(events, "events")
    seed = _checks.seed(seed)
    if seed is None:
        raise ValueError("seed must be an integer >= 0 (it is recorded in the file's provenance)")
    cfg = _config(config)
    if workers is not None:
        workers = _checks.count(workers, "workers")
    if out is not None:
        out = _checks.path(out, "out")
    _require()
    sizes = _plan(events, int(cfg.chunk))
    tasks = [(cfg, seed, k, n) for k, n in enumerate(sizes)]
    workers = max(1, min(int(workers or os.cpu_count() or 1), len(tasks)))
    t0 = time.perf_counter()
    results = []
    bar = None
    if _use_progress(progress):
        from tqdm.auto import tqdm
        bar = tqdm(total=events, desc=f"dijets ({workers} proc)", unit="ev", smoothing=0.05)
    try:
        if workers == 1:
            for t in tasks:
                results.append(_run_chunk(t))
                if bar is not None:
                    bar.update(len(results[-1][1]))
        else:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(workers) as pool:
                for r in pool.imap_unordered(_run_chunk, tasks):
                    results.append(r)
                    if bar is not None:
                        bar.update(len(r[1]))
    finally:
        if bar is not None:
            bar.close()
    results.sort(key=lambda r: r[0])
    feats = np.concatenate([r[1] for r in results]).astype(np.float32)
    truth = np.concatenate([r[2] for r in results])
    counts = {key: sum(r[3][key] for r in results) for key in results[0][3] if key != "sigma_mb"}
    counts["sigma_mb"] = float(np.mean([r[3]["sigma_mb"] for r in results]))
    columns = {c: feats[:, i] for i, c in enumerate(LHCO_COLUMNS)}
    columns["label"] = np.zeros(len(feats), np.float32)
    x = feats[:, [0, 1, 7, 8]]
    summary = dijet_summary(x)
    seconds = time.perf_counter() - t0
    if out is not None:
        from importlib.metadata import version

        provenance = {
            "generator": "symlab.data.generate",
            "description": ("QCD dijets, Pythia 8 HardQCD:all at 13 TeV, MPI off; anti-kT R=1.0 on "
                            "visible final-state particles (fjcore); Gaussian jet smearing; leading "
                            "jet pT > 1.2 TeV, |eta| < 2.5; LHCO features layout, see data/README.md"),
            "pythia8mc_version": version("pythia8mc"),
            "fastjet_version": version("fastjet"),
            "config": json.dumps(dataclasses.asdict(cfg), sort_keys=True),
            "seed": seed,
            "events": events,
            "counts": json.dumps(counts, sort_keys=True),
        }
        write_lhco_features(out, columns, attrs=provenance)
    return {"features": feats, "truth": truth, "counts": counts, "summary": summary,
            "seconds": seconds, "config": cfg}


# ----------------------------------------------------------------------------- pT-hat study
def _check_chunk(task):
    cfg, seed, k, n, bias_pow = task
    pythia_seed, rng = _chunk_seeds(seed, k)
    eng = _Engine(cfg, pythia_seed, bias_pow=bias_pow, record=True)
    rows = []                       # pthat, weight, parton lead (end, at veto scale), trig, pt1, pt2
    for _ in range(n):
        lead = eng.next_parton_level()
        if lead is None:
            continue
        early = eng.hook.last if eng.hook is not None else np.nan
        w = eng.info.weight()
        pthat = eng.info.pTHat()
        res = eng.hadronise_and_cluster()
        if res is None:
            continue
        sel = eng.select(res[0], rng)
        if sel is None:
            rows.append((pthat, w, lead, early, 0.0, 0.0, 0.0))
        else:
            order, sm = sel
            pts = np.hypot(sm[order[:2], 0], sm[order[:2], 1])
            rows.append((pthat, w, lead, early, 1.0, pts[0], pts[1]))
    return np.asarray(rows).reshape(-1, 7)


def _wmedian(x, w):
    o = np.argsort(x)
    c = np.cumsum(w[o])
    return float(x[o][np.searchsorted(c, 0.5 * c[-1])])


def pthat_check(events: int = 40000, seed: int = 1, pthat_floor: float = 400.0,
                bias_pow: float = 4.0, config: GeneratorConfig | None = None,
                workers: int | None = None, cuts=(600.0, 700.0, 800.0, 900.0, 1000.0)) -> str:
    """Is ``config.pthat_min`` low enough? Returns (and the CLI prints) a report.

    Generates ``events`` weighted events with pT-hat > ``pthat_floor`` (Pythia's
    ``bias2Selection`` oversamples high pT-hat as (pT-hat/floor)^bias_pow and returns the
    compensating weights), applies the full selection without the pre-filter, and reports

    - per pT-hat bin: the trigger efficiency and the share of the triggered cross section;
    - for each candidate cut: the share of triggered events it would lose, and the weighted
      pT1 / pT2 / imbalance medians of what it keeps (the spectrum comparison);
    - the smallest parton-level leading-jet pT among triggered events (pre-filter safety).
    """
    events = _checks.count(events, "events")
    seed = _checks.seed(seed)
    if seed is None:
        raise ValueError("seed must be an integer >= 0")
    pthat_floor = _checks.rate(pthat_floor, "pthat_floor")
    bias_pow = _checks.nonnegative(bias_pow, "bias_pow")
    if workers is not None:
        workers = _checks.count(workers, "workers")
    cuts = [_checks.rate(c, f"cuts[{i}]") for i, c in enumerate(cuts)]
    base = _config(config)
    _require()
    cfg = dataclasses.replace(base, pthat_min=pthat_floor)
    per = 2000
    sizes = _plan(events, per)
    tasks = [(cfg, seed, k, n, bias_pow) for k, n in enumerate(sizes)]
    workers = max(1, min(int(workers or os.cpu_count() or 1), len(tasks)))
    if workers == 1:
        parts = [_check_chunk(t) for t in tasks]
    else:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(workers) as pool:
            parts = pool.map(_check_chunk, tasks)
    d = np.concatenate(parts)
    pthat, w, lead, early, trig, pt1, pt2 = d.T
    t = trig > 0
    lines = [f"pT-hat study: {len(d)} weighted events, pT-hat > {pthat_floor:g} GeV, bias "
             f"(pT-hat/{pthat_floor:g})^{bias_pow:g}; {int(t.sum())} triggered "
             f"(trigger: smeared leading jet pT > {base.trigger_pt:g} GeV, |eta| < {base.trigger_eta:g})",
             "", "  pT-hat bin [GeV]   events  triggered  trig. eff.  share of triggered σ"]
    edges = [pthat_floor, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1400, np.inf]
    edges = sorted({e for e in edges if e >= pthat_floor})
    wt = w[t].sum()
    for lo, hi in zip(edges[:-1], edges[1:]):
        b = (pthat >= lo) & (pthat < hi)
        eff = w[b & t].sum() / max(w[b].sum(), 1e-300)
        lines.append(f"  {lo:6.0f} – {hi:<6.0f}   {int(b.sum()):7d}  {int((b & t).sum()):9d}"
                     f"  {eff:10.4f}  {w[b & t].sum() / wt:10.4f}")
    lines += ["", "  cut pTHatMin   lost share   pT1 median   pT2 median   imbalance median"]
    imb = np.divide(pt1 - pt2, pt1 + pt2, out=np.zeros_like(pt1), where=t)
    for c in [pthat_floor, *[c for c in cuts if c > pthat_floor]]:
        k = t & (pthat >= c)
        lines.append(f"  {c:10.0f}   {w[t & (pthat < c)].sum() / wt:10.4f}   {_wmedian(pt1[k], w[k]):10.0f}"
                     f"   {_wmedian(pt2[k], w[k]):10.0f}   {_wmedian(imb[k], w[k]):10.4f}")
    lines += ["", "  smallest leading parton-jet pT of a triggered event (pre-filter at "
              f"{base.prefilter_pt:g} GeV):",
              f"    when the shower passes {base.veto_scale:g} GeV: {np.nanmin(early[t]):.0f} GeV;"
              f"  at the end of the parton level: {lead[t].min():.0f} GeV",
              f"  largest gain after the {base.veto_scale:g} GeV scale (any event): "
              f"{np.nanmax(lead - early):.0f} GeV"]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m symlab.data.generate", description=__doc__.split("\n")[0])
    d = GeneratorConfig()
    ap.add_argument("--events", type=int, required=True, help="selected events N (weighted events with --pthat-check)")
    ap.add_argument("--seed", type=int, required=True, help="master seed S")
    ap.add_argument("--out", help="output .h5 (LHCO features layout)")
    ap.add_argument("--workers", type=int, default=None, help="processes (default: all cores)")
    ap.add_argument("--pthat-min", type=float, default=d.pthat_min)
    ap.add_argument("--pt-resolution", type=float, default=d.pt_resolution)
    ap.add_argument("--phi-resolution", type=float, default=d.phi_resolution)
    ap.add_argument("--prefilter-pt", type=float, default=d.prefilter_pt)
    ap.add_argument("--chunk", type=int, default=d.chunk, help="selected events per chunk/seed")
    ap.add_argument("--no-progress", action="store_true")
    ap.add_argument("--pthat-check", action="store_true",
                    help="run the pT-hat bias study instead (weighted events from --pthat-floor)")
    ap.add_argument("--pthat-floor", type=float, default=400.0)
    a = ap.parse_args(argv)
    cfg = dataclasses.replace(d, pthat_min=a.pthat_min, pt_resolution=a.pt_resolution,
                              phi_resolution=a.phi_resolution, prefilter_pt=a.prefilter_pt,
                              chunk=a.chunk)
    if a.pthat_check:
        print(pthat_check(a.events, a.seed, pthat_floor=a.pthat_floor, config=cfg, workers=a.workers))
        return 0
    if not a.out:
        ap.error("--out is required (or use --pthat-check)")
    res = generate(a.events, a.seed, a.out, config=cfg, workers=a.workers,
                   progress=False if a.no_progress else None)
    c, s = res["counts"], res["summary"]
    t = res["truth"]
    print(f"wrote {a.out}: {len(res['features'])} events in {res['seconds']:.0f} s "
          f"({len(res['features']) / res['seconds']:.1f} ev/s)")
    print(f"generated {c['generated']}, pre-filtered {c['prefiltered']}, triggered {c['triggered']}, "
          f"failed {c['failed']}, <2 jets {c['lt2jets']}; trigger efficiency "
          f"{c['triggered'] / max(c['generated'], 1):.4f}; Pythia's sigma after the early pre-filter "
          f"{c['sigma_mb'] * 1e9:.0f} pb")
    print(f"truth (unsmeared) imbalance median {np.median((t[:, 0] - t[:, 1]) / (t[:, 0] + t[:, 1])):.4f}")
    for key, val in s.items():
        ref = LHCO_REFERENCE.get(key)
        print(f"  {key:24s} {val:9.4f}" + (f"   (LHCO {ref})" if ref is not None else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
