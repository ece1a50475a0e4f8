"""Planning an office's capacity: public holidays by region (``regions``), ISO weeks (``weeks``), opening
lines cut into slots on the office's wall clock (``schedules``) and when recurring releases publish and draw
(``rules``)."""
