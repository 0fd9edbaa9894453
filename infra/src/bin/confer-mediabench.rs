//! Media verification benchmark: `confer::media::verify` on JPEG photos of 0.1 to 48 megapixels
//! (made here: gradients, shapes and sensor-like noise, so they compress like photographs), on
//! PNG screenshots, a WebP photo and the HEIC fixture, and on the audio fixtures. Prints, per case, the median time of `--runs` calls and the peak of heap
//! memory held during one call above what was held before it (counted by a wrapper around the
//! allocator, so it is the call's own memory, not the process's).
//!
//! ```text
//! cargo build --profile server -p confer-local --bin confer-mediabench
//! target/server/confer-mediabench --runs 5 [--breakdown]
//! ```

use std::alloc::{GlobalAlloc, Layout};
use std::io::Cursor;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use confer::media::{verify, Verified};
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ExtendedColorType, ImageEncoder, ImageFormat, RgbImage};

/// mimalloc (what confer-local runs on), counting the bytes held and their high-water mark.
struct Counting;

static HELD: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { mimalloc::MiMalloc.alloc(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) };
        if !ptr.is_null() {
            grew(layout.size());
        }
        ptr
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) };
        HELD.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            HELD.fetch_sub(layout.size(), Ordering::Relaxed);
            grew(new_size);
        }
        new
    }
}

fn grew(size: usize) {
    let held = HELD.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(held, Ordering::Relaxed);
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Parser, Debug)]
#[command(name = "confer-mediabench", about = "Times media verification and measures its memory")]
struct Args {
    /// Calls per case; the median is reported.
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Largest photo to measure, in megapixels (the cases are 0.1, 1, 12 and 48).
    #[arg(long, default_value_t = 48.0)]
    max_megapixels: f64,
    /// Also time the steps of verifying the largest photo apart: decode, thumbnail, re-encode.
    #[arg(long)]
    breakdown: bool,
    /// Directory of the audio fixtures.
    #[arg(long, default_value = "tests/fixtures/media")]
    fixtures: PathBuf,
}

struct Measured {
    median: Duration,
    min: Duration,
    max: Duration,
    peak_bytes: usize,
    verified: Verified,
}

fn measure(runs: usize, declared: &str, bytes: &[u8]) -> Measured {
    let (mut times, mut peak_bytes, mut verified) = (Vec::new(), 0, None);
    for _ in 0..runs.max(1) {
        let before = HELD.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let started = Instant::now();
        let result = verify(declared, bytes);
        times.push(started.elapsed());
        peak_bytes = peak_bytes.max(PEAK.load(Ordering::Relaxed).saturating_sub(before));
        verified = Some(result.unwrap_or_else(|r| panic!("{declared}: {r}")));
    }
    times.sort();
    Measured { median: times[times.len() / 2], min: times[0], max: times[times.len() - 1], peak_bytes, verified: verified.unwrap() }
}

/// A photograph-like picture: a sky-to-ground gradient, soft shapes, fine texture and noise.
fn photo(width: u32, height: u32) -> RgbImage {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    RgbImage::from_fn(width, height, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed % 17) as f32 - 8.0;
        let (u, v) = (x as f32 / width as f32, y as f32 / height as f32);
        let sun = (-((u - 0.7).powi(2) + (v - 0.3).powi(2)) * 40.0).exp() * 120.0;
        let hills = if v > 0.55 + 0.08 * (u * 9.0).sin() { 1.0 } else { 0.0 };
        let texture = ((x as f32 * 0.31).sin() * (y as f32 * 0.17).cos()) * 14.0 * hills;
        let r = 90.0 + 100.0 * v + sun - 40.0 * hills + texture + noise;
        let g = 140.0 + 40.0 * v + sun * 0.8 + 30.0 * hills + texture + noise;
        let b = 230.0 - 120.0 * v + sun * 0.3 - 110.0 * hills + noise;
        image::Rgb([r.clamp(0.0, 255.0) as u8, g.clamp(0.0, 255.0) as u8, b.clamp(0.0, 255.0) as u8])
    })
}

/// The steps of a JPEG's verification, timed apart with the same library calls (printed before
/// the table row of the photo).
fn breakdown(jpeg: &[u8]) {
    let started = Instant::now();
    let pixels = image::load_from_memory(jpeg).expect("decode");
    let decode = started.elapsed();
    let started = Instant::now();
    let _thumbnail = pixels.thumbnail_exact(640, 480).resize_exact(320, 240, image::imageops::FilterType::Lanczos3);
    let thumbnail = started.elapsed();
    let started = Instant::now();
    let mut out = Vec::with_capacity(jpeg.len());
    JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(pixels.as_bytes(), pixels.width(), pixels.height(), pixels.color().into())
        .expect("encode");
    let encode = started.elapsed();
    eprintln!("48 MP steps: decode {}, thumbnail {}, re-encode at quality 90 {}", ms(decode), ms(thumbnail), ms(encode));
}

/// A screen-like picture: flat panels, borders and rows of "text" strokes.
fn screenshot(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| {
        let sidebar = x < width / 5;
        let header = y < height / 12;
        let base = if header {
            [32, 90, 200]
        } else if sidebar {
            [242, 242, 247]
        } else {
            [255, 255, 255]
        };
        let line = (y % 28) < 12 && (x / 9) % 13 != 0 && (x * 7 + y * 3) % 29 < 17;
        let in_text = !header && x % (width / 5) > 24 && (y / 28) % 9 != 0;
        if line && in_text {
            image::Rgb([40, 40, 48])
        } else if x == width / 5 || y == height / 12 {
            image::Rgb([200, 200, 205])
        } else {
            image::Rgb(base)
        }
    })
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    image.write_to(&mut Cursor::new(&mut out), format).expect("encode the picture");
    out
}

