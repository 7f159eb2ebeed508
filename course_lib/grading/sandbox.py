"""Moved to :mod:`course_lib.batch.sandbox`; this name keeps working (it is the same module object)."""

import importlib
import sys

sys.modules[__name__] = importlib.import_module("course_lib.batch.sandbox")
