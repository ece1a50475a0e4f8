"""The desk's check-in (``checkins``)."""
