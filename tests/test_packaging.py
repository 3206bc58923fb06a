"""What a project depending on wmvtrust relies on: the type check passes, and the wheel built from the sdist
installs into a fresh environment and works there (a file missing from either would show)."""

import os
import site
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import wmvtrust as wt

ROOT = Path(__file__).resolve().parents[1]


def run(*args, cwd, env=None):
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(map(str, args))} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def test_mypy_passes_with_the_project_configuration():
    out = run(sys.executable, "-m", "mypy", cwd=ROOT)  # pyproject.toml names the package and the options
    assert out.startswith("Success: no issues found"), out


def test_the_wheel_built_from_the_sdist_installs_into_a_fresh_environment_and_works(tmp_path):
    dist = tmp_path / "dist"
    run(sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", dist, ROOT, cwd=tmp_path)  # wheel from sdist
    (sdist,), (wheel,) = dist.glob("*.tar.gz"), dist.glob("*.whl")
    version = wt.__version__
    assert sdist.name == f"wmvtrust-{version}.tar.gz" and wheel.name.startswith(f"wmvtrust-{version}-py3-none-any")
    with tarfile.open(sdist) as archive:
        names = {Path(name).relative_to(f"wmvtrust-{version}").as_posix() for name in archive.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml", "wmvtrust/py.typed", "wmvtrust/_kernels/votes.py"} <= names
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert {"wmvtrust/py.typed", "wmvtrust/deq/classifier.py", f"wmvtrust-{version}.dist-info/licenses/LICENSE"} <= names
    assert not any(name.startswith(("tests/", "simulations/", "benchmarks/")) for name in names)

    env = tmp_path / "env"
    run(sys.executable, "-m", "venv", "--without-pip", env, cwd=tmp_path)
    python = env / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # the dependencies come from this environment's site-packages, listed in a .pth file: a .pth file inside a
    # listed folder is not read, so this environment's editable install of wmvtrust stays out of sight
    purelib = Path(run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=tmp_path).strip())
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")

    script = env / ("Scripts/wmvtrust.exe" if os.name == "nt" else "bin/wmvtrust")
    assert run(script, "--version", cwd=tmp_path).strip() == f"wmvtrust {version}"
    assert run(python, "-m", "wmvtrust", "--version", cwd=tmp_path).strip() == f"wmvtrust {version}"
    check = ("import importlib.resources, pathlib, sys, wmvtrust as wt; "
             "assert pathlib.Path(wt.__file__).is_relative_to(sys.prefix), wt.__file__; "
             "assert importlib.resources.files('wmvtrust').joinpath('py.typed').is_file(); "
             "print(wt.accuracy([0.9, 0.8, 0.7], wt.log_odds_weights([0.9, 0.8, 0.7])).value)")
    expected = wt.accuracy([0.9, 0.8, 0.7], wt.log_odds_weights([0.9, 0.8, 0.7])).value
    assert float(run(python, "-c", check, cwd=tmp_path)) == expected
