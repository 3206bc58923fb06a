"""BLAS on one thread: the DEQ's products are small, and a second thread slows them down."""

import contextlib
import functools


@functools.cache
def _blas_controller():
    """threadpoolctl's view of the loaded BLAS libraries, found once (it takes milliseconds); None without it."""
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # optional: without it BLAS keeps its own thread count
        return None
    return ThreadpoolController()


@contextlib.contextmanager
def one_blas_thread():
    """BLAS on one thread inside a ``with`` block, or in a function decorated with ``@one_blas_thread()``."""
    controller = _blas_controller()
    if controller is None:
        yield
        return
    with controller.limit(limits=1, user_api="blas"):
        yield
