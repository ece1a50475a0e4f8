"""Bookings: from an offer to the appointment.

Owns the applicant's answers as every face gives them (``answers``), offers, what holds a slot and the offers'
expiry (``offers``), confirm-or-release (``confirmations``), cancellations and withdrawals
(``cancellations``), giving a booking back and keeping one's place (``give_backs``), the office taking back a
booking or an offer (``office_cancellations``), the desk's check-in by token or by hand (``checkins``),
no-shows, found by the scheduler or recorded by the desk (``no_shows``), what the desk records by hand from its
list (``attendance``), an office's appointments of a day (``day_list``) and their CSV and XLSX downloads
(``exports``), and the keys that sign booking tokens (``token_keys``).
"""