/// `jpeg` with an APP1 EXIF segment holding one tag: the orientation.
fn with_orientation(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    let mut tiff = b"MM\0\x2A\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01".to_vec();
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn size(bytes: usize) -> String {
    if bytes < 1024 * 1024 {
        format!("{} KiB", bytes.div_ceil(1024))
    } else {
        format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
    }
}

fn ms(d: Duration) -> String {
    if d < Duration::from_millis(1) {
        format!("{} µs", d.as_micros())
    } else {
        format!("{:.1} ms", d.as_secs_f64() * 1000.0)
    }
}

/// The process's peak resident memory (Linux), for reference.
fn peak_rss() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status.lines().find(|l| l.starts_with("VmHWM:")).map(|l| l["VmHWM:".len()..].trim().to_string())
}

fn main() {
    let args = Args::parse();
    println!("Images: verify() on a JPEG photo (quality 90), median of {} runs", args.runs);
    println!();
    println!("| Photo | Pixels | JPEG | verify() median (min–max) | Peak heap during verify() | Served copy | Thumbnail |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let cases: [(&str, u32, u32, u16); 5] = [
        ("0.1 MP", 368, 276, 1),
        ("1 MP", 1152, 864, 1),
        ("12 MP", 4032, 3024, 1),
        ("48 MP", 8064, 6048, 1),
        ("48 MP, EXIF orientation 6 (a portrait phone photo)", 8064, 6048, 6),
    ];
    for (name, width, height, orientation) in cases {
        if f64::from(width) * f64::from(height) / 1e6 > args.max_megapixels * 1.05 {
            continue;
        }
        let pixels = photo(width, height);
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(Cursor::new(&mut jpeg), 90)
            .write_image(pixels.as_raw(), width, height, ExtendedColorType::Rgb8)
            .expect("encode the photo");
        drop(pixels);
        let jpeg = if orientation == 1 { jpeg } else { with_orientation(&jpeg, orientation) };
        let m = measure(args.runs, "image/jpeg", &jpeg);
        if args.breakdown && orientation == 1 && width == 8064 {
            breakdown(&jpeg);
        }
        let v = &m.verified;
        println!(
            "| {name} | {}×{} | {} | {} ({}–{}) | {} | {} | {} |",
            width,
            height,
            size(jpeg.len()),
            ms(m.median),
            ms(m.min),
            ms(m.max),
            size(m.peak_bytes),
            size(v.served.as_ref().map_or(0, Vec::len)),
            size(v.thumbnail.as_ref().map_or(0, Vec::len)),
        );
    }

    println!();
    println!("Other images: verify(), median of {} runs", args.runs);
    println!();
    println!("| Upload | Pixels | Size | verify() median (min–max) | Peak heap during verify() | Served copy | Thumbnail |");
    println!("| --- | --- | --- | --- | --- | --- | --- |");
    let others: [(&str, &str, u32, u32); 4] = [
        ("PNG screenshot (re-encoded as PNG)", "image/png", 2560, 1440),
        ("PNG screenshot (re-encoded as PNG)", "image/png", 3840, 2160),
        ("WebP photo without metadata (served as is)", "image/webp", 4032, 3024),
        ("HEIC photo (fixture; read, not decoded)", "image/heic", 0, 0),
    ];
    for (name, declared, width, height) in others {
        if f64::from(width) * f64::from(height) / 1e6 > args.max_megapixels * 1.05 {
            continue;
        }
        let bytes = match declared {
            "image/png" => encode(&DynamicImage::ImageRgb8(screenshot(width, height)), ImageFormat::Png),
            "image/webp" => encode(&DynamicImage::ImageRgb8(photo(width, height)), ImageFormat::WebP),
            _ => std::fs::read(args.fixtures.join("photo-gps.heic")).expect("the HEIC fixture"),
        };
        let m = measure(args.runs, declared, &bytes);
        let v = &m.verified;
        println!(
            "| {name} | {}×{} | {} | {} ({}–{}) | {} | {} | {} |",
            v.width.unwrap_or(0),
            v.height.unwrap_or(0),
            size(bytes.len()),
            ms(m.median),
            ms(m.min),
            ms(m.max),
            size(m.peak_bytes),
            v.served.as_ref().map_or("none".to_string(), |s| size(s.len())),
            v.thumbnail.as_ref().map_or("none".to_string(), |t| size(t.len())),
        );
    }

    println!();
    println!("Audio: verify() on each voice-message fixture ({}), median of {} runs", args.fixtures.display(), args.runs.max(20));
    println!();
    println!("| Fixture | Declared as | Size | Duration found | verify() median (min–max) | Peak heap during verify() |");
    println!("| --- | --- | --- | --- | --- | --- |");
    for (file, declared) in [
        ("voice-mediarecorder.webm", "audio/webm"),
        ("voice.webm", "audio/webm"),
        ("voice.ogg", "audio/ogg"),
        ("voice.m4a", "audio/mp4"),
        ("voice-fragmented.mp4", "audio/mp4"),
        ("voice.aac", "audio/aac"),
        ("voice.mp3", "audio/mpeg"),
        ("voice.wav", "audio/wav"),
    ] {
        let path = args.fixtures.join(file);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let m = measure(args.runs.max(20), declared, &bytes);
        println!(
            "| {file} | {declared} | {} | {} ms | {} ({}–{}) | {} |",
            size(bytes.len()),
            m.verified.duration_ms.unwrap_or(0),
            ms(m.median),
            ms(m.min),
            ms(m.max),
            size(m.peak_bytes),
        );
    }
    if let Some(rss) = peak_rss() {
        println!();
        println!("Process peak resident memory (VmHWM, including the photos made here): {rss}");
    }
}
