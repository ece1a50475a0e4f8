"""QR codes for booking tokens, rendered as standalone SVG (no raster libraries, scales for print)."""

from __future__ import annotations

from functools import lru_cache

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathFillImage

__all__ = ["qr_svg"]


@lru_cache(maxsize=256)
def qr_svg(data: str) -> str:
    """The SVG document (no XML declaration) of a QR code holding ``data``, dark on a white ground.

    Drawing one costs a few hundred milliseconds of CPU for a booking token: a booking's code is drawn once
    and kept (the last 256, a few megabytes), so a status page shown again and again costs nothing more."""
    code = qrcode.QRCode(
        error_correction=ERROR_CORRECT_M,
        box_size=10,
        border=4,
        image_factory=SvgPathFillImage,
    )
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image()
    svg: str = image.to_string(encoding="unicode")
    return svg
