"""The people of a simulated market: applicants of several kinds, drawn once per seed.

Every mechanism faces the same people (same arrival days, permits, habits), so the differences in the
results come from the mechanism alone. The kinds of applicant are :mod:`app.simulation.people`'s.
"""

from __future__ import annotations

import random

from app.simulation.people import KINDS, Person
from app.simulation.scenario import Scenario


def population(scenario: Scenario, seed: int) -> list[Person]:
    """Everyone who seeks an appointment during the run, in arrival order (the same for every mechanism).

    Days before 0 are the queue already waiting when the first release opens.
    """
    rng = random.Random(f"population:{seed}")
    m, a = scenario.market, scenario.applicants
    # The queue the first release meets (oversubscription x its slots, arrived the week before), then new
    # applicants every week at ``arrivals_per_slot`` x the weekly slots.
    weekly = [m.slots_per_week * m.oversubscription] + [m.slots_per_week * m.arrivals_per_slot] * m.weeks
    people: list[Person] = []
    for week, expected in enumerate(weekly, start=-1):
        # Whole applicants per week, the fraction carried by chance: the mean is exactly as expected.
        count = int(expected) + (1 if rng.random() < expected - int(expected) else 0)
        for _ in range(count):
            arrival = 7 * week + rng.randrange(7)
            expiry = None if rng.random() < a.no_permit_share else arrival + rng.randint(*a.expiry_days)
            person = Person(
                pid=len(people),
                arrival_day=arrival,
                expiry_day=expiry,
                declared_expiry_day=expiry,
                vulnerable=rng.random() < a.vulnerable_share,
                no_show_probability=a.no_show_probability,
                poll_seconds=rng.uniform(*a.poll_hours) * 3600,
                value_of_time_eur_per_day=rng.uniform(*a.value_of_time_eur_per_day),
                knows_reseller=rng.random() < a.reseller_reach,
                leave_day=(
                    arrival + 1 + int(rng.expovariate(1 / (7 * a.patience_weeks)))
                    if a.patience_weeks > 0
                    else None
                ),
            )
            pick = rng.random()
            for name, params in scenario.agents.items():
                share = float(params.get("share", 0))
                if pick < share:
                    KINDS[name](person, params, rng)
                    person.kinds = frozenset({name})
                    break
                pick -= share
            people.append(person)
    people.sort(key=lambda p: (p.arrival_day, p.pid))
    return people
