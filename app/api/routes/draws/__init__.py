"""Releases and draws (``releases``) and the local beacon chain's rounds (``beacon``)."""
