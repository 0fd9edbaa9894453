//! Images: JPEG, PNG, WebP and GIF are decoded (within limits) to prove they are images, to
//! measure them and to thumbnail them; HEIC/HEIF is read without decoding (`heif`).
//!
//! The header is read first and an image over the pixel or side limit is refused before a pixel
//! is decoded; decoding itself runs under the same limits and a cap on the memory it may take,
//! so a decompression bomb is refused, never expanded.
//!
//! What other participants are served, so that no location reaches them:
//! - JPEG: re-encoded at quality 90 with the EXIF orientation applied and no metadata at all
//!   (EXIF, XMP, IPTC, comments); the ICC colour profile is kept.
//! - PNG: re-encoded as PNG (lossless) with the orientation applied, no text, time or EXIF
//!   chunks; the ICC colour profile is kept.
//! - WebP: served as uploaded when it holds no EXIF, XMP or unknown chunk (nearly every WebP:
//!   cameras do not write them); otherwise re-encoded as lossless WebP without them.
//! - GIF: carries no EXIF; application extensions other than the looping one (XMP lives in one)
//!   and comments are cut out, every other byte kept.

use std::io::Cursor;

use ::image::codecs::jpeg::JpegEncoder;
use ::image::codecs::png::{CompressionType, FilterType as PngFilter, PngEncoder};
use ::image::codecs::webp::WebPEncoder;
use ::image::imageops::FilterType;
use ::image::metadata::Orientation;
use ::image::{
    DynamicImage, GenericImageView, ImageBuffer, ImageDecoder, ImageEncoder, ImageError, ImageFormat, ImageReader, Limits, Pixel, RgbImage,
};

use super::allow::{Format, Sniffed};
use super::{heif, MediaKind, Rejection, Verified};
use crate::domain::limits::{MAX_IMAGE_DECODE_BYTES, MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, THUMBNAIL_MAX_SIDE};

/// JPEG quality of the copy served instead of a JPEG upload.
const SERVED_JPEG_QUALITY: u8 = 90;
/// JPEG quality of thumbnails.
const THUMBNAIL_JPEG_QUALITY: u8 = 80;

pub(super) fn verify(real: Sniffed, bytes: &[u8]) -> Result<Verified, Rejection> {
    match real {
        Sniffed::Format(Format::Heif) => heif::verify(bytes),
        Sniffed::Format(format @ (Format::Jpeg | Format::Png | Format::Webp | Format::Gif)) => raster(format, bytes),
        _ => Err(Rejection::mismatch("not an image")),
    }
}

/// Refuses an image over the size limits, from its header's dimensions.
pub(crate) fn check_size(width: u32, height: u32) -> Result<(), Rejection> {
    if width == 0 || height == 0 {
        return Err(Rejection::corrupt("the image has no pixels"));
    }
    if width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE {
        return Err(Rejection::new(
            Rejection::TOO_MANY_PIXELS,
            format!("the image is {width}×{height} pixels; neither side may exceed {MAX_IMAGE_SIDE}"),
        ));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > MAX_IMAGE_PIXELS {
        return Err(Rejection::new(
            Rejection::TOO_MANY_PIXELS,
            format!(
                "the image is {width}×{height} pixels ({:.1} MP); the limit is {} MP",
                pixels as f64 / 1e6,
                MAX_IMAGE_PIXELS / 1_000_000
            ),
        ));
    }
    Ok(())
}

fn decode_error(err: ImageError) -> Rejection {
    match err {
        ImageError::Limits(_) => Rejection::new(Rejection::TOO_MANY_PIXELS, "the image exceeds the decoding limits"),
        _ => Rejection::corrupt("the image data is damaged or truncated"),
    }
}

fn raster(format: Format, bytes: &[u8]) -> Result<Verified, Rejection> {
    if format == Format::Jpeg {
        check_jpeg_structure(bytes)?;
    }
    let image_format = match format {
        Format::Jpeg => ImageFormat::Jpeg,
        Format::Png => ImageFormat::Png,
        Format::Webp => ImageFormat::WebP,
        _ => ImageFormat::Gif,
    };
    // The memory cap applies from the start (PNG text chunks are inflated while the header is
    // read); the side limits once the header's dimensions have been checked, to name them.
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_IMAGE_DECODE_BYTES);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), image_format);
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let (width, height) = decoder.dimensions();
    check_size(width, height)?;
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    decoder.set_limits(limits).map_err(decode_error)?;
    if decoder.total_bytes() > MAX_IMAGE_DECODE_BYTES {
        return Err(Rejection::new(
            Rejection::TOO_MANY_PIXELS,
            format!("the image's {width}×{height} pixels would take more than {} MiB to decode", MAX_IMAGE_DECODE_BYTES >> 20),
        ));
    }
    // GIF has no orientation; for the others it comes from EXIF (JPEG APP1, PNG eXIf, WebP EXIF).
    let orientation = if format == Format::Gif { Orientation::NoTransforms } else { decoder.orientation().map_err(decode_error)? };
    let icc_profile = decoder.icc_profile().ok().flatten();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    let (width, height) = if quarter_turn(orientation) { (height, width) } else { (width, height) };

    let (thumbnail, served) = if format == Format::Jpeg {
        // A JPEG's pixels are turned as they are encoded (no second full-size buffer), and the
        // thumbnail is made from them unturned and then turned.
        let mut small = DynamicImage::ImageRgb8(thumbnail_pixels(&image));
        small.apply_orientation(orientation);
        let served = encode_jpeg_oriented(&image, orientation, icc_profile, bytes.len())?;
        (encode_jpeg(&small, None, THUMBNAIL_JPEG_QUALITY)?, Some((served, "image/jpeg")))
    } else {
        image.apply_orientation(orientation);
        let thumbnail = encode_jpeg(&DynamicImage::ImageRgb8(thumbnail_pixels(&image)), None, THUMBNAIL_JPEG_QUALITY)?;
        let served = match format {
            Format::Png => Some((encode_png(&image, icc_profile)?, "image/png")),
            Format::Webp if webp_needs_scrub(bytes) => Some((encode_webp_lossless(&image, icc_profile)?, "image/webp")),
            Format::Gif => scrub_gif(bytes)?.map(|gif| (gif, "image/gif")),
            _ => None,
        };
        (thumbnail, served)
    };
    debug_assert_eq!(image.width().max(image.height()), width.max(height));
    Ok(Verified {
        kind: MediaKind::Image,
        content_type: format.content_type().to_string(),
        width: Some(width),
        height: Some(height),
        duration_ms: None,
        thumbnail: Some(thumbnail),
        served_content_type: served.as_ref().map(|(_, content_type)| content_type.to_string()),
        text: None,
        served: served.map(|(bytes, _)| bytes),
    })
}

