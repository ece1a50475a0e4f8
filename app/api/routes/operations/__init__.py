"""Offices and services, their practical information and its edits (``catalog``)."""
