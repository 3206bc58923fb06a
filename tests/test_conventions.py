"""Conventions that every public function follows, checked across the whole API at once."""

import inspect
import re
import subprocess
import sys

import pytest

import wmvtrust as wt

PUBLIC_FUNCTIONS = [getattr(wt, name) for name in wt.__all__ if inspect.isfunction(getattr(wt, name))]


@pytest.mark.parametrize("function", PUBLIC_FUNCTIONS, ids=lambda f: f.__name__)
def test_numpydoc_docstring_with_a_runnable_example(function):
    doc = inspect.getdoc(function)
    assert doc and "Examples\n--------\n>>> " in doc
    assert "Returns\n-------" in doc
    if inspect.signature(function).parameters:
        assert "Parameters\n----------" in doc
        section = doc.split("Parameters\n----------\n")[1].split("\n\n")[0]
        documented = {name for line in re.findall(r"^([\w, ]+) :", section, re.M) for name in line.split(", ")}
        assert set(inspect.signature(function).parameters) <= documented, f"{function.__name__}: {documented}"


def test_import_compiles_nothing():
    """import wmvtrust leaves every numba dispatcher without a compiled signature."""
    code = ("import wmvtrust, numba, wmvtrust._kernels as k\n"
            "d = [getattr(k, n) for n in k.__all__ if isinstance(getattr(k, n), numba.core.dispatcher.Dispatcher)]\n"
            "print(len(d), sum(len(x.signatures) for x in d))")
    count, compiled = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                     check=True).stdout.split()
    assert int(count) >= 6 and int(compiled) == 0