/// Whether an orientation turns the image a quarter (swapping width and height).
fn quarter_turn(orientation: Orientation) -> bool {
    matches!(orientation, Orientation::Rotate90 | Orientation::Rotate270 | Orientation::Rotate90FlipH | Orientation::Rotate270FlipH)
}

/// Thumbnail pixels: the longest side at most `THUMBNAIL_MAX_SIDE` (smaller images keep their
/// size). Large reductions first average whole blocks of pixels (fast, one pass, no full-size
/// copy), then a Lanczos filter makes the last step of at most a factor of two.
fn thumbnail_pixels(image: &DynamicImage) -> RgbImage {
    let (width, height) = (image.width(), image.height());
    let longest = width.max(height);
    if longest <= THUMBNAIL_MAX_SIDE {
        flatten(image)
    } else {
        let scale = f64::from(THUMBNAIL_MAX_SIDE) / f64::from(longest);
        let target = |side: u32| ((f64::from(side) * scale).round() as u32).max(1);
        let (target_w, target_h) = (target(width), target(height));
        let step = if longest > 2 * THUMBNAIL_MAX_SIDE { image.thumbnail_exact(target_w * 2, target_h * 2) } else { image.clone() };
        flatten(&step.resize_exact(target_w, target_h, FilterType::Lanczos3))
    }
}

/// 8-bit RGB, transparent pixels laid over white (JPEG has no transparency).
fn flatten(image: &DynamicImage) -> RgbImage {
    if !image.color().has_alpha() {
        return image.to_rgb8();
    }
    let rgba = image.to_rgba8();
    RgbImage::from_fn(rgba.width(), rgba.height(), |x, y| {
        let [r, g, b, a] = rgba.get_pixel(x, y).0;
        let over_white = |c: u8| ((u16::from(c) * u16::from(a) + 255 * (255 - u16::from(a))) / 255) as u8;
        ::image::Rgb([over_white(r), over_white(g), over_white(b)])
    })
}

fn encode_failed(_: ImageError) -> Rejection {
    Rejection::corrupt("the image cannot be re-encoded")
}

fn encode_jpeg(image: &DynamicImage, icc_profile: Option<Vec<u8>>, quality: u8) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::new();
    let mut encoder = JpegEncoder::new_with_quality(&mut out, quality);
    if let Some(profile) = icc_profile {
        let _ = encoder.set_icc_profile(profile);
    }
    match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageRgb8(_) => {
            encoder.write_image(image.as_bytes(), image.width(), image.height(), image.color().into()).map_err(encode_failed)?
        }
        other => {
            let rgb = flatten(other);
            encoder.write_image(rgb.as_raw(), rgb.width(), rgb.height(), ::image::ExtendedColorType::Rgb8).map_err(encode_failed)?
        }
    }
    Ok(out)
}

