"""Evidence for the public and for staff: statistics (``stats``), an applicant's honest chances
(``chances``) and per-channel counts (``channel_stats``)."""
