"""Staff pages, in French and English: sign-in and home (``home``), the admin's catalogue and keys (``admin``),
per-channel counts (``channels``), the verifier's queue (``claims``), the agent's counter (``counter``), the
desk (``desk``), and the planner's office week (``calendar``) and opening schedules with recurring releases
(``schedules``)."""
