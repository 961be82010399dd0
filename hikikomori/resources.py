"""Files shipped inside the package (SQL models, reference data, example queries), found where the
package is installed: a wheel and a checkout give the same paths relative to ``hikikomori``.

Nothing here depends on the current folder or on where a checkout sits.
"""

from importlib.resources import files
from pathlib import Path


def package_path(*parts: str) -> Path:
    """A file or folder inside the installed ``hikikomori`` package."""
    resource = files("hikikomori").joinpath(*parts)
    if not isinstance(resource, Path):  # a zipped install: never how a wheel is installed
        raise RuntimeError(f"hikikomori must be installed as files, not from an archive: {resource}")
    return resource
