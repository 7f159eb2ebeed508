"""Small data sets shipped with the course, read offline (nothing is ever downloaded).

``load_digits`` reads the 8 x 8 handwritten digits (UCI, Alpaydin & Kaynak 1998, CC BY 4.0) from
``course_lib/data/digits.csv.gz``; ``course_lib/data/README.md`` states the source, the licence
and the citation.
"""

from __future__ import annotations

import gzip
from importlib import resources

import numpy as np

__all__ = ["load_digits"]


def load_digits():
    """The 1797 handwritten digits of the UCI optical-recognition test set, as arrays.

    Returns
    -------
    X : ndarray of float64, shape (1797, 64)
        Each row an 8 x 8 image, row by row, with integer pixel values in [0, 16].
    y : ndarray of int64, shape (1797,)
        The digit each image shows, 0 to 9.

    Notes
    -----
    A fresh copy is read on every call, so changing the arrays changes nothing for the next
    caller. Source: Alpaydin, E. and Kaynak, C. (1998), *Optical Recognition of Handwritten
    Digits*, UCI Machine Learning Repository, https://doi.org/10.24432/C50P49 (CC BY 4.0);
    the file is the copy scikit-learn ships.

    Examples
    --------
    >>> from course_lib.datasets import load_digits
    >>> X, y = load_digits()
    >>> X.shape, y.shape, float(X.min()), float(X.max())
    ((1797, 64), (1797,), 0.0, 16.0)
    >>> y[:10]
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """
    ref = resources.files("course_lib").joinpath("data", "digits.csv.gz")
    with ref.open("rb") as raw, gzip.open(raw, "rt", encoding="ascii") as text:
        data = np.loadtxt(text, delimiter=",", dtype=np.float64)
    X = np.ascontiguousarray(data[:, :-1])
    y = data[:, -1].astype(np.int64)
    return X, y
