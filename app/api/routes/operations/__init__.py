"""Operating an office: offices and services with their practical information (``catalog``), opening
schedules and publishing a week (``schedules``), closures (``closures``), recurring release rules and
withdrawing a release (``release_rules``), the calendar and the capacity advice (``calendar``)."""
