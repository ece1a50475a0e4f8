"""Operating an office: capacity as a prefecture plans it.

Owns the catalogue of offices and services with their practical information (``catalog``), opening schedules
(``schedules``), holidays and closures of an office's days (``office_days``, ``closures``), publishing a week
(``publishing``), recurring release rules the scheduler runs (``release_rules``), withdrawing a release
(``withdrawals``), the office calendar and the planner's week (``calendar``) and the capacity advice
(``capacity``). Other packages call ``catalog`` (offices, services, their policies and names),
``release_rules.publish_next_due`` and ``capacity.refresh_next`` (the scheduler).
"""
