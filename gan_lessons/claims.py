"""Claims: a sentence about what a run did, checked by that run with an explicit tolerance.

A lesson states a result in prose only after a cell that measured it calls ``claim``:

    claim("G puts 70 % ± 5 % of its samples in the right-hand mode",
          measured={"share": share}, holds=abs(share - 0.7) <= 0.05)

prints ✅ or ❌, the statement and the measured numbers. Committed lessons are full-mode
runs, and a test fails if any of them shows ❌. In quick mode the budgets are too small to
show most results, so a claim that does not hold prints its measurement and
"(quick mode: too short to judge)" instead of ❌; a claim never stops the lesson.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .utils import quick_mode

PASS, FAIL, UNJUDGED = "✅", "❌", "⏳"
TOO_SHORT = "(quick mode: too short to judge)"


def _format(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3):
            return f"{v:.3g}"
        return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.1f}"
    return str(value)


@dataclass(frozen=True)
class Claim:
    """A checked statement: what it says, whether it held, and the numbers it was judged on."""

    statement: str
    holds: bool
    measured: dict = field(default_factory=dict)
    quick: bool = False

    @property
    def mark(self) -> str:
        if self.holds:
            return PASS
        return UNJUDGED if self.quick else FAIL

    def __str__(self) -> str:
        numbers = ", ".join(f"{k} = {_format(v)}" for k, v in self.measured.items())
        line = f"{self.mark} {self.statement}"
        if numbers:
            line += f" (measured: {numbers})"
        if self.quick and not self.holds:
            line += f" {TOO_SHORT}"
        return line


def claim(statement: str, measured: dict | None = None, holds: bool = False) -> Claim:
    """Print ``statement`` with ✅ if ``holds``, else ❌ (or "too short to judge" in quick mode).

    Args:
        statement: the sentence the lesson's prose relies on, with its tolerance in words.
        measured: names to the numbers the judgement used, printed beside it.
        holds: the check itself, e.g. ``abs(jsd) <= 0.01``; must be a plain bool (or numpy bool).
    Returns the ``Claim``, so a test or a later cell can read it.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"statement must be a non-empty sentence, got {statement!r}")
    if measured is None:
        measured = {}
    if not isinstance(measured, dict):
        raise ValueError(f"measured must be a dict of names to numbers, e.g. {{'jsd': 0.004}}, got {measured!r}")
    if not isinstance(holds, (bool, np.bool_)):
        raise ValueError(f"holds must be True or False (the result of the check), got {holds!r}; "
                         "write the comparison itself, e.g. holds=abs(x - 0.5) <= 0.05")
    result = Claim(statement.strip(), bool(holds), dict(measured), quick_mode())
    print(result)
    return result


def quick_note(what: str) -> None:
    """In quick mode, print one line saying what the short budget cannot show yet; nothing in full mode.

    Args:
        what: the result that needs the full budget, e.g. "the samples are still noise".
    """
    if not isinstance(what, str) or not what.strip():
        raise ValueError(f"what must be a non-empty sentence, got {what!r}")
    if quick_mode():
        print(f"quick mode: {what.strip()} (the committed lesson shows the full run)")
