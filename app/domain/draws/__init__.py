"""The draw, pure: the lottery as specified (``lottery``), its measured fast path (``lottery_fast``), the
published record (``draw_record``), a record read as a stream for verification (``record_stream``) and public
randomness rounds (``beacon``)."""
