"""Intake: a request enters the queue, and becomes an entry once verified.

Owns submission (``submission``: validate, derive the identity and person keys, refuse duplicates and
exclusions, write the request and its claims), batched submissions (``batch``: the API's fast path, the same
rows), entry verification (``verification``: one-time codes by SMS, the channels that verify, lapses at
``verify_by``) and the person keys derived again after the names' folding changed (``person_keys``, run by
``fairslot db rekey-persons``). Other packages call ``submission.submit_request``, ``verification.is_verified``
and ``verification.refuse_if_person_held``.
"""
