"""Offices and services (``catalog``)."""
