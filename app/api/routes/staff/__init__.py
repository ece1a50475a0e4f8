"""Staff keys (``keys``)."""
