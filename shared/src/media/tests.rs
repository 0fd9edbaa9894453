//! Media verification on real data: images made here with the `image` crate (and EXIF blocks
//! built byte by byte), voice recordings and a HEIC photo from tests/fixtures/media (made by
//! infra/scripts/make-media-fixtures.sh), documents assembled here.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::{Cursor, Write};

use ::image::{DynamicImage, GenericImageView, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};

use super::*;
use crate::domain::limits::{MAX_IMAGE_BYTES, THUMBNAIL_MAX_SIDE};

// ---------------------------------------------------------------------------------------------
// Allocation counting: bytes allocated by the current thread (tests run on threads of their own).

struct CountingAllocator;

thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + layout.size() as u64));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATED.try_with(|n| n.set(n.get() + new_size as u64));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: CountingAllocator = CountingAllocator;

/// Runs `f`, returning its result and the bytes this thread allocated meanwhile.
fn allocated_by<T>(f: impl FnOnce() -> T) -> (T, u64) {
    let before = ALLOCATED.with(Cell::get);
    let out = f();
    (out, ALLOCATED.with(Cell::get) - before)
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn code(result: Result<Verified, Rejection>) -> &'static str {
    match result {
        Ok(verified) => {
            panic!("expected a rejection, got {:?} ({} served bytes)", verified.content_type, verified.served.map_or(0, |s| s.len()))
        }
        Err(rejection) => rejection.code,
    }
}

/// A photo-like test picture: gradients, so every encoder has something to encode.
fn picture(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x + y) % 256) as u8]))
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).unwrap();
    out
}

fn decode(bytes: &[u8]) -> DynamicImage {
    ::image::load_from_memory(bytes).unwrap()
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A TIFF block (big-endian) as EXIF carries it: IFD0 with an orientation and a pointer to a GPS
/// IFD holding latitude 48° 51' 30" N.
fn exif_tiff(orientation: u16) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"MM\0\x2A\0\0\0\x08");
    // IFD0 at 8: two entries, then the next-IFD offset (none).
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]); // Orientation, SHORT, 1
    t.extend_from_slice(&orientation.to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1]); // GPSInfo IFD pointer, LONG, 1
    t.extend_from_slice(&38u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    // GPS IFD at 38: latitude reference and latitude (three rationals at 68).
    t.extend_from_slice(&2u16.to_be_bytes());
    t.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]); // GPSLatitudeRef, ASCII, 2
    t.extend_from_slice(&[0, 2, 0, 5, 0, 0, 0, 3]); // GPSLatitude, RATIONAL, 3
    t.extend_from_slice(&68u32.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    for (numerator, denominator) in [(48u32, 1u32), (51, 1), (30, 1)] {
        t.extend_from_slice(&numerator.to_be_bytes());
        t.extend_from_slice(&denominator.to_be_bytes());
    }
    assert_eq!(t.len(), 92);
    t
}

/// `jpeg` with an APP1 EXIF segment right after its start marker.
fn with_exif(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(&exif_tiff(orientation));
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn gps_latitude(container: &[u8]) -> Option<String> {
    let exif = exif::Reader::new().read_from_container(&mut Cursor::new(container)).ok()?;
    exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY).map(|f| f.display_value().to_string())
}

fn png_chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    let start = out.len();
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    let crc = crc32(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// A valid PNG of a few hundred bytes whose header declares `width`×`height` grey pixels (its
/// data holds one row: decoding it in full would fail, but only after allocating the image).
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    png_declaring_pixels(width, height, 8, 0)
}

/// As `png_declaring`, with a bit depth and a colour type (0 grey, 2 RGB, 6 RGBA).
fn png_declaring_pixels(width: u32, height: u32, bit_depth: u8, colour_type: u8) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[bit_depth, colour_type, 0, 0, 0]);
    png_chunk(&mut png, b"IHDR", &ihdr);
    // zlib: one stored block holding a single zero byte.
    png_chunk(&mut png, b"IDAT", &[0x78, 0x01, 0x01, 0x01, 0x00, 0xFE, 0xFF, 0x00, 0x00, 0x01, 0x00, 0x01]);
    png_chunk(&mut png, b"IEND", &[]);
    png
}

