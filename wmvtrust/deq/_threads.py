"""BLAS on one thread: the DEQ's products are small, and a second thread slows them down."""

import contextlib
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # optional at run time; without type information, so Any to the checker
    from threadpoolctl import ThreadpoolController


@functools.cache
def _blas_controller() -> "ThreadpoolController | None":
    """threadpoolctl's view of the loaded BLAS libraries, found once (it takes milliseconds); None without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it BLAS keeps its own thread count
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """BLAS on one thread inside a ``with`` block, or in a function decorated with ``@one_blas_thread()``."""
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
