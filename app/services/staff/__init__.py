"""Staff identity: keys scoped by role and offices (``keys``)."""
