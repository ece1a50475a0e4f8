"""Messages to applicants: written to the outbox in the transaction of the change, sent once.

Owns the outbox and its outlets (``outbox``: SMTP, SMPP, the log), the texts in six languages (``texts``,
``mail_templates``, catalogs under ``locales/``), SMS encoding (``sms_encoding``), the SMPP link (``smpp``)
the daily text budget of numbers that never verified a code (``sms_budget``) and the staff view of the
backlog (``backlog``). Other packages call ``outbox.enqueue``.
"""
