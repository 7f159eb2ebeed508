"""pytest configuration for the course's notebooks (nbval runs them; see pyproject.toml).

``notebooks/`` and ``solutions/`` store their outputs, and nbval compares every cell's new output
with the stored one. ``exercises/`` run in lax mode: nbval only checks that every cell runs
without an error. Generated exercise notebooks store no outputs (nbval would not compare those
cells anyway); lax mode also covers a learner's own, executed exercise notebook in a clone.
"""

from pathlib import Path

LAX_FOLDERS = {"exercises"}


def pytest_collectstart(collector):
    """Turn off output comparison for notebooks directly inside a lax folder."""
    if type(collector).__name__ == "IPyNbFile" and Path(collector.path).parent.name in LAX_FOLDERS:
        collector.compare_outputs = False

# course_lib/grading's old module names (lesson01.py, gradebook.py, ...) are aliases of the modules
# that moved to course_lib.exercises and course_lib.batch: their doctests run once, in the new home.
collect_ignore = [str(p) for p in Path(__file__).parent.glob("course_lib/grading/*.py")
                  if "sys.modules[__name__] = importlib.import_module" in p.read_text()]
