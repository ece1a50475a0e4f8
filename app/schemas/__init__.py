"""Request and response shapes shared by every face (API, pages, CLI, demo): ``XCreate`` in, ``XPublic`` out."""
