"""Every stored notebook carries the metadata its kernel announces, so that JupyterLab opens it
unmodified (it rewrites ``kernelspec`` and ``language_info`` on connect and marks the notebook
dirty only when they differ; see course_lib/execute.py, and tests/test_lab_browser.py for the
proof in a real JupyterLab)."""

import json
import re
from pathlib import Path

import pytest

from course_lib.execute import KERNELSPEC, LANGUAGE_INFO_KEYS, language_info, write_metadata

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted([*ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("solutions/*.ipynb"),
                    *ROOT.glob("exercises/*.ipynb"),
                    *ROOT.glob("course_lib/presentations/*.ipynb")])


def test_the_notebooks_are_found():
    assert len(NOTEBOOKS) >= 20


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_notebook_stores_what_its_kernel_announces(path):
    meta = json.loads(path.read_text(encoding="utf-8"))["metadata"]
    assert meta["kernelspec"] == KERNELSPEC
    info = meta["language_info"]
    assert sorted(info) == sorted(LANGUAGE_INFO_KEYS)
    ours = language_info()
    assert {k: v for k, v in info.items() if k != "version"} == \
        {k: v for k, v in ours.items() if k != "version"}
    assert re.fullmatch(r"3\.\d+\.\d+", info["version"])
    assert set(meta) <= {"kernelspec", "language_info", "softmax_course"}


def test_all_notebooks_name_one_python_version():
    versions = {json.loads(p.read_text(encoding="utf-8"))["metadata"]["language_info"]["version"]
                for p in NOTEBOOKS}
    assert len(versions) == 1, f"re-run python -m course_lib.execute --metadata-only: {versions}"


def test_writing_the_metadata_touches_nothing_else(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook(metadata={"kernelspec": {"name": "python3", "display_name": "P"},
                                            "widgets": {"state": "x"}, "language_info": {"name": "python"}})
    nb.cells.append(nbformat.v4.new_code_cell("1 + 1", id="a",
                                              outputs=[nbformat.v4.new_output("stream", text="2\n")]))
    path = tmp_path / "n.ipynb"
    path.write_text(nbformat.writes(nb), encoding="utf-8")
    before = json.loads(path.read_text())
    assert write_metadata(path) is True
    after = json.loads(path.read_text())
    assert after["metadata"] == {"kernelspec": KERNELSPEC, "language_info": language_info()}
    assert after["cells"] == before["cells"]
    assert write_metadata(path) is False
