"""Image samples: load from bytes, base64, a path or an http(s) URL; hash with PDQ.

PDQ (Meta's perceptual hash, via ``pdqhash``) survives resizing and recompression;
each sample keeps the hashes of its eight rotations and mirrors, so turned or flipped
copies match too.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..._exceptions import EmptyTextError, InvalidInputError, LimitExceededError
from ..._fetch import afetch, fetch
from ..._resources import INCIDENT_LIMITS

__all__ = ["FORMATS", "MAX_SIDE", "aload_image", "hamming", "image_hash", "is_url", "load_image", "sample_hashes"]

FORMATS = {"BMP", "GIF", "JPEG", "PNG", "TIFF", "WEBP"}
PDQ_BITS = 256


MAX_SIDE = 7200  # the service's largest image side, in pixels


def is_url(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith(("https://", "http://"))


def load_image(value: Any, *, fetch_timeout: float = 10.0, allowed_hosts: Sequence[str] = ()) -> bytes:
    """The image's bytes, checked for size, pixel count and format.

    ``value`` is bytes, a base64 string (or ``data:`` URL), a file path, or an http(s) URL
    (fetched safely: see :mod:`guardrail._fetch`; at most 4 MB read).
    """
    limit = INCIDENT_LIMITS.image_bytes
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, Path):
        data = _read_file(value)
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise EmptyTextError("the image is empty")
        if text.startswith(("http://", "https://")):
            data = fetch(text, limit=limit, timeout=fetch_timeout, allowed_hosts=allowed_hosts)
        elif text.startswith("data:"):
            data = _b64(text.split(",", 1)[-1])
        elif len(text) < 4096 and Path(text).expanduser().is_file():
            data = _read_file(Path(text).expanduser())
        else:
            data = _b64(text)
    else:
        raise InvalidInputError(
            f"an image must be bytes, base64, a file path or an http(s) URL, got {type(value).__name__}"
        )
    return check_image_bytes(data)


async def aload_image(value: Any, *, fetch_timeout: float = 10.0, allowed_hosts: Sequence[str] = ()) -> bytes:
    """:func:`load_image` with URLs fetched without blocking the event loop."""
    if is_url(value):
        data = await afetch(value.strip(), limit=INCIDENT_LIMITS.image_bytes, timeout=fetch_timeout,
                            allowed_hosts=allowed_hosts)
        return check_image_bytes(data)
    return load_image(value)


def check_image_bytes(data: bytes) -> bytes:
    limit = INCIDENT_LIMITS.image_bytes
    if not data:
        raise EmptyTextError("the image is empty")
    if len(data) > limit:
        raise LimitExceededError(f"the image is {len(data):,} bytes; the limit is {limit:,} (4 MB)")
    _check_format(data)
    return data


def _read_file(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > INCIDENT_LIMITS.image_bytes:
            raise LimitExceededError(f"{path} is {size:,} bytes; images are limited to 4 MB")
        return path.read_bytes()
    except OSError as exc:
        raise InvalidInputError(f"cannot read image {path}: {exc.strerror or exc}") from None


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(
            "the image is not valid base64 (nor an existing file path or an http(s) URL)"
        ) from None


def _check_format(data: bytes) -> str:
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as img:  # reads the header only
                fmt = (img.format or "").upper()
                width, height = img.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise LimitExceededError(f"the image has too many pixels; the limit is {MAX_SIDE}x{MAX_SIDE}") from None
    except (UnidentifiedImageError, OSError, ValueError):
        raise InvalidInputError(
            f"unrecognised image data; supported formats: {', '.join(sorted(FORMATS))}"
        ) from None
    if width > MAX_SIDE or height > MAX_SIDE:  # before any pixel is decoded
        raise LimitExceededError(
            f"the image is {width}x{height} pixels; the limit is {MAX_SIDE}x{MAX_SIDE}"
        )
    if fmt == "MPO":  # multi-picture JPEG from cameras
        fmt = "JPEG"
    if fmt not in FORMATS:
        raise InvalidInputError(f"{fmt} images are not supported; use one of {', '.join(sorted(FORMATS))}")
    return fmt


def _pixels(data: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.seek(0)  # first frame of GIF/TIFF/WEBP animations
        return np.asarray(img.convert("RGB"))


def image_hash(data: bytes) -> tuple[np.ndarray, int]:
    """PDQ hash (32 packed bytes) and its quality (0-100) of one image."""
    import pdqhash

    vector, quality = pdqhash.compute(_pixels(data))
    return np.packbits(vector.astype(bool)), int(quality)


def sample_hashes(data: bytes) -> tuple[np.ndarray, int]:
    """The 8 dihedral PDQ hashes (8 x 32 packed bytes) of a sample and its quality."""
    import pdqhash

    vectors, quality = pdqhash.compute_dihedral(_pixels(data))
    return np.stack([np.packbits(np.asarray(v).astype(bool)) for v in vectors]), int(quality)


_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint16)


def hamming(query: np.ndarray, hashes: np.ndarray) -> np.ndarray:
    """Bit distances between one packed hash and an (n, 32) array of packed hashes."""
    return _POPCOUNT[np.bitwise_xor(hashes, query)].sum(axis=-1)