/// A ZIP of stored entries (what `zip -0` writes).
fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let (mut out, mut directory) = (Vec::new(), Vec::new());
    for (name, data) in entries {
        let offset = out.len() as u32;
        let crc = crc32(data);
        let common = |out: &mut Vec<u8>| {
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
            out.extend_from_slice(&crc.to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(b"PK\x03\x04");
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        directory.extend_from_slice(b"PK\x01\x02\x14\x00");
        common(&mut directory);
        directory.extend_from_slice(&[0; 6]); // comment length, disk, internal attributes
        directory.extend_from_slice(&0u32.to_le_bytes());
        directory.extend_from_slice(&offset.to_le_bytes());
        directory.extend_from_slice(name.as_bytes());
    }
    let directory_offset = out.len() as u32;
    out.extend_from_slice(&directory);
    out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
    out.extend_from_slice(&(directory.len() as u32).to_le_bytes());
    out.extend_from_slice(&directory_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

const CONTENT_TYPES: &[u8] =
    br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#;

fn docx(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let mut entries: Vec<(&str, &[u8])> =
        vec![("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", b"<Relationships/>"), ("word/document.xml", b"<w:document/>")];
    entries.extend_from_slice(extra);
    zip(&entries)
}

/// An OLE compound file with one stream.
fn ole(stream: &str) -> Vec<u8> {
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    file.create_stream(stream).unwrap().write_all(&[7; 600]).unwrap();
    file.flush().unwrap();
    file.into_inner().into_inner()
}

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{}/../tests/fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e} (infra/scripts/make-media-fixtures.sh makes it)"))
}

/// A WAV's length from its header: data bytes over bytes a second.
fn wav_duration_ms(wav: &[u8]) -> u64 {
    let (mut pos, mut byte_rate, mut data) = (12, 0u64, 0u64);
    while pos + 8 <= wav.len() {
        let size = u32::from_le_bytes(wav[pos + 4..pos + 8].try_into().unwrap()) as usize;
        match &wav[pos..pos + 4] {
            b"fmt " => byte_rate = u64::from(u32::from_le_bytes(wav[pos + 16..pos + 20].try_into().unwrap())),
            b"data" => data = size as u64,
            _ => {}
        }
        pos += 8 + size + (size & 1);
    }
    data * 1000 / byte_rate
}

// ---------------------------------------------------------------------------------------------
// The allow-list.

#[test]
fn declared_types_map_to_their_kind_ignoring_case_and_parameters() {
    for (declared, kind) in [
        ("image/jpeg", MediaKind::Image),
        ("IMAGE/PNG", MediaKind::Image),
        ("image/heic", MediaKind::Image),
        ("audio/webm;codecs=opus", MediaKind::Audio),
        ("audio/webm; codecs=\"opus\"", MediaKind::Audio),
        ("video/webm;codecs=opus", MediaKind::Audio),
        ("audio/ogg; codecs=opus", MediaKind::Audio),
        ("audio/x-m4a", MediaKind::Audio),
        ("audio/mpeg", MediaKind::Audio),
        ("audio/wav", MediaKind::Audio),
        ("application/pdf", MediaKind::File),
        ("text/plain; charset=utf-8", MediaKind::File),
        ("text/csv", MediaKind::File),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", MediaKind::File),
        ("application/vnd.ms-powerpoint", MediaKind::File),
        ("application/x-zip-compressed", MediaKind::File),
    ] {
        assert_eq!(kind_of_declared(declared), Ok(kind), "{declared}");
    }
    assert_eq!(max_bytes(MediaKind::Image), 20 * 1024 * 1024);
    assert_eq!(max_bytes(MediaKind::Audio), 25 * 1024 * 1024);
    assert_eq!(max_bytes(MediaKind::File), 50 * 1024 * 1024);
}

#[test]
fn types_off_the_allow_list_are_refused_whatever_the_bytes() {
    let png = encode(&DynamicImage::ImageRgb8(picture(8, 8)), ImageFormat::Png);
    for declared in [
        "text/html",
        "image/svg+xml",
        "application/x-msdownload",
        "application/octet-stream",
        "application/javascript",
        "video/mp4",
        "image/bmp",
        "image/tiff",
        "application/x-sh",
        "",
        "image",
    ] {
        assert_eq!(kind_of_declared(declared).unwrap_err().code, "type_not_allowed", "{declared}");
        assert_eq!(code(verify(declared, &png)), "type_not_allowed", "{declared}");
    }
}

#[test]
fn empty_and_oversized_uploads_are_refused() {
    assert_eq!(code(verify("image/png", &[])), "empty");
    assert_eq!(code(verify("text/plain", &[])), "empty");
    let big = vec![b'a'; MAX_IMAGE_BYTES as usize + 1];
    assert_eq!(code(verify("image/jpeg", &big)), "too_large");
    // The same bytes are within the file limit (and are text).
    assert_eq!(verify("text/plain", &big).unwrap().content_type, "text/plain; charset=utf-8");
}

// ---------------------------------------------------------------------------------------------
// Images.

#[test]
fn every_image_format_verifies_with_its_size_and_a_thumbnail() {
    let rgb = DynamicImage::ImageRgb8(picture(640, 480));
    // GIF and WebP (lossless, what the crate encodes) with transparency, laid over white.
    let rgba = DynamicImage::ImageRgba8(RgbaImage::from_fn(640, 480, |x, y| Rgba([x as u8, y as u8, 90, if x < 320 { 255 } else { 0 }])));
    for (declared, image, format, served_type) in [
        ("image/jpeg", &rgb, ImageFormat::Jpeg, Some("image/jpeg")),
        ("image/png", &rgba, ImageFormat::Png, Some("image/png")),
        ("image/webp", &rgba, ImageFormat::WebP, None),
        ("image/gif", &rgba, ImageFormat::Gif, None),
    ] {
        let bytes = encode(image, format);
        let verified = verify(declared, &bytes).unwrap_or_else(|r| panic!("{declared}: {r}"));
        assert_eq!(verified.kind, MediaKind::Image);
        assert_eq!(verified.content_type, declared);
        assert_eq!((verified.width, verified.height), (Some(640), Some(480)), "{declared}");
        assert_eq!(verified.duration_ms, None);
        let thumbnail = decode(verified.thumbnail.as_deref().expect("thumbnail"));
        assert_eq!(::image::guess_format(verified.thumbnail.as_deref().unwrap()).unwrap(), ImageFormat::Jpeg);
        assert_eq!(thumbnail.dimensions(), (THUMBNAIL_MAX_SIDE, 240), "{declared}");
        if format != ImageFormat::Jpeg {
            // The transparent right half is white in the thumbnail.
            let [r, g, b] = thumbnail.to_rgb8().get_pixel(300, 120).0;
            assert!(r > 240 && g > 240 && b > 240, "{declared}: {r} {g} {b}");
        }
        assert_eq!(verified.served_content_type.as_deref(), served_type, "{declared}");
        match &verified.served {
            Some(served) => assert_eq!(decode(served).dimensions(), (640, 480)),
            None => assert!(served_type.is_none()),
        }
    }
}

#[test]
fn small_images_keep_their_size_in_the_thumbnail() {
    let bytes = encode(&DynamicImage::ImageRgb8(picture(200, 100)), ImageFormat::Png);
    let verified = verify("image/png", &bytes).unwrap();
    assert_eq!(decode(&verified.thumbnail.unwrap()).dimensions(), (200, 100));
}

#[test]
fn jpeg_gps_location_never_reaches_the_served_copy() {
    let plain = encode(&DynamicImage::ImageRgb8(picture(800, 600)), ImageFormat::Jpeg);
    let upload = with_exif(&plain, 1);
    // The upload really carries the location.
    assert_eq!(gps_latitude(&upload).as_deref(), Some("48 deg 51 min 30 sec"));

    let verified = verify("image/jpeg", &upload).unwrap();
    assert_eq!((verified.width, verified.height), (Some(800), Some(600)));
    assert_eq!(decode(verified.thumbnail.as_deref().unwrap()).dimensions(), (320, 240));
    assert_eq!(verified.served_content_type.as_deref(), Some("image/jpeg"));
    let served = verified.served.unwrap();
    assert_eq!(gps_latitude(&served), None);
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(&served)).is_err(), "no EXIF at all");
    assert!(!served.windows(6).any(|w| w == b"Exif\0\0"));
    // No APP1 (EXIF/XMP), APP13 (IPTC) or comment segment before the first scan.
    let mut pos = 2;
    while served[pos + 1] != 0xDA {
        assert!(![0xE1, 0xED, 0xFE].contains(&served[pos + 1]), "segment {:02X} served", served[pos + 1]);
        pos += 2 + usize::from(u16::from_be_bytes([served[pos + 2], served[pos + 3]]));
    }
    assert_eq!(decode(&served).dimensions(), (800, 600));
}

