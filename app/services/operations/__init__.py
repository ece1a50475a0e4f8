"""Operating an office: the catalogue of offices and services (``catalog``)."""
