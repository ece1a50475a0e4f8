"""Bookings: from an offer to the appointment.

Owns answers to offers and their expiry (``offers``), confirm-or-release (``confirmations``), cancellations
and withdrawals (``cancellations``), the office taking back a booking or an offer (``office_cancellations``),
the desk's check-in by token or by hand (``checkins``), no-shows, found by the scheduler or recorded by the
desk (``no_shows``), what the desk records by hand from its list (``attendance``), an office's appointments of
a day (``day_list``) and their CSV and XLSX downloads (``exports``), and the keys that sign booking tokens
(``token_keys``).
"""