/// The served copy of a JPEG: its pixels encoded at `SERVED_JPEG_QUALITY` through a view that
/// applies the orientation, so no turned copy of the image is ever held.
fn encode_jpeg_oriented(
    image: &DynamicImage,
    orientation: Orientation,
    icc_profile: Option<Vec<u8>>,
    upload_len: usize,
) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::with_capacity(upload_len);
    let mut encoder = JpegEncoder::new_with_quality(&mut out, SERVED_JPEG_QUALITY);
    if let Some(profile) = icc_profile {
        let _ = encoder.set_icc_profile(profile);
    }
    match image {
        DynamicImage::ImageLuma8(pixels) => encoder.encode_image(&Oriented::new(pixels, orientation)),
        DynamicImage::ImageRgb8(pixels) => encoder.encode_image(&Oriented::new(pixels, orientation)),
        other => encoder.encode_image(&Oriented::new(&flatten(other), orientation)),
    }
    .map_err(encode_failed)?;
    Ok(out)
}

/// An image seen as it is displayed under an EXIF orientation.
struct Oriented<'a, P: Pixel> {
    pixels: &'a ImageBuffer<P, Vec<P::Subpixel>>,
    orientation: Orientation,
}

impl<'a, P: Pixel> Oriented<'a, P> {
    fn new(pixels: &'a ImageBuffer<P, Vec<P::Subpixel>>, orientation: Orientation) -> Self {
        Oriented { pixels, orientation }
    }
}

impl<P: Pixel> GenericImageView for Oriented<'_, P> {
    type Pixel = P;

    fn dimensions(&self) -> (u32, u32) {
        let (w, h) = self.pixels.dimensions();
        if quarter_turn(self.orientation) {
            (h, w)
        } else {
            (w, h)
        }
    }

    /// The stored pixel shown at (x, y): the inverse of each orientation's transform.
    fn get_pixel(&self, x: u32, y: u32) -> P {
        let (w, h) = self.pixels.dimensions();
        let (sx, sy) = match self.orientation {
            Orientation::NoTransforms => (x, y),
            Orientation::Rotate90 => (y, h - 1 - x),
            Orientation::Rotate180 => (w - 1 - x, h - 1 - y),
            Orientation::Rotate270 => (w - 1 - y, x),
            Orientation::FlipHorizontal => (w - 1 - x, y),
            Orientation::FlipVertical => (x, h - 1 - y),
            Orientation::Rotate90FlipH => (y, x),
            Orientation::Rotate270FlipH => (w - 1 - y, h - 1 - x),
        };
        *self.pixels.get_pixel(sx, sy)
    }
}

fn encode_png(image: &DynamicImage, icc_profile: Option<Vec<u8>>) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::new();
    let mut encoder = PngEncoder::new_with_quality(&mut out, CompressionType::Default, PngFilter::Adaptive);
    if let Some(profile) = icc_profile {
        let _ = encoder.set_icc_profile(profile);
    }
    let image = match image {
        DynamicImage::ImageRgb32F(_) | DynamicImage::ImageRgba32F(_) => &DynamicImage::ImageRgba16(image.to_rgba16()),
        other => other,
    };
    encoder.write_image(image.as_bytes(), image.width(), image.height(), image.color().into()).map_err(encode_failed)?;
    Ok(out)
}

fn encode_webp_lossless(image: &DynamicImage, icc_profile: Option<Vec<u8>>) -> Result<Vec<u8>, Rejection> {
    let mut out = Vec::new();
    let mut encoder = WebPEncoder::new_lossless(&mut out);
    if let Some(profile) = icc_profile {
        let _ = encoder.set_icc_profile(profile);
    }
    let rgba;
    let image = match image {
        DynamicImage::ImageLuma8(_) | DynamicImage::ImageLumaA8(_) | DynamicImage::ImageRgb8(_) | DynamicImage::ImageRgba8(_) => image,
        other => {
            rgba = DynamicImage::ImageRgba8(other.to_rgba8());
            &rgba
        }
    };
    encoder.write_image(image.as_bytes(), image.width(), image.height(), image.color().into()).map_err(encode_failed)?;
    Ok(out)
}