#[test]
fn exif_orientation_is_applied_and_swaps_width_and_height() {
    // Landscape pixels, left half red, right half blue; orientation 6 says "turn 90° clockwise".
    let pixels = RgbImage::from_fn(64, 32, |x, _| if x < 32 { Rgb([255, 0, 0]) } else { Rgb([0, 0, 255]) });
    let upload = with_exif(&encode(&DynamicImage::ImageRgb8(pixels), ImageFormat::Jpeg), 6);
    let verified = verify("image/jpeg", &upload).unwrap();
    assert_eq!((verified.width, verified.height), (Some(32), Some(64)));
    let served = decode(verified.served.as_deref().unwrap()).to_rgb8();
    assert_eq!(served.dimensions(), (32, 64));
    // Turned clockwise, the left (red) half is now on top.
    let (top, bottom) = (served.get_pixel(16, 8).0, served.get_pixel(16, 56).0);
    assert!(top[0] > 200 && top[2] < 60, "top {top:?}");
    assert!(bottom[2] > 200 && bottom[0] < 60, "bottom {bottom:?}");
    assert_eq!(decode(verified.thumbnail.as_deref().unwrap()).dimensions(), (32, 64));
    // Served without the EXIF (so no reader turns it a second time).
    assert!(exif::Reader::new().read_from_container(&mut Cursor::new(verified.served.unwrap())).is_err());
}

