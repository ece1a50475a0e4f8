"""QR codes for booking tokens, rendered as standalone SVG (no raster libraries, scales for print)."""

from __future__ import annotations

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from qrcode.image.svg import SvgPathFillImage

__all__ = ["qr_svg"]


def qr_svg(data: str) -> str:
    """The SVG document (no XML declaration) of a QR code holding ``data``, dark on a white ground."""
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
