"""Staff as people: named accounts and their rules (``accounts``), the TOTP second factor
(``second_factor``) and the actors the audit log names (``actors``)."""
