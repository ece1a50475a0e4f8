"""Channels beyond the online form, and proof for third parties.

Owns filing by an agent or a partner (``filing``), attestations and their short ``/check`` links
(``attestations``), printable receipts (``receipts``, ``receipt_texts``, ``receipt_templates/``) and
recoveries after seeing a document (``recoveries``), and an applicant's own recovery of a lost access code
by SMS (``code_recoveries``), which renews the code the same way.
"""
