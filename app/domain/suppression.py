"""Small-count suppression that holds across a table: primary suppression, then complementary suppression.

A published table of counts has cells tied by sums (a total and its parts: the months of a period, the
urgency bands of the entries, the channels of the pending requests). Hiding a count below ``minimum``
(**primary** suppression) protects nothing if it can be recomputed from the cells still shown: a total
minus the other parts gives it back. **Complementary** suppression hides further cells until no
suppressed count can be recovered by subtraction.

What a reader can recover, given the published cells and the sums (:func:`recoverable`), is found the way
a reader would solve for it: every sum is an equation, the published cells are substituted, and the
system is reduced (Gaussian elimination over exact fractions). A cell is recovered when the reduced system
holds an equation naming it alone, which covers a total minus its other parts as much as a chain of sums
(two channels known through two methods, then a third method through their total); and since counts are
never negative, an equation whose unknowns all add up (positive coefficients) to 0 makes each of them 0;
a cell ``bounded`` by another (offers of a band never exceed its entries) is 0 once that one is known to be
0. These are repeated until nothing more is found.

The rule (:func:`suppress`): every cell below ``minimum`` is suppressed; while a suppressed cell that counts
somebody (1 to ``minimum - 1``) is recoverable, the smallest published part of a sum it takes part in is suppressed too (the total only when
no part is left to hide, so that totals, the most useful figures, stay shown when they can). Each round
hides one more cell, so the rule ends; hiding everything recovers nothing. Cells named ``hidden`` are
never published (a count no table shows, such as the unverified pending requests): they are unknown to a
reader, so they protect the cells they are summed with, and they are not themselves protected.

A suppressed 0 is shown as null like any small count, but recovering it discloses nobody (no one is in
it), so it is not protected: protecting zeros would blank the whole breakdown of every office where one
channel, method or band is empty (most offices file nothing through partners), for no one's privacy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class Sum:
    """``total`` is the sum of ``parts``."""

    total: str
    parts: tuple[str, ...]

    @property
    def cells(self) -> tuple[str, ...]:
        """The total, then the parts."""
        return (self.total, *self.parts)


def recoverable(
    known: Iterable[str],
    values: Mapping[str, int],
    sums: Iterable[Sum],
    bounded: Iterable[tuple[str, str]] = (),
) -> set[str]:
    """The unknown cells a reader recovers from the ``known`` ones, the ``sums`` and the ``bounded`` pairs
    ``(cell, bound)``, a cell never above its bound (see the module)."""
    found = set(known)
    sums = list(sums)
    bounds = list(bounded)
    recovered: set[str] = set()
    while True:
        newly = _solved(found, values, sums)
        newly |= {
            cell for cell, bound in bounds if cell not in found and bound in found and values[bound] == 0
        }
        if not newly:
            return recovered
        found |= newly
        recovered |= newly


def _solved(known: set[str], values: Mapping[str, int], sums: list[Sum]) -> set[str]:
    """The unknowns the reduced system fixes: alone in an equation, or summing to 0 with positive signs."""
    unknowns = sorted({cell for relation in sums for cell in relation.cells if cell not in known})
    column = {cell: index for index, cell in enumerate(unknowns)}
    rows: list[list[Fraction]] = []
    for relation in sums:
        row = [Fraction(0)] * (len(unknowns) + 1)  # coefficients, then the constant
        for cell, sign in ((relation.total, 1), *((part, -1) for part in relation.parts)):
            if cell in known:
                row[-1] -= sign * values[cell]
            else:
                row[column[cell]] += sign
        if any(row[:-1]):
            rows.append(row)
    solved: set[str] = set()
    for row in _reduced(rows, len(unknowns)):
        named = [index for index in range(len(unknowns)) if row[index]]
        if len(named) == 1:
            solved.add(unknowns[named[0]])
        elif row[-1] == 0 and (all(row[i] > 0 for i in named) or all(row[i] < 0 for i in named)):
            solved.update(unknowns[i] for i in named)  # non-negative counts adding up to 0
    return solved


def _reduced(rows: list[list[Fraction]], width: int) -> list[list[Fraction]]:
    """The rows in reduced row echelon form (exact)."""
    rows = [list(row) for row in rows]
    pivot_row = 0
    for col in range(width):
        pivot = next((r for r in range(pivot_row, len(rows)) if rows[r][col] != 0), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][col]
        rows[pivot_row] = [value / lead for value in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][col] != 0:
                factor = rows[r][col]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def suppress(
    values: Mapping[str, int],
    sums: Iterable[Sum],
    *,
    minimum: int,
    hidden: Iterable[str] = (),
    also: Iterable[str] = (),
    bounded: Iterable[tuple[str, str]] = (),
) -> set[str]:
    """The cells to show as null: those below ``minimum`` (and ``also``), then their complements."""
    sums = list(sums)
    bounds = list(bounded)
    never = set(hidden)
    small = {cell for cell, value in values.items() if cell not in never and value < minimum}
    protected = {cell for cell in small if values[cell] > 0}
    suppressed = small | set(also)
    while True:
        published = [cell for cell in values if cell not in suppressed and cell not in never]
        exposed = recoverable(published, values, sums, bounds) & protected
        if not exposed:
            return suppressed
        suppressed.add(_complement(exposed, published, values, sums))


def _complement(exposed: set[str], published: list[str], values: Mapping[str, int], sums: list[Sum]) -> str:
    """The next cell to hide: the smallest published part of a sum holding an exposed cell, else the
    smallest published cell of such a sum, else the smallest published cell of any sum."""
    shown = set(published)

    def smallest(cells: Iterable[str]) -> str | None:
        candidates = sorted((values[c], c) for c in cells if c in shown)
        return candidates[0][1] if candidates else None

    holding = [s for s in sums if exposed & set(s.cells)]
    for choice in (
        smallest(part for s in holding for part in s.parts),
        smallest(cell for s in holding for cell in s.cells),
        smallest(cell for s in sums for cell in s.cells),
    ):
        if choice is not None:
            return choice
    raise AssertionError("a recoverable cell needs a published cell to recover it from")
