"""Requests once filed: finding, opening and locking them, what their holder sees, and how long they live.

Owns the request repository and lifecycle (``repository``: by id or entry, the access code, the lock order,
the current weight, closing), the applicant's and partner's view (``views``), who may open a request
(``access``: its access code, the partner that filed it, an agent for its receipt), the wrong-code tally the
rate limiter reads (``code_failures``) and retention (``purge``).
"""
