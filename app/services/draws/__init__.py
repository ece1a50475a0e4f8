"""Draws: releases of slots, the draw itself, its published record, and the slots that come back.

Owns releases (``releases``: slots, seed commitment, beacon round), running a draw exactly once
(``drawing``), the stored record (``documents``), the entry freeze from ``draw_at`` to the draw's end
(``freeze``) and the re-draw of returned slots (``returns``). Other packages call ``drawing.draw_next_due``,
``freeze.require_not_frozen`` and ``returns.return_slot``.
"""
