"""The page routers: public, applicant, staff and desk, and the developer's ``/dev/messages`` (development only)."""
