"""Staff pages, in French and English: the sign-in form and home (``home``), signing in and out with a
password and code, an identity provider or an unowned key (``sign_in``), the invitation page (``invitations``),
one's own account and sessions (``account``), the admins' staff accounts (``accounts``), the audit log
(``audit``), the admin's catalogue and keys (``admin``), per-channel counts (``channels``), the verifier's
queue (``claims``), the agent's counter (``counter``), the desk (``desk``), and the planner's office week
(``calendar``) and opening schedules with recurring releases (``schedules``)."""
