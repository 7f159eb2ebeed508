"""Run a lesson or solution notebook and store its outputs, clean and reproducible.

Authors run ``softmax-course execute notebooks/01_definition.ipynb`` after editing a lesson. The
notebook is executed top to bottom in a fresh kernel, in its own folder (so relative paths work
as they do for a learner), and written back with nothing machine-specific: no execution timings,
no kernel-specific cell metadata. Execution counts run 1, 2, 3, ... in order.
A cell that raises stops the run and nothing is written (no error is ever stored).

The notebook-level metadata is what the kernel itself announces when JupyterLab connects to it:
the kernelspec and the complete ``language_info`` (:func:`notebook_metadata`). JupyterLab
overwrites both on connect and marks the notebook modified only when they *differ* from what is
stored (it compares them as JSON), so storing exactly what the kernel sends keeps a freshly
opened lesson unmodified. ``language_info.version`` is the Python version of the kernel: a
learner whose Python differs (another patch release) sees the notebook marked modified on
opening; nothing stored can avoid that, and the rest of the file is unchanged if they save it.
``python -m course_lib.execute --metadata-only PATH ...`` rewrites only that top-level block of
notebooks, without running them.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["clean_metadata", "execute_notebook", "kernel_manager", "language_info",
           "notebook_metadata", "write_metadata", "KERNEL_NAME", "KERNELSPEC",
           "LANGUAGE_INFO_KEYS"]

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
#: the keys of ``language_info`` that ipykernel sends on connect (and JupyterLab stores)
LANGUAGE_INFO_KEYS = ("codemirror_mode", "file_extension", "mimetype", "name",
                      "nbconvert_exporter", "pygments_lexer", "version")
_CELL_METADATA_KEPT = ("tags", "editable", "deletable", "jupyter")


def kernel_manager():
    """A kernel manager whose ``python3`` kernel runs in *this* Python environment.

    A ``python3`` kernelspec installed elsewhere on the machine (pointing at another Python,
    without ``course_lib``) would otherwise win; nbval's ``--nbval-current-env`` does the same.
    """
    import ipykernel.kernelspec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager

    class CurrentEnvironment(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            return self.kernel_spec_class(resource_dir=ipykernel.kernelspec.RESOURCES,
                                          **ipykernel.kernelspec.get_kernel_dict())

    return AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=CurrentEnvironment())


def language_info():
    """The ``language_info`` this environment's ``python3`` kernel sends when a client connects.

    Returns
    -------
    dict
        ipykernel's ``language_info``, with exactly the keys :data:`LANGUAGE_INFO_KEYS`.

    Examples
    --------
    >>> import sys
    >>> info = language_info()
    >>> info["name"], info["pygments_lexer"], info["version"] == sys.version.split()[0]
    ('python', 'ipython3', True)
    """
    from ipykernel.ipkernel import IPythonKernel

    info = IPythonKernel.language_info
    return {key: copy.deepcopy(info[key]) for key in LANGUAGE_INFO_KEYS}


def notebook_metadata(extra=None):
    """The notebook-level metadata the project stores: the kernel's own, plus ``extra``'s
    ``softmax_course`` entry (an exercise notebook's provenance) if it has one.

    Parameters
    ----------
    extra : mapping, optional
        Existing notebook metadata; only its ``softmax_course`` entry is kept.

    Examples
    --------
    >>> meta = notebook_metadata({"widgets": {}, "softmax_course": {"generated_from": "x"}})
    >>> sorted(meta), meta["kernelspec"]["display_name"]
    (['kernelspec', 'language_info', 'softmax_course'], 'Python 3 (ipykernel)')
    """
    extra = extra or {}
    return {
        "kernelspec": dict(KERNELSPEC),
        "language_info": language_info(),
        **({"softmax_course": copy.deepcopy(extra["softmax_course"])}
           if "softmax_course" in extra else {}),
    }


def clean_metadata(nb):
    """Replace ``nb``'s metadata with what the project stores, in place, and return ``nb``.

    The notebook's metadata becomes :func:`notebook_metadata` (the kernelspec and
    ``language_info`` the kernel announces; timings, widget state and the like are dropped);
    each cell keeps only ``tags``, ``editable``, ``deletable`` and ``jupyter`` (collapsed state).

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python"}})
    >>> nb.cells.append(nbformat.v4.new_code_cell("1", metadata={"scrolled": True, "tags": ["x"]}))
    >>> sorted(clean_metadata(nb).metadata["language_info"]) == sorted(LANGUAGE_INFO_KEYS)
    True
    >>> dict(nb.cells[0].metadata)
    {'tags': ['x']}
    """
    nb.metadata = notebook_metadata(nb.metadata)
    for cell in nb.cells:
        cell.metadata = {k: v for k, v in cell.metadata.items() if k in _CELL_METADATA_KEPT}
    return nb


def execute_notebook(path, *, timeout=120, write=True):
    """Execute the notebook at ``path`` in a fresh kernel and (by default) store its outputs.

    Parameters
    ----------
    path : path-like
        The notebook.
    timeout : float
        Seconds each cell may take.
    write : bool
        Write the executed notebook back (atomically, only if it changed).

    Returns
    -------
    nbformat.NotebookNode
        The executed, cleaned notebook.

    Raises
    ------
    nbclient.exceptions.CellExecutionError
        When a cell raises; the file is left as it was.
    """
    import nbformat
    from nbclient import NotebookClient

    from .build import render, write_atomically

    path = Path(path).resolve()
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        km=kernel_manager(),
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    # a fixed hash seed: set iteration order, and so every stored output, is the same each run
    # (the kernel process's own stderr is start-up chatter; cells' output arrives either way)
    client.execute(env={**os.environ, "PYTHONHASHSEED": "0"}, stderr=subprocess.DEVNULL)
    clean_metadata(nb)
    if write:
        data = render(nb).encode("utf-8")
        if data != path.read_bytes():
            write_atomically(path, data)
    return nb


def write_metadata(path):
    """Give the notebook at ``path`` the stored notebook-level metadata, without running it.

    Only the top-level ``"metadata"`` block changes; cells, outputs and ids are left byte for
    byte as they were (the file is rewritten with the project's formatting).

    Parameters
    ----------
    path : path-like
        The notebook.

    Returns
    -------
    bool
        Whether the file changed.
    """
    import nbformat

    from .build import render, write_atomically

    path = Path(path)
    original = path.read_bytes()
    nb = nbformat.reads(original.decode("utf-8"), as_version=4)
    nb.metadata = notebook_metadata(nb.metadata)
    data = render(nb).encode("utf-8")
    if data == original:
        return False
    before, after = json.loads(original), json.loads(data)
    before.pop("metadata"), after.pop("metadata")
    if before != after:
        raise RuntimeError(f"{path}: rewriting its metadata would change more than the metadata")
    write_atomically(path, data)
    return True


def _main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m course_lib.execute",
        description="Store the kernel's notebook-level metadata in notebooks, without running them.")
    parser.add_argument("--metadata-only", action="store_true", required=True)
    parser.add_argument("notebooks", nargs="+", metavar="NOTEBOOK")
    args = parser.parse_args(argv)
    for name in args.notebooks:
        if write_metadata(name):
            print(f"metadata written: {name}")
    return 0


if __name__ == "__main__":
    sys.exit(_main())
