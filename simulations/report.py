"""The report: for each claim, its statement, figures, a compact table and a verdict, in results/report.md.

``render`` turns the simulations' tables into markdown (pure); ``write`` writes
every table as CSV, every figure as PNG and the markdown, each file atomically.
"""

import platform
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import numpy as np
import pandas as pd

import wmvtrust as wt

from . import _common as c
from . import crowd_beliefs, deq_ensemble, soc, soo, trust_sensitivity, trustworthiness_sensitivity

CLAIMS = {"a": soc, "b": soo, "c": trustworthiness_sensitivity, "d": trust_sensitivity, "e": deq_ensemble,
          "f": crowd_beliefs}


def name(module):
    """The short name of a simulation module, used as the prefix of its files."""
    return module.__name__.rpartition(".")[2]


def table_file(module, key):
    return f"{name(module)}_{key}.csv"


def figure_file(module, k):
    return f"{name(module)}_{k}.png"


def _setup(quick, seed):
    s = c.size(quick)
    populations = c.markdown_table(pd.DataFrame({"population": list(c.POPULATIONS),
                                                 "hidden trustworthiness p_i": [p.description
                                                                                for p in c.POPULATIONS.values()]}))
    return "\n".join([
        f"Mode: {'quick' if quick else 'full'}, seed {seed}: panels of {', '.join(map(str, s.n_sources))} sources "
        f"with {', '.join(map(str, s.observations))} gold observations per source, {s.panels} panels per population "
        f"and panel size, {s.draws} Monte Carlo draws per estimate.",
        "",
        "A panel draws its sources' hidden trustworthiness p from a population, then a track record "
        "K_i ~ Binomial(m, p_i) per source; the decision maker's trust model is the Beta posterior "
        "`BetaTrust.from_track_record(K, m - K)` (uniform prior) and its trust t the posterior mean. The same panel "
        "seeds give the same sources in every simulation, and the records are nested: the first m observations of a "
        "longer record. Every table row records the seed that reproduces it.",
        "",
        populations,
    ])


@dataclass(frozen=True)
class Section:
    """One claim's part of the report."""

    letter: str
    module: ModuleType
    tables: dict
    figures: list  # file names, relative to the report
    verdict: tuple


def render(sections, *, quick, seed, seconds=None):
    """The report's markdown from one ``Section`` per claim."""
    lines = [f"# wmvtrust: {len(CLAIMS)} claims, simulated", "",
             f"`python -m simulations{' --quick' if quick else ''} --seed {seed}` "
             f"(wmvtrust {version('wmvtrust')}, Python {platform.python_version()}, numpy {np.__version__}"
             + (f"; {seconds:.0f} s" if seconds is not None else "") + ").", ""]
    lines += [f"- ({s.letter}) {s.module.TITLE}: **{'supported' if s.verdict[0] else 'NOT supported'}**"
              for s in sections]
    lines += ["", "## Setup", "", _setup(quick, seed), ""]
    for s in sections:
        lines += [f"## ({s.letter}) {s.module.TITLE}", "", f"**Claim.** {s.module.CLAIM}", ""]
        if hasattr(s.module, "setup"):  # a simulation with its own setup, beside the panels' shared one
            lines += [s.module.setup(quick), ""]
        lines += [f"![({s.letter}) figure {k}]({path})" for k, path in enumerate(s.figures, start=1)]
        data = ", ".join(f"[{table_file(s.module, key)}]({table_file(s.module, key)})" for key in s.tables)
        lines += ["", c.markdown_table(s.module.summary(s.tables)), ""]
        for caption, table in getattr(s.module, "more_tables", lambda tables: [])(s.tables):
            lines += [f"{caption}:", "", c.markdown_table(table), ""]
        summaries = ", ".join(f"[{file}]({file})" for file in getattr(s.module, "derived", lambda tables: {})(s.tables))
        lines += [f"Data: {data} ({sum(len(t) for t in s.tables.values())} rows)"
                  + (f"; summaries: {summaries}" if summaries else "") + ".", "", s.verdict[1], ""]
        if hasattr(s.module, "answers"):  # questions the simulation measures, each answered in one sentence
            lines += [f"- **{question}** {answer}" for question, answer in s.module.answers(s.tables)] + [""]
    return "\n".join(lines)


def write(results, out, *, quick, seed, seconds=None):
    """Write tables (CSV), figures (PNG) and report.md into ``out``; returns the report's path.

    ``results`` maps each claim letter (``CLAIMS``) to its simulation's tables.
    """
    out = Path(out)
    sections = []
    for letter, module in CLAIMS.items():
        tables = results[letter]
        for key, table in tables.items():
            wt.io.write_table(table, out / table_file(module, key))
        for file, table in getattr(module, "derived", lambda tables: {})(tables).items():
            wt.io.write_table(table, out / file)
        drawn = module.plot(tables)
        figures = []
        for k, fig in enumerate(drawn if isinstance(drawn, list) else [drawn], start=1):
            figures.append(wt.io.write_figure(fig, out / figure_file(module, k)).name)
        sections.append(Section(letter, module, tables, figures, module.verdict(tables)))
    return wt.io.write_text(render(sections, quick=quick, seed=seed, seconds=seconds), out / "report.md")
