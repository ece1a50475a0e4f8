"""Staff pages, in French and English: sign-in and home (``home``), the admin's catalogue and keys (``admin``),
per-channel counts (``channels``), the verifier's queue (``claims``), the agent's counter (``counter``) and the
desk (``desk``)."""
