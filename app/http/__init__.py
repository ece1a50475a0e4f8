"""HTTP plumbing shared by both faces (API and pages): dependencies, middleware, problem rendering, fair
admission (``admission``), and the production edge in front of it all (``edge``: the nginx configuration
``fairslot edge-config`` prints)."""
