"""Staff keys (``keys``), named staff accounts (``accounts``) and the audit log (``audit``)."""