#[test]
fn every_exif_orientation_is_applied_as_the_image_crate_applies_it() {
    // Four flat quadrants (so that JPEG's losses stay small), of unequal width and height.
    let colours = [Rgb([230, 30, 30]), Rgb([30, 200, 30]), Rgb([30, 30, 230]), Rgb([230, 230, 30])];
    let pixels = RgbImage::from_fn(48, 32, |x, y| colours[usize::from(x >= 24) + 2 * usize::from(y >= 16)]);
    let plain = encode(&DynamicImage::ImageRgb8(pixels), ImageFormat::Jpeg);
    for orientation in 1..=8u16 {
        let mut expected = decode(&plain);
        expected.apply_orientation(::image::metadata::Orientation::from_exif(orientation as u8).unwrap());
        let verified = verify("image/jpeg", &with_exif(&plain, orientation)).unwrap();
        assert_eq!((verified.width, verified.height), (Some(expected.width()), Some(expected.height())), "orientation {orientation}");
        for shown in [decode(verified.served.as_deref().unwrap()), decode(verified.thumbnail.as_deref().unwrap())] {
            assert_eq!(shown.dimensions(), expected.dimensions(), "orientation {orientation}");
            for (x, y) in [(4, 4), (expected.width() - 5, 4), (4, expected.height() - 5), (expected.width() - 5, expected.height() - 5)] {
                let (got, want) = (shown.to_rgb8().get_pixel(x, y).0, expected.to_rgb8().get_pixel(x, y).0);
                assert!(got.iter().zip(want).all(|(g, w)| g.abs_diff(w) < 40), "orientation {orientation} at {x},{y}: {got:?} vs {want:?}");
            }
        }
    }
}

#[test]
fn decompression_bomb_is_refused_from_its_header_without_allocating() {
    let bomb = png_declaring(100_000, 100_000);
    assert!(bomb.len() < 100);
    let (result, allocated) = allocated_by(|| verify("image/png", &bomb));
    let rejection = result.unwrap_err();
    assert_eq!(rejection.code, "too_many_pixels", "{rejection}");
    assert!(rejection.message.contains("100000×100000"), "{}", rejection.message);
    assert!(allocated < 1 << 20, "allocated {allocated} bytes");

    // Within the side limit but over the pixel limit: 7072 × 7072 is 50.01 MP.
    let (result, allocated) = allocated_by(|| verify("image/png", &png_declaring(7072, 7072)));
    assert_eq!(code(result), "too_many_pixels");
    assert!(allocated < 1 << 20, "allocated {allocated} bytes");
}

#[test]
fn decoded_memory_is_capped_so_16_bit_images_get_half_the_pixels() {
    // 30 MP of 16-bit RGBA would take 240 MB decoded, over the 200 MB cap; 8-bit, 120 MB.
    let (result, allocated) = allocated_by(|| verify("image/png", &png_declaring_pixels(6000, 5000, 16, 6)));
    let rejection = result.unwrap_err();
    assert_eq!(rejection.code, "too_many_pixels", "{rejection}");
    assert!(rejection.message.contains("MiB to decode"), "{}", rejection.message);
    assert!(allocated < 1 << 20, "allocated {allocated} bytes");
    // The 8-bit one passes the limits and is then found to hold one row, not 5000.
    assert_eq!(code(verify("image/png", &png_declaring_pixels(6000, 5000, 8, 6))), "corrupt");
}

#[test]
fn pixel_limits_let_a_48_megapixel_photo_through() {
    assert_eq!(image::check_size(8000, 6000), Ok(())); // 48.0 MP
    assert_eq!(image::check_size(8064, 6048), Ok(())); // 48.8 MP, a 48 MP phone sensor
    assert_eq!(image::check_size(16_384, 3_000), Ok(()));
    assert_eq!(image::check_size(16_385, 10).unwrap_err().code, "too_many_pixels");
    assert_eq!(image::check_size(7072, 7072).unwrap_err().code, "too_many_pixels");
    assert_eq!(image::check_size(0, 10).unwrap_err().code, "corrupt");
}

#[test]
fn truncated_images_are_corrupt() {
    let picture = DynamicImage::ImageRgb8(picture(400, 300));
    for (declared, format) in [("image/jpeg", ImageFormat::Jpeg), ("image/png", ImageFormat::Png), ("image/gif", ImageFormat::Gif)] {
        let bytes = encode(&picture, format);
        let cut = &bytes[..bytes.len() * 6 / 10];
        assert_eq!(code(verify(declared, cut)), "corrupt", "{declared}");
    }
    // A JPEG whose scan data is damaged past its end marker.
    let mut jpeg = encode(&picture, ImageFormat::Jpeg);
    let eoi = jpeg.len() - 2;
    jpeg.truncate(eoi);
    assert_eq!(code(verify("image/jpeg", &jpeg)), "corrupt");
}

