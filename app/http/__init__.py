"""HTTP plumbing shared by both faces (API and pages): dependencies, middleware, problem rendering."""
