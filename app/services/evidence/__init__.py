"""Evidence for the public and for staff: statistics (``stats``), an applicant's honest chances
(``chances``), per-channel counts (``channel_stats``) and the Prometheus metrics with who may read them
(``exposition``)."""
