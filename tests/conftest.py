"""Shared pytest configuration for the course_lib test-suite.

* Makes the repository root importable (so ``import course_lib`` works without installing).
* Registers deterministic Hypothesis profiles and loads one:
  - ``ci`` (default): derandomized, a moderate number of examples, no deadline, no example
    database (nothing is written into the working tree);
  - ``dev``: fewer examples for a quick local loop;
  - ``thorough``: many more examples, for occasional deep runs.
  Select with ``HYPOTHESIS_PROFILE=dev pytest ...``.
"""

import os
import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_common = dict(
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("ci", max_examples=60, **_common)
settings.register_profile("dev", max_examples=15, **_common)
settings.register_profile("thorough", max_examples=1000, **_common)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


def pytest_terminal_summary(terminalreporter):
    """One summary line for the browser tests skipped without Chromium (tests/test_browser.py)."""
    reasons = [r.longrepr[2] for r in terminalreporter.stats.get("skipped", [])
               if isinstance(r.longrepr, tuple) and "browser tests skipped" in r.longrepr[2]]
    if reasons:
        reason = reasons[0].removeprefix("Skipped: ")
        terminalreporter.write_line(f"{len(reasons)} {reason}", yellow=True)
