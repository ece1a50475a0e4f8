"""The pages' larger forms, each parsed into the schema its service takes: the request form (``apply_form``),
the recovery form (``recovery_form``), the release form (``release_form``), the admin's weight policy form
(``policy_form``) and the planner's forms (``planning_forms``). Field helpers shared by
every form are :mod:`app.web.form_fields`."""
