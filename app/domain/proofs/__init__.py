"""What a third party can check: signed booking tokens (``tokens``), attestations (``attestation``), their
QR codes (``qr``), and secrets sealed at rest (``sealing``, ``seed_seal``)."""