#[test]
fn bytes_of_another_type_are_a_mismatch() {
    let jpeg = encode(&DynamicImage::ImageRgb8(picture(32, 32)), ImageFormat::Jpeg);
    assert_eq!(code(verify("image/png", &jpeg)), "type_mismatch");
    assert_eq!(code(verify("image/heic", &jpeg)), "type_mismatch");
    assert_eq!(code(verify("audio/mpeg", &jpeg)), "type_mismatch");
    assert_eq!(code(verify("application/pdf", &jpeg)), "type_mismatch");
    assert_eq!(code(verify("text/plain", &jpeg)), "type_mismatch");

    // Executables named as images.
    let mut elf = b"\x7FELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3E\0\x01\0\0\0".to_vec();
    elf.resize(512, 0);
    let mut pe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xFF\xFF\0\0".to_vec();
    pe.resize(512, 0);
    pe[0x3C] = 0x80;
    pe[0x80..0x84].copy_from_slice(b"PE\0\0");
    for executable in [&elf, &pe] {
        let rejection = verify("image/png", executable).unwrap_err();
        assert_eq!(rejection.code, "type_mismatch", "{rejection}");
        assert_eq!(code(verify("text/plain", executable)), "type_mismatch");
        assert_eq!(code(verify("application/zip", executable)), "type_mismatch");
    }
    // An image format that is not accepted, declared as an accepted one.
    let mut bmp = b"BM\x46\0\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0".to_vec();
    bmp.resize(70, 0);
    assert_eq!(code(verify("image/png", &bmp)), "type_mismatch");
    // Random bytes.
    let noise: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    assert_eq!(code(verify("image/jpeg", &noise)), "type_mismatch");
}

#[test]
fn webp_is_served_as_uploaded_unless_it_carries_exif() {
    let image = DynamicImage::ImageRgb8(picture(64, 48));
    let simple = encode(&image, ImageFormat::WebP);
    let verified = verify("image/webp", &simple).unwrap();
    assert_eq!((verified.served, verified.served_content_type), (None, None));

    // The same image in the extended layout with an EXIF chunk (orientation 6, GPS).
    let vp8l = &simple[12..];
    let mut chunks = b"VP8X".to_vec();
    chunks.extend_from_slice(&10u32.to_le_bytes());
    chunks.extend_from_slice(&[0x08, 0, 0, 0]); // flags: EXIF
    chunks.extend_from_slice(&(63u32.to_le_bytes()[..3]));
    chunks.extend_from_slice(&(47u32.to_le_bytes()[..3]));
    chunks.extend_from_slice(vp8l);
    let tiff = exif_tiff(6);
    chunks.extend_from_slice(b"EXIF");
    chunks.extend_from_slice(&(tiff.len() as u32).to_le_bytes());
    chunks.extend_from_slice(&tiff);
    let mut upload = b"RIFF".to_vec();
    upload.extend_from_slice(&(chunks.len() as u32 + 4).to_le_bytes());
    upload.extend_from_slice(b"WEBP");
    upload.extend_from_slice(&chunks);
    assert_eq!(gps_latitude(&upload).as_deref(), Some("48 deg 51 min 30 sec"));

    let verified = verify("image/webp", &upload).unwrap();
    assert_eq!((verified.width, verified.height), (Some(48), Some(64)));
    assert_eq!(verified.served_content_type.as_deref(), Some("image/webp"));
    let served = verified.served.unwrap();
    assert!(!served.windows(4).any(|w| w == b"EXIF"));
    assert_eq!(gps_latitude(&served), None);
    // Lossless: the served pixels are the upload's, turned.
    assert_eq!(decode(&served).to_rgb8(), image.rotate90().to_rgb8());
}

#[test]
fn gif_comments_and_xmp_are_cut_out_and_the_rest_kept() {
    let gif = encode(&DynamicImage::ImageRgb8(picture(40, 30)), ImageFormat::Gif);
    assert_eq!(verify("image/gif", &gif).unwrap().served, None);

    let mut upload = gif[..gif.len() - 1].to_vec();
    upload.extend_from_slice(b"\x21\xFE\x0Fshot at my home\x00");
    upload.extend_from_slice(b"\x21\xFF\x0BXMP DataXMP");
    upload.extend_from_slice(b"\x18<exif:GPSLatitude>48,51N\x00");
    upload.push(0x3B);
    upload.extend_from_slice(b"trailing bytes");
    let verified = verify("image/gif", &upload).unwrap();
    assert_eq!(verified.served_content_type.as_deref(), Some("image/gif"));
    assert_eq!(verified.served.as_deref(), Some(gif.as_slice()));
    assert_eq!((verified.width, verified.height), (Some(40), Some(30)));
}

