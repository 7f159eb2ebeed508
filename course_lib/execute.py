"""Run a lesson or solution notebook and store its outputs, clean and reproducible.

Authors run ``softmax-course execute notebooks/01_definition.ipynb`` after editing a lesson. The
notebook is executed top to bottom in a fresh kernel, in its own folder (so relative paths work
as they do for a learner), and written back with nothing machine-specific: no execution timings,
no Python version, no kernel-specific metadata. Execution counts run 1, 2, 3, ... in order.
A cell that raises stops the run and nothing is written (no error is ever stored).
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

__all__ = ["clean_metadata", "execute_notebook", "kernel_manager", "KERNEL_NAME"]

KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
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


def clean_metadata(nb):
    """Remove machine-specific metadata from ``nb`` in place and return it.

    Keeps the kernelspec (normalised to ``python3``) and ``language_info.name``; keeps only
    ``tags``, ``editable``, ``deletable`` and ``jupyter`` (collapsed state) of each cell's metadata.

    Examples
    --------
    >>> import nbformat
    >>> nb = nbformat.v4.new_notebook(metadata={"language_info": {"name": "python",
    ...                                                       "version": "3.11.7"}})
    >>> nb.cells.append(nbformat.v4.new_code_cell("1", metadata={"scrolled": True, "tags": ["x"]}))
    >>> clean_metadata(nb).metadata["language_info"], dict(nb.cells[0].metadata)
    ({'name': 'python'}, {'tags': ['x']})
    """
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        **({"softmax_course": nb.metadata["softmax_course"]} if "softmax_course" in nb.metadata else {}),
    }
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
