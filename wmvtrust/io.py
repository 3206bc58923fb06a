"""Atomic writers: a file is either written whole or not at all.

Each writer writes to a temporary file in the target's folder and renames it
over the target (``os.replace``, atomic on POSIX and Windows), so an interrupted
run never leaves a half-written table, figure or report.
"""

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ._validation import check_writable_folder

if TYPE_CHECKING:  # for the annotations only: importing matplotlib is slow, and only write_figure's caller needs it
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["check_writable_folder", "write_figure", "write_table", "write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: str | os.PathLike[str], write: Callable[[str], object]) -> Path:
    path = Path(path)
    folder = check_writable_folder(path.parent)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the mode a plain open would
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return path


def write_table(df: "pd.DataFrame", path: str | os.PathLike[str]) -> Path:
    """Write a DataFrame atomically: Parquet for a ``.parquet`` path (needs pyarrow), CSV otherwise.

    Parameters
    ----------
    df : pandas.DataFrame
    path : str or Path

    Returns
    -------
    Path

    Examples
    --------
    >>> import pandas as pd, tempfile, pathlib
    >>> out = write_table(pd.DataFrame({"n": [3, 5]}), pathlib.Path(tempfile.mkdtemp()) / "t.csv")
    >>> out.read_text().splitlines()
    ['n', '3', '5']
    """
    if Path(path).suffix == ".parquet":
        return _atomic(path, lambda tmp: df.to_parquet(tmp, index=False))
    return _atomic(path, lambda tmp: df.to_csv(tmp, index=False))


def write_figure(fig: "Figure", path: str | os.PathLike[str], dpi: int = 120) -> Path:
    """Save a matplotlib figure atomically as PNG.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or Path
    dpi : int, default=120

    Returns
    -------
    Path

    Examples
    --------
    >>> import matplotlib; matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt, tempfile, pathlib
    >>> fig, ax = plt.subplots()
    >>> write_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png").read_bytes()[:8]
    b'\\x89PNG\\r\\n\\x1a\\n'
    """
    return _atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=dpi))


def write_text(text: str, path: str | os.PathLike[str]) -> Path:
    """Write text (UTF-8) atomically.

    Parameters
    ----------
    text : str
    path : str or Path

    Returns
    -------
    Path

    Examples
    --------
    >>> import tempfile, pathlib
    >>> write_text("# Report", pathlib.Path(tempfile.mkdtemp()) / "r.md").read_text()
    '# Report'
    """
    return _atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