/// A JPEG must run from its start marker through its scans to its end marker: the decoder fills
/// a truncated scan with grey rather than failing, so a cut-off upload is caught here.
fn check_jpeg_structure(bytes: &[u8]) -> Result<(), Rejection> {
    let truncated = || Rejection::corrupt("the JPEG is truncated or damaged");
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return Err(truncated());
    }
    let mut pos = 2;
    loop {
        // Markers may be preceded by fill bytes (0xFF).
        while bytes.get(pos) == Some(&0xFF) && bytes.get(pos + 1) == Some(&0xFF) {
            pos += 1;
        }
        if bytes.get(pos) != Some(&0xFF) {
            return Err(truncated());
        }
        let marker = *bytes.get(pos + 1).ok_or_else(truncated)?;
        pos += 2;
        match marker {
            0xD9 => return Ok(()),          // EOI
            0x01 | 0xD0..=0xD7 => continue, // no length
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([*bytes.get(pos).ok_or_else(truncated)?, *bytes.get(pos + 1).ok_or_else(truncated)?]));
        if length < 2 || pos + length > bytes.len() {
            return Err(truncated());
        }
        pos += length;
        if marker == 0xDA {
            // Entropy-coded data: a 0xFF in it is followed by 0x00 (a stuffed byte) or a restart
            // marker; anything else is the next marker.
            loop {
                let next = bytes[pos..].iter().position(|&b| b == 0xFF).ok_or_else(truncated)?;
                pos += next;
                match bytes.get(pos + 1) {
                    None => return Err(truncated()),
                    Some(0x00 | 0xD0..=0xD7) => pos += 2,
                    Some(_) => break,
                }
            }
        }
    }
}

/// Whether a WebP holds anything besides image data, animation and a colour profile.
fn webp_needs_scrub(bytes: &[u8]) -> bool {
    const KEPT: [&[u8; 4]; 7] = [b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"];
    const EXIF_FLAG: u8 = 0x08;
    const XMP_FLAG: u8 = 0x04;
    let Some(riff_len) = bytes.get(4..8).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize) else {
        return true;
    };
    // Bytes after the RIFF chunk are not part of the image.
    if riff_len.checked_add(8) != Some(bytes.len()) {
        return true;
    }
    let mut pos = 12;
    while pos < bytes.len() {
        let Some(header) = bytes.get(pos..pos + 8) else {
            return true;
        };
        let size = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        let kind = &header[..4];
        if !KEPT.iter().any(|k| k.as_slice() == kind) {
            return true;
        }
        if kind == b"VP8X" && bytes.get(pos + 8).is_some_and(|flags| flags & (EXIF_FLAG | XMP_FLAG) != 0) {
            return true;
        }
        pos = pos.saturating_add(8).saturating_add(size).saturating_add(size & 1);
    }
    false
}

/// The GIF without comment extensions and application extensions other than the looping ones
/// (NETSCAPE2.0, ANIMEXTS1.0), and without bytes after its trailer; `None` when it has none of
/// those. Every other block is copied byte for byte.
fn scrub_gif(bytes: &[u8]) -> Result<Option<Vec<u8>>, Rejection> {
    let damaged = || Rejection::corrupt("the GIF is truncated or damaged");
    // Sub-blocks: length-prefixed, ended by a zero length. Returns the position after them.
    let sub_blocks = |mut pos: usize| -> Result<usize, Rejection> {
        loop {
            let len = usize::from(*bytes.get(pos).ok_or_else(damaged)?);
            pos += 1 + len;
            if len == 0 {
                return Ok(pos);
            }
        }
    };
    let colour_table = |packed: u8| if packed & 0x80 != 0 { 3usize << ((packed & 7) + 1) } else { 0 };

    let mut pos = 13 + colour_table(*bytes.get(10).ok_or_else(damaged)?);
    // Byte ranges (start, end) copied to the output.
    let mut kept = vec![(0, pos)];
    let mut dropped = false;
    loop {
        let start = pos;
        match *bytes.get(pos).ok_or_else(damaged)? {
            0x3B => {
                kept.push((pos, pos + 1));
                dropped |= pos + 1 != bytes.len();
                break;
            }
            0x2C => {
                let packed = *bytes.get(pos + 9).ok_or_else(damaged)?;
                pos = sub_blocks(pos + 10 + colour_table(packed) + 1)?;
                kept.push((start, pos));
            }
            0x21 => {
                let label = *bytes.get(pos + 1).ok_or_else(damaged)?;
                pos = sub_blocks(pos + 2)?;
                let looping = label == 0xFF
                    && matches!(bytes.get(start + 2..start + 14), Some(b) if b == b"\x0BNETSCAPE2.0" || b == b"\x0BANIMEXTS1.0");
                if label == 0xFE || (label == 0xFF && !looping) {
                    dropped = true;
                } else {
                    kept.push((start, pos));
                }
            }
            _ => return Err(damaged()),
        }
        if pos > bytes.len() {
            return Err(damaged());
        }
    }
    if !dropped {
        return Ok(None);
    }
    let mut out = Vec::with_capacity(bytes.len());
    for (start, end) in kept {
        out.extend_from_slice(&bytes[start..end]);
    }
    Ok(Some(out))
}
