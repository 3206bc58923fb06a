"""Atomic writers: a file is either written whole or not at all.

Each writer writes to a temporary file in the target's folder and renames it
over the target (``os.replace``, atomic on POSIX and Windows), so an interrupted
run never leaves a half-written table, figure or report.
"""

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._validation import check_writable_folder

if TYPE_CHECKING:  # for the annotations only: importing matplotlib is slow, and only write_figure's caller needs it
    import pandas as pd
    from matplotlib.figure import Figure

__all__ = ["check_writable_folder", "write_figure", "write_parquet_folder", "write_table", "write_text"]


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


def write_parquet_folder(frame: Any, path: str | os.PathLike[str]) -> Path:
    """Write a dask DataFrame as a folder of Parquet parts (one per partition), replacing ``path`` as a whole.

    The parts are written into a hidden folder beside ``path``, which is then renamed over it
    (an existing ``path`` is first renamed aside, and removed after): a reader sees the old
    table or the new one, never a mix, and a failed write leaves the old one in place.

    Parameters
    ----------
    frame : dask.dataframe.DataFrame
    path : str or Path

    Returns
    -------
    Path

    Examples
    --------
    >>> import dask.dataframe as dd, pandas as pd, tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "labels.parquet"
    >>> frame = dd.from_pandas(pd.DataFrame({"task": [1, 2, 3], "label": ["a", "b", "a"]}), npartitions=2)
    >>> write_parquet_folder(frame, out).is_dir(), pd.read_parquet(out)["task"].tolist()
    (True, [1, 2, 3])
    """
    path = Path(path)
    folder = check_writable_folder(path.parent)
    tmp = Path(tempfile.mkdtemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp"))
    aside = None
    try:
        frame.to_parquet(tmp, write_index=False)
        if path.exists():
            aside = Path(tempfile.mkdtemp(dir=folder, prefix=f".{path.name}.", suffix=".old"))
            os.replace(path, aside / path.name)
        os.replace(tmp, path)
    except BaseException:
        if aside is not None and not path.exists():
            os.replace(aside / path.name, path)  # the old table back
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    return path


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