#[test]
fn heic_is_measured_and_its_exif_item_zeroed_in_place() {
    let upload = fixture("photo-gps.heic");
    assert_eq!(gps_latitude(&upload).as_deref(), Some("48 deg 51 min 30.24 sec"));

    let verified = verify("image/heic", &upload).unwrap();
    assert_eq!(verified.content_type, "image/heic");
    assert_eq!((verified.width, verified.height), (Some(64), Some(48)));
    assert_eq!(verified.thumbnail, None);
    assert_eq!(verified.served_content_type.as_deref(), Some("image/heic"));
    let served = verified.served.unwrap();
    assert_eq!(gps_latitude(&served), None);
    // Same length, and only the EXIF payload differs: every offset in the file still holds.
    assert_eq!(served.len(), upload.len());
    let changed: Vec<usize> = (0..upload.len()).filter(|&i| upload[i] != served[i]).collect();
    let (first, last) = (changed[0], *changed.last().unwrap());
    assert!(last - first < 250, "changed {first}..={last}");
    assert!(served[first..=last].iter().all(|&b| b == 0));
    assert!(upload[first..=last].windows(6).any(|w| w == b"Confer"), "the changed range is the EXIF block");
    // Also accepted as image/heif; a damaged file is corrupt.
    assert!(verify("image/heif", &upload).is_ok());
    assert_eq!(code(verify("image/heic", &upload[..upload.len() / 2])), "corrupt");
}

// ---------------------------------------------------------------------------------------------
// Audio.

#[test]
fn voice_recordings_report_their_true_duration() {
    let truth = wav_duration_ms(&fixture("voice.wav"));
    assert!((2000..3000).contains(&truth), "{truth} ms");
    for (file, declared, content_type) in [
        ("voice.wav", "audio/wav", "audio/wav"),
        ("voice-mediarecorder.webm", "audio/webm;codecs=opus", "audio/webm"),
        ("voice.webm", "audio/webm", "audio/webm"),
        ("voice.ogg", "audio/ogg; codecs=opus", "audio/ogg"),
        ("voice.m4a", "audio/x-m4a", "audio/mp4"),
        ("voice.m4a", "audio/mp4", "audio/mp4"),
        ("voice-fragmented.mp4", "audio/mp4", "audio/mp4"),
        ("voice.aac", "audio/aac", "audio/aac"),
        ("voice.mp3", "audio/mpeg", "audio/mpeg"),
    ] {
        let verified = verify(declared, &fixture(file)).unwrap_or_else(|r| panic!("{file}: {r}"));
        assert_eq!(verified.kind, MediaKind::Audio);
        assert_eq!(verified.content_type, content_type, "{file}");
        let duration = verified.duration_ms.unwrap();
        assert!(duration.abs_diff(truth) <= 100, "{file}: {duration} ms, the recording is {truth} ms");
        assert_eq!((verified.width, verified.thumbnail, verified.served), (None, None, None));
    }
}

#[test]
fn webm_declared_as_video_is_accepted_as_audio() {
    let verified = verify("video/webm;codecs=opus", &fixture("voice-mediarecorder.webm")).unwrap();
    assert_eq!((verified.kind, verified.content_type.as_str()), (MediaKind::Audio, "audio/webm"));
}

#[test]
fn audio_of_another_format_or_damaged_is_refused() {
    let ogg = fixture("voice.ogg");
    assert_eq!(code(verify("audio/webm", &ogg)), "type_mismatch");
    assert_eq!(code(verify("audio/mpeg", &fixture("voice.wav"))), "type_mismatch");
    assert_eq!(code(verify("audio/wav", &fixture("voice.m4a"))), "type_mismatch");
    // The right signature, then nothing readable.
    let mut broken = ogg[..40].to_vec();
    broken.extend_from_slice(&[0x5A; 400]);
    assert_eq!(code(verify("audio/ogg", &broken)), "corrupt");
    let mut broken_wav = b"RIFF\x24\0\0\0WAVEjunk".to_vec();
    broken_wav.resize(200, 0x11);
    assert_eq!(code(verify("audio/wav", &broken_wav)), "corrupt");
}

// ---------------------------------------------------------------------------------------------
// Files.

#[test]
fn pdf_is_accepted_and_a_truncated_one_is_corrupt() {
    let pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    let verified = verify("application/pdf", pdf).unwrap();
    assert_eq!((verified.kind, verified.content_type.as_str()), (MediaKind::File, "application/pdf"));
    assert_eq!((verified.served, verified.thumbnail), (None, None));
    assert_eq!(code(verify("application/pdf", &pdf[..60])), "corrupt");
    assert_eq!(code(verify("application/pdf", b"just some text, no PDF")), "type_mismatch");
}

