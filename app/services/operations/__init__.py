"""Operating an office: the catalogue of offices and services with their practical information (``catalog``)."""
