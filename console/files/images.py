"""Images re-encoded before they are stored: turned upright, then saved from their pixels
alone, so that EXIF (GPS position, camera serial, time), XMP and comments are left behind;
and a thumbnail made. HEIC (iPhone photos) is decoded with pillow-heif and stored as JPEG,
which every browser shows. A file Pillow cannot read as the kind its bytes claim is refused.

CPU-bound: the web handler runs `prepare` in a thread.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError
from pillow_heif import register_heif_opener

from console.domain.errors import ProtocolError
from console.files.kinds import HEIC, JPEG, PNG, WEBP, UnsupportedTypeError

register_heif_opener()
THUMBNAIL_PX = 320
MAX_PIXELS = 50_000_000  # a photo of 50 megapixels; more is a decompression bomb
_FORMATS = {JPEG: ("JPEG",), PNG: ("PNG",), WEBP: ("WEBP",), HEIC: ("HEIF",)}


@dataclass(frozen=True)
class Prepared:
    path: Path
    kind: str
    size: int
    width: int
    height: int
    thumbnail: Path
    thumbnail_size: int


def prepare(source: Path, kind: str, workdir: Path) -> Prepared:
    """The image at `source`, re-encoded into `workdir` with its thumbnail."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(source, formats=_FORMATS[kind]) as opened:
                if opened.width * opened.height > MAX_PIXELS:
                    raise ProtocolError(
                        "too_large",
                        f"the image is {opened.width}x{opened.height} pixels; "
                        f"send one of at most {MAX_PIXELS // 1_000_000} megapixels",
                    )
                opened.load()
                upright = ImageOps.exif_transpose(opened)
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise UnsupportedTypeError(
                f"the file starts like {kind} but is not a readable image ({type(exc).__name__})"
            ) from None
        except (Image.DecompressionBombWarning, Image.DecompressionBombError):
            raise ProtocolError("too_large", "the image has too many pixels") from None
    clean = Image.frombytes(upright.mode, upright.size, upright.tobytes())  # pixels only
    if upright.mode == "P":
        clean.putpalette(upright.getpalette() or [])
    stored_kind = JPEG if kind == HEIC else kind
    target = workdir / "image"
    _save(clean, stored_kind, target)
    thumb = clean.copy()
    thumb.thumbnail((THUMBNAIL_PX, THUMBNAIL_PX))
    thumbnail = workdir / "thumbnail"
    _save(_flat(thumb), JPEG, thumbnail, quality=80)
    return Prepared(
        path=target,
        kind=stored_kind,
        size=target.stat().st_size,
        width=clean.width,
        height=clean.height,
        thumbnail=thumbnail,
        thumbnail_size=thumbnail.stat().st_size,
    )


def _flat(image: Image.Image) -> Image.Image:
    """RGB on white (a JPEG has no transparency)."""
    if image.mode in ("RGB", "L"):
        return image
    rgba = image.convert("RGBA")
    white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
    return Image.alpha_composite(white, rgba).convert("RGB")


def _save(image: Image.Image, kind: str, target: Path, *, quality: int = 90) -> None:
    if kind == JPEG:
        _flat(image).save(target, format="JPEG", quality=quality, optimize=True)
    elif kind == PNG:
        image.save(target, format="PNG", optimize=True)
    else:
        image.save(target, format="WEBP", quality=quality)
