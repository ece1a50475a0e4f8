"""Urgency claims: declared at intake, judged by a verifier, the registry or the desk.

Owns claim records, the rules a verdict applies and sanctions (``records``), the verifier's queue and
verdicts before the draw (``verdicts``) and the permit registry
import (``registry_import``).
"""
