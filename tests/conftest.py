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
    """One summary line per opt-in group skipped here (tests/test_browser.py without Chromium,
    tests/test_fresh_clone.py outside CI): what was skipped and how to run it."""
    reasons = [r.longrepr[2].removeprefix("Skipped: ")
               for r in terminalreporter.stats.get("skipped", []) if isinstance(r.longrepr, tuple)]
    for reason in dict.fromkeys(r for r in reasons if " skipped: " in r and "SOFTMAX_COURSE_" in r):
        terminalreporter.write_line(f"{reasons.count(reason)} {reason}", yellow=True)
