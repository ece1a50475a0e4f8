"""Staff identity: named accounts and keys, sign-in, sessions, and the audit log as auditors read it.

- ``principal``: the staff member behind a request (``StaffPrincipal``: its grants, its audit ``actor``);
- ``keys``: staff keys (owned by an account, or unowned for machines and partners), ``authenticate``;
- ``accounts``: what admins do with accounts (invite, roles, disable, keys, reset, end sessions);
- ``invitations``: the one-time enrolment link (password and TOTP);
- ``passwords``: the password policy (shipped common-password list) and Argon2id hashing;
- ``second_factor``: the sealed TOTP secret and the enrolment QR code;
- ``sessions``: server-side web sessions (opaque cookie id, idle and maximum age, revocation);
- ``sign_in``: password and TOTP sign-in, unowned-key sign-in, sign-out;
- ``oidc``: sign-in through ProConnect or any OpenID Connect provider;
- ``audit_log``: filtered pages of the audit log, its CSV export and the chain's verdict.

Other packages take a ``StaffPrincipal`` (``from app.services.staff.keys import StaffPrincipal`` works too).
"""
