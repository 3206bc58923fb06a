"""The demo that the README's first command runs."""

import pytest

from wmvtrust import demo


def test_demo_methods_agree_and_monte_carlo_covers_them(capsys):
    demo.run(list(demo.DEFAULT_TRUST), 200_000, 3)
    out = capsys.readouterr().out
    assert out.count("| weighted") == 6 and out.count("| majority") == 6  # auto, 4 methods, Monte Carlo
    rows = demo.rows(list(demo.DEFAULT_TRUST), 200_000, 3)
    for rule in {r[0] for r in rows}:
        exact = [value for name, method, value, _, _ in rows if name == rule and value is not None
                 and not method.startswith("Monte")]
        assert len(exact) >= 4 and max(exact) - min(exact) < 1e-12
        (interval,) = [iv for name, method, _, iv, _ in rows if name == rule and method.startswith("Monte")]
        low, high = (float(x) for x in interval.split("[")[1].split("]")[0].split(","))
        assert low <= exact[0] <= high


def test_demo_rejects_bad_trust():
    with pytest.raises(ValueError, match=r"trust must lie in \[0, 1\]; trust\[1\] = 1.5"):
        demo.run(demo.numbers("0.6,1.5"), 1000, 0)
