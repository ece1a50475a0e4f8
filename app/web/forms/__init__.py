"""The pages' larger forms, each parsed into the schema its service takes: the request form (``apply_form``),
the recovery form (``recovery_form``) and the release form (``release_form``). Field helpers shared by
every form are :mod:`app.web.form_fields`."""
