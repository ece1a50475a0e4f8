"""Messages to applicants: written to the outbox in the transaction of the change, sent once.

Owns the outbox and its outlets (``outbox``: SMTP, SMPP, the log), the texts in six languages (``texts``,
``mail_templates``, catalogs under ``locales/``), SMS encoding (``sms_encoding``), the SMPP link (``smpp``),
the daily text budget of numbers that never verified a code (``sms_budget``), the staff view of the backlog
(``backlog``) and, in development, the catcher of what the log outlets sent (``catcher``, read by
``/dev/messages``). Other packages call ``outbox.enqueue``.
"""
