"""Dijet data for the LHC example (paper Sec. VI): loaders, the bundled sample, LHCO downloads.

- :func:`load_dijets` — the paper's event vectors X = (p1x, p1y, p2x, p2y) (Eq. 29) as a
  float32 ``[N, 4]`` array in GeV, from the bundled Pythia 8 sample or an LHCO features file.
- :func:`read_lhco_features` / :func:`write_lhco_features` — the LHCO (pandas ``fixed``) HDF5
  layout, with h5py alone.
- :func:`choose_dijets` — the events a chapter runs on: a reader's LHCO file (a path,
  ``$SYMLAB_LHCO_FILE`` or ``"download"``) or else the bundled sample, with a line saying which.
- :func:`fetch_lhco` — download the LHCO R&D feature files with an md5 check (``symlab[fetch]``).
- ``python -m symlab.data.generate`` — regenerate the sample (``symlab[generate]``).

Importing this package needs only numpy and h5py; Pythia, FastJet and pooch load on use.
"""

from .choose import LHCO_ENV, DijetEvents, choose_dijets
from .fetch import LHCO_FILES, LHCO_RECORD, fetch_lhco
from .lhco import (
    BLOSC_FILTER_ID,
    DIJET_COLUMNS,
    LHCO_COLUMNS,
    LHCO_REFERENCE,
    check_filters,
    dijet_summary,
    load_dijets,
    read_lhco_features,
    sample_path,
    write_lhco_features,
)

__all__ = [
    "load_dijets", "choose_dijets", "DijetEvents", "LHCO_ENV", "read_lhco_features",
    "write_lhco_features", "sample_path", "fetch_lhco",
    "dijet_summary", "check_filters", "LHCO_COLUMNS", "DIJET_COLUMNS", "LHCO_FILES",
    "LHCO_RECORD", "LHCO_REFERENCE", "BLOSC_FILTER_ID",
]
