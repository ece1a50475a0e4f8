"""Attestations and receipts (``attestations``), partners' lists (``partners``) and recoveries after seeing a
document (``recoveries``), and an applicant's own recovery of a lost code (``code_recoveries``)."""
