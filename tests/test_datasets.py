"""course_lib.datasets: the digits are shipped, read offline, and are the data the README says."""

import hashlib
from importlib import resources

import numpy as np

from course_lib.datasets import load_digits

SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


def test_the_shipped_file_is_the_one_documented():
    data = resources.files("course_lib").joinpath("data", "digits.csv.gz").read_bytes()
    assert hashlib.sha256(data).hexdigest() == SHA256
    readme = resources.files("course_lib").joinpath("data", "README.md").read_text("utf-8")
    assert SHA256 in readme and "CC BY 4.0" in readme and "10.24432/C50P49" in readme


def test_load_digits_shape_range_and_classes():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and np.array_equal(X, np.round(X))
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert X.sum() == 561718 and float((X * np.arange(64)).sum()) == 17660653
    assert y[:10].tolist() == list(range(10))


def test_each_call_returns_a_fresh_copy():
    X, y = load_digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.min() == 0
