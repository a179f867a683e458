"""The E2C Var's key indicators at the seed's date, as monthly counts per site.

The note of February 2018 gives only totals since each site opened (« Informations clés au
28/02/2018 »). The monthly split below is ours; its sums reproduce the note exactly:

| site           | entrés | QPV      | entreprises | sorties positives / sorties |
|----------------|--------|----------|-------------|-----------------------------|
| TPM            | 134    | 29 (22 %)| 143         | 15 / 39 (38 %)              |
| CAVEM          | 48     | 3 (6 %)  | 39          | 6 / 8 (75 %)                |
| Provence Verte | 29     | 4 (14 %) | 33          | 4 / 8 (50 %)                |
| Dracénie       | 41     | 4 (10 %) | 21          | 5 / 10 (50 %)               |
| total          | 252    | 40 (16 %)| 236         | 30 / 65 (46 %)              |

with 171 non-diplômés of 252 (68 %) and 30 positive exits = 15 formation, 10 emploi,
5 alternance. Targets: QPV ≥ 40 % and non-diplômés ≥ 85 % for the school (network and funders),
10 entries a month at CAVEM (its comité opérationnel local).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session

from ..models import Comparison, IndicatorEntry, IndicatorTarget, School

SEED_MONTH = date(2018, 2, 1)


@dataclass(frozen=True)
class SiteTotals:
    first_month: date  # the month the site opened
    entries: int
    from_qpv: int
    without_diploma: int
    host_companies: int
    exits: int
    training: int
    employment: int
    work_study: int
    # How entries spread over the months, first month first (a site fills up, then steadies).
    weights: tuple[int, ...]


SITE_TOTALS = {
    "tpm": SiteTotals(date(2017, 3, 1), 134, 29, 88, 143, 39, 7, 5, 3,
                      (6, 10, 12, 12, 8, 10, 14, 12, 12, 10, 14, 14)),
    "cavem": SiteTotals(date(2017, 6, 1), 48, 3, 34, 39, 8, 3, 2, 1,
                        (4, 6, 3, 7, 6, 6, 5, 5, 6)),
    "provence-verte": SiteTotals(date(2017, 9, 1), 29, 4, 21, 33, 8, 2, 1, 1,
                                 (5, 6, 5, 4, 4, 5)),
    "dracenie": SiteTotals(date(2017, 10, 1), 41, 4, 28, 21, 10, 3, 2, 0,
                           (9, 9, 8, 7, 8)),
}

TARGETS = [  # site code or None, indicator, comparison, value, source
    (None, "qpv_rate", Comparison.MIN, 0.40,
     "Réseau E2C France et financeurs ; CIEC du 6 mars 2015"),
    (None, "without_diploma_rate", Comparison.MIN, 0.85,
     "Réseau E2C France et financeurs (note d’avancement E2C Var, février 2018)"),
    ("cavem", "monthly_entries", Comparison.MIN, 10,
     "Comité opérationnel local CAVEM (note d’avancement E2C Var, février 2018)"),
]


def spread(total: int, weights: list[int] | tuple[int, ...]) -> list[int]:
    """``total`` split in proportion to ``weights`` in whole numbers that add up exactly
    (largest remainders get the units left); never more than ``total × w / Σw`` rounded up."""
    weight_sum = sum(weights)
    if weight_sum == 0:
        return [0] * len(weights)
    shares = [total * w / weight_sum for w in weights]
    parts = [int(s) for s in shares]
    left = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (parts[i] - shares[i], i))
    for i in by_remainder[:left]:
        parts[i] += 1
    return parts


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(first: date, last: date) -> int:
    return (last.year - first.year) * 12 + last.month - first.month


def monthly_counts(totals: SiteTotals) -> list[dict[str, int]]:
    """One dict of counts per month from the site's opening month to February 2018."""
    months = months_between(totals.first_month, SEED_MONTH) + 1
    assert len(totals.weights) == months, "one weight per month"
    entries = spread(totals.entries, totals.weights)
    # QPV and non-diplômés follow the entries; spread() never gives a month more than it had.
    qpv = spread(totals.from_qpv, entries)
    without = spread(totals.without_diploma, entries)
    companies = spread(totals.host_companies, entries)
    # Trainees leave after a few months: no exit in the first two months of a site.
    exit_weights = [0, 0] + [i + 1 for i in range(months - 2)]
    exits = spread(totals.exits, exit_weights)
    positives = spread(totals.training + totals.employment + totals.work_study, exits)
    # The positive exits of each month take their kinds in turn from one queue, so each kind's
    # total is exact and every month's kinds add up to its positive exits.
    kinds = interleave(["exits_training"] * totals.training,
                       ["exits_employment"] * totals.employment,
                       ["exits_work_study"] * totals.work_study)
    rows = []
    for i in range(months):
        row = {
            "entries": entries[i],
            "from_qpv": qpv[i],
            "without_diploma": without[i],
            "host_companies": companies[i],
            "exits": exits[i],
            "exits_training": 0,
            "exits_employment": 0,
            "exits_work_study": 0,
        }
        for _ in range(positives[i]):
            row[kinds.pop(0)] += 1
        rows.append(row)
    return rows


def interleave(*queues: list[str]) -> list[str]:
    """Round-robin over the queues: a, b, c, a, b, c, a, a …"""
    merged: list[str] = []
    queues_left = [list(q) for q in queues]
    while any(queues_left):
        for queue in queues_left:
            if queue:
                merged.append(queue.pop(0))
    return merged


def load_demo_indicators(session: Session, school: School, shift: timedelta) -> None:
    """Add the monthly counts and the targets to the demo school.

    ``shift`` is the demo's offset (``demo.shift_for``); months move by whole months, so every
    period stays the first day of a month and the last one is the month of the shifted seed.
    """
    shifted_seed = date(2018, 2, 28) + shift
    month_shift = months_between(SEED_MONTH, shifted_seed)
    sites = {site.code: site for site in school.sites}
    for code, totals in SITE_TOTALS.items():
        site = sites[code]
        for i, counts in enumerate(monthly_counts(totals)):
            session.add(IndicatorEntry(
                school=school,
                site=site,
                period=add_months(totals.first_month, i + month_shift),
                **counts,
            ))
    for site_code, indicator, comparison, value, source in TARGETS:
        session.add(IndicatorTarget(
            school=school,
            site=sites[site_code] if site_code else None,
            indicator=indicator,
            comparison=comparison,
            value=value,
            source=source,
        ))
