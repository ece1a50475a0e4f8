"""Attestations and receipts (``attestations``), partners' lists (``partners``) and recoveries after seeing a
document (``recoveries``)."""