#[test]
fn text_and_csv_must_be_utf8_without_nul() {
    let verified = verify("text/plain", "Grüße — 你好\nline two\n".as_bytes()).unwrap();
    assert_eq!(verified.content_type, "text/plain; charset=utf-8");
    let verified = verify("text/csv", b"name,email\nAda,ada@example.com\n").unwrap();
    assert_eq!(verified.content_type, "text/csv; charset=utf-8");
    assert!(verify("text/plain", b"#!/bin/sh\necho hello\n").is_ok());

    assert_eq!(code(verify("text/plain", b"hello\0world")), "type_mismatch");
    assert_eq!(code(verify("text/csv", b"a,b\n\0\0\0\0")), "type_mismatch");
    assert_eq!(code(verify("text/plain", b"caf\xE9 in Latin-1")), "type_mismatch");
    // Markup a browser would render is not plain text.
    assert_eq!(code(verify("text/plain", b"<html><script>alert(1)</script></html>")), "type_mismatch");
    assert_eq!(code(verify("text/plain", b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>")), "type_mismatch");
}

#[test]
fn zip_and_office_documents_are_told_apart_by_their_directory() {
    let plain_zip = zip(&[("notes.txt", b"hello"), ("photo.jpg", b"\xFF\xD8\xFF")]);
    let document = docx(&[]);
    let spreadsheet = zip(&[("[Content_Types].xml", CONTENT_TYPES), ("xl/workbook.xml", b"<workbook/>")]);
    let presentation = zip(&[("[Content_Types].xml", CONTENT_TYPES), ("ppt/presentation.xml", b"<p/>")]);
    const DOCX: &str = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
    const PPTX: &str = "application/vnd.openxmlformats-officedocument.presentationml.presentation";

    assert_eq!(verify("application/zip", &plain_zip).unwrap().content_type, "application/zip");
    assert_eq!(verify("application/x-zip-compressed", &plain_zip).unwrap().content_type, "application/zip");
    assert_eq!(verify(DOCX, &document).unwrap().content_type, DOCX);
    assert_eq!(verify(XLSX, &spreadsheet).unwrap().content_type, XLSX);
    assert_eq!(verify(PPTX, &presentation).unwrap().content_type, PPTX);
    // An Office document is a ZIP too.
    assert_eq!(verify("application/zip", &document).unwrap().content_type, "application/zip");

    assert_eq!(code(verify(DOCX, &plain_zip)), "type_mismatch");
    assert_eq!(code(verify(XLSX, &document)), "type_mismatch");
    assert_eq!(code(verify(DOCX, &spreadsheet)), "type_mismatch");
    // Macros are refused in a document (they may travel in a plain ZIP).
    let with_macros = docx(&[("word/vbaProject.bin", b"\xD0\xCF\x11\xE0")]);
    assert_eq!(code(verify(DOCX, &with_macros)), "type_mismatch");
    assert!(verify("application/zip", &with_macros).is_ok());
    // A ZIP cut short has no directory.
    assert_eq!(code(verify("application/zip", &plain_zip[..plain_zip.len() - 30])), "corrupt");
}

#[test]
fn legacy_office_documents_are_told_apart_by_their_main_stream() {
    assert_eq!(verify("application/msword", &ole("/WordDocument")).unwrap().content_type, "application/msword");
    assert_eq!(verify("application/vnd.ms-excel", &ole("/Workbook")).unwrap().content_type, "application/vnd.ms-excel");
    assert_eq!(
        verify("application/vnd.ms-powerpoint", &ole("/PowerPoint Document")).unwrap().content_type,
        "application/vnd.ms-powerpoint"
    );
    assert_eq!(code(verify("application/vnd.ms-excel", &ole("/WordDocument"))), "type_mismatch");
    // Another compound file (an installer package, say) is none of them.
    assert_eq!(code(verify("application/msword", &ole("/SummaryInformation"))), "type_mismatch");
}

// ---------------------------------------------------------------------------------------------
// Damaged input of every kind.

#[test]
fn damaged_uploads_are_refused_or_verified_never_a_panic() {
    let picture = DynamicImage::ImageRgb8(picture(96, 64));
    let samples: Vec<(&str, Vec<u8>)> = vec![
        ("image/jpeg", with_exif(&encode(&picture, ImageFormat::Jpeg), 6)),
        ("image/png", encode(&picture, ImageFormat::Png)),
        ("image/webp", encode(&picture, ImageFormat::WebP)),
        ("image/gif", encode(&picture, ImageFormat::Gif)),
        ("image/heic", fixture("photo-gps.heic")),
        ("audio/webm", fixture("voice-mediarecorder.webm")),
        ("audio/ogg", fixture("voice.ogg")),
        ("audio/mp4", fixture("voice.m4a")),
        ("audio/aac", fixture("voice.aac")),
        ("audio/mpeg", fixture("voice.mp3")),
        ("audio/wav", fixture("voice.wav")),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", docx(&[])),
        ("application/msword", ole("/WordDocument")),
    ];
    let known = ["type_mismatch", "corrupt", "too_many_pixels"];
    // A fixed pseudo-random sequence, so that a failure repeats.
    let mut state = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move |bound: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound as u64) as usize
    };
    for (declared, original) in &samples {
        for round in 0..60 {
            let mut bytes = original.clone();
            if round % 3 == 0 {
                bytes.truncate(1 + next(bytes.len() - 1));
            } else {
                for _ in 0..1 + next(8) {
                    let at = next(bytes.len());
                    bytes[at] = next(256) as u8;
                }
            }
            if let Err(rejection) = verify(declared, &bytes) {
                assert!(known.contains(&rejection.code), "{declared}: {rejection}");
            }
        }
    }
}

#[test]
fn announcement_videos_are_read_for_their_size_and_length() {
    for (declared, file, served) in
        [("video/mp4", "video.mp4", "video/mp4"), ("video/quicktime", "video.mp4", "video/mp4"), ("video/webm", "video.webm", "video/webm")]
    {
        let v = verify_announcement_media(declared, &fixture(file)).unwrap_or_else(|r| panic!("{file}: {r}"));
        assert_eq!(v.kind, AnnouncementMediaKind::Video, "{file}");
        assert_eq!(v.content_type, served, "{file}");
        assert_eq!((v.width, v.height), (Some(160), Some(120)), "{file}");
        let ms = v.duration_ms.unwrap();
        assert!((1_800..=2_200).contains(&ms), "{file}: {ms} ms for a 2-second video");
    }
}

#[test]
fn announcement_audio_is_checked_as_chat_audio_is() {
    let v = verify_announcement_media("audio/ogg", &fixture("voice.ogg")).unwrap();
    assert_eq!((v.kind, v.content_type.as_str(), v.width), (AnnouncementMediaKind::Audio, "audio/ogg", None));
    assert!(v.duration_ms.unwrap() > 1_000);
}

#[test]
fn announcement_media_refusals_have_the_chat_codes() {
    let code = |declared: &str, bytes: &[u8]| verify_announcement_media(declared, bytes).unwrap_err().code;
    assert_eq!(code("application/pdf", b"%PDF-1.4"), Rejection::TYPE_NOT_ALLOWED);
    assert_eq!(code("image/png", &fixture("photo-gps.heic")), Rejection::TYPE_NOT_ALLOWED);
    assert_eq!(code("video/mp4", b""), Rejection::EMPTY);
    // Sound alone is not a video, and a WebM declared as MP4 is refused.
    assert_eq!(code("video/mp4", &fixture("voice.m4a")), Rejection::TYPE_MISMATCH);
    assert_eq!(code("video/mp4", &fixture("video.webm")), Rejection::TYPE_MISMATCH);
    assert_eq!(code("video/webm", &fixture("voice.webm")), Rejection::TYPE_MISMATCH);
    // A video cut in half: its header promises what is not there.
    let mut cut = fixture("video.mp4");
    cut.truncate(cut.len() / 3);
    assert!(verify_announcement_media("video/mp4", &cut).is_err());
    assert_eq!(code("video/mp4", b"not a video at all, only words"), Rejection::TYPE_MISMATCH);
    assert_eq!(announcement_kind_of_declared("VIDEO/MP4; codecs=avc1").unwrap().0, AnnouncementMediaKind::Video);
}

#[test]
fn the_text_of_plain_text_csv_and_pdf_files_is_kept_for_search() {
    let verified = verify("text/plain", b"Order 4471\n\n  was   shipped\ttoday").unwrap();
    assert_eq!(verified.text.as_deref(), Some("Order 4471 was shipped today"));
    let csv = verify("text/csv", b"sku,name\nA1,Blue kettle\n").unwrap();
    assert_eq!(csv.text.as_deref(), Some("sku,name A1,Blue kettle"));
    let long = "word ".repeat(super::MAX_FILE_TEXT_CHARS);
    let kept = verify("text/plain", long.as_bytes()).unwrap().text.unwrap();
    assert!(kept.chars().count() <= super::MAX_FILE_TEXT_CHARS && kept.ends_with("word"), "cut at a word");
    assert_eq!(verify("text/plain", b"   \n ").unwrap().text, None);

    let pdf = verify("application/pdf", include_bytes!("../../../tests/fixtures/media/warranty.pdf")).unwrap();
    let text = pdf.text.expect("the PDF's text layer");
    assert!(text.contains("Warranty claim for the blue kettle"), "{text}");
    // A PDF without a text layer is kept, without text.
    let empty = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n";
    assert_eq!(verify("application/pdf", empty).unwrap().text, None);
    // Images, audio and other files carry none.
    assert_eq!(verify("application/zip", &zip(&[("a.txt", b"hello")])).map(|v| v.text).unwrap_or(None), None);
}
