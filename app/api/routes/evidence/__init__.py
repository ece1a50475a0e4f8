"""Public statistics (``stats``) and the staff view of the outbox (``outbox``)."""
