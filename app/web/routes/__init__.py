"""The page routers: public, applicant, staff and desk."""
