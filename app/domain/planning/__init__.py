"""Planning an office's capacity: public holidays by region (``regions``)."""
