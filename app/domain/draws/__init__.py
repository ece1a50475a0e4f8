"""The draw, pure: the lottery as specified (``lottery``), its measured fast path (``lottery_fast``), the
published record (``draw_record``) and public randomness rounds (``beacon``)."""
