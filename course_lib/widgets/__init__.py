"""The slider demos: live in JupyterLab, a static figure wherever widgets cannot render.

One module per lesson's demos (``temperature``, ``attention``, ``policies``, ...); each lists its
demos in ``__all__``, and they are all importable from here::

    from course_lib.widgets import temperature_explorer
"""

import importlib as _importlib
import pkgutil as _pkgutil

__all__ = []
for _info in sorted(_pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.name.startswith("_"):
        continue
    _module = _importlib.import_module(f".{_info.name}", __name__)
    for _name in getattr(_module, "__all__", ()):
        globals()[_name] = getattr(_module, _name)
        __all__.append(_name)
