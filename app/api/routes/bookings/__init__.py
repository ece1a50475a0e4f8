"""The desk: the token check-in (``checkins``), an office's appointments of a day and their downloads
(``day_list``), and attendance recorded by hand (``attendance``)."""
