"""Bookings: from an offer to the appointment.

Owns answers to offers and their expiry (``offers``), confirm-or-release (``confirmations``), cancellations
and withdrawals (``cancellations``), the office taking back a booking or an offer (``office_cancellations``),
the desk's check-in (``checkins``), no-shows (``no_shows``) and the keys that sign booking tokens
(``token_keys``).
"""
