//! Files: PDF, plain text and CSV, Office documents (OOXML and legacy OLE), ZIP.
//!
//! Served as uploaded: their content is not rewritten, only checked to be what was declared.

use std::io::Cursor;

use super::allow::{Format, Sniffed};
use super::{MediaKind, Rejection, Verified};

/// First bytes of an OLE compound file (legacy .doc, .xls, .ppt — and .msi, which is refused).
pub(crate) const OLE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// How far from its end a PDF's `%%EOF` marker may be (readers look in the last 1024 bytes).
const PDF_EOF_WINDOW: usize = 1024;

pub(super) fn verify(declared: Format, real: Sniffed, bytes: &[u8]) -> Result<Verified, Rejection> {
    match declared {
        Format::Text | Format::Csv => check_text(bytes)?,
        Format::Pdf => check_pdf(bytes)?,
        Format::Zip | Format::Docx | Format::Xlsx | Format::Pptx => check_zip(declared, bytes)?,
        // The OLE directory was read when the type was: `real` is the declared application's.
        Format::Doc | Format::Xls | Format::Ppt => debug_assert_eq!(real, Sniffed::Format(declared)),
        other => return Err(Rejection::mismatch(format!("{} is not a file type", other.content_type()))),
    }
    Ok(Verified {
        kind: MediaKind::File,
        content_type: declared.content_type().to_string(),
        width: None,
        height: None,
        duration_ms: None,
        thumbnail: None,
        served: None,
        served_content_type: None,
        text: match declared {
            Format::Text | Format::Csv => std::str::from_utf8(bytes).ok().and_then(searchable),
            Format::Pdf => pdf_text(bytes),
            _ => None,
        },
    })
}

/// Text as search keeps it: whitespace runs folded to one space, at most
/// [`MAX_FILE_TEXT_CHARS`](super::MAX_FILE_TEXT_CHARS) characters; `None` when there is none.
fn searchable(text: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = 0;
    for word in text.split_whitespace() {
        let n = word.chars().count() + usize::from(!out.is_empty());
        if chars + n > super::MAX_FILE_TEXT_CHARS {
            break;
        }
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
        chars += n;
    }
    (!out.is_empty()).then_some(out)
}

/// PDFs larger than this are kept without their text (extraction time grows with size).
pub const MAX_PDF_TEXT_BYTES: usize = 20 * 1024 * 1024;

/// The text layer of a PDF, if it has one and it can be read. A PDF whose text cannot be read
/// (scanned pages, an unusual font encoding, encryption) is still a valid file: it is kept and
/// found by its name.
fn pdf_text(bytes: &[u8]) -> Option<String> {
    if bytes.len() > MAX_PDF_TEXT_BYTES {
        return None;
    }
    // The extractor is not hardened against every malformed file: a panic costs only the text.
    let extracted = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(bytes)).ok()?.ok()?;
    searchable(&extracted)
}

/// Text and CSV have no signature: they must be UTF-8 and hold no NUL byte (which no text has and
/// nearly every binary format does). Markup that browsers would render (HTML, XML, SVG) was
/// already refused by its signature.
fn check_text(bytes: &[u8]) -> Result<(), Rejection> {
    if bytes.contains(&0) {
        return Err(Rejection::mismatch("the bytes hold NUL characters: binary data, not text"));
    }
    if std::str::from_utf8(bytes).is_err() {
        return Err(Rejection::mismatch("text must be UTF-8"));
    }
    Ok(())
}

fn check_pdf(bytes: &[u8]) -> Result<(), Rejection> {
    let tail = &bytes[bytes.len().saturating_sub(PDF_EOF_WINDOW)..];
    if !tail.windows(5).any(|w| w == b"%%EOF") {
        return Err(Rejection::corrupt("the PDF has no end-of-file marker: truncated or damaged"));
    }
    Ok(())
}

fn check_zip(declared: Format, bytes: &[u8]) -> Result<(), Rejection> {
    let names = zip_entry_names(bytes).map_err(|why| Rejection::corrupt(format!("the ZIP archive is damaged: {why}")))?;
    if declared != Format::Zip && names.iter().any(|name| name.ends_with(b"vbaProject.bin")) {
        return Err(Rejection::mismatch("the document holds macros; macro-enabled documents are not accepted"));
    }
    Ok(())
}

/// A ZIP's format: an OOXML document when it has the package's content-type part and the part
/// folder of Word, Excel or PowerPoint, else a plain ZIP (also when its directory cannot be read;
/// verification then refuses it as damaged).
pub(crate) fn zip_format(bytes: &[u8]) -> Format {
    let Ok(names) = zip_entry_names(bytes) else {
        return Format::Zip;
    };
    if !names.iter().any(|name| *name == b"[Content_Types].xml") {
        return Format::Zip;
    }
    let has_folder = |folder: &[u8]| names.iter().any(|name| name.starts_with(folder));
    if has_folder(b"word/") {
        Format::Docx
    } else if has_folder(b"xl/") {
        Format::Xlsx
    } else if has_folder(b"ppt/") {
        Format::Pptx
    } else {
        Format::Zip
    }
}

/// The names in a ZIP's central directory (ZIP64 records included).
fn zip_entry_names(bytes: &[u8]) -> Result<Vec<&[u8]>, &'static str> {
    const EOCD: &[u8] = b"PK\x05\x06";
    const EOCD_LEN: usize = 22;
    if bytes.len() < EOCD_LEN {
        return Err("too short");
    }
    // The end-of-central-directory record ends the file, followed by a comment of at most 64 KiB.
    let earliest = bytes.len().saturating_sub(EOCD_LEN + usize::from(u16::MAX));
    let eocd = (earliest..=bytes.len() - EOCD_LEN).rev().find(|&at| &bytes[at..at + 4] == EOCD).ok_or("no end of central directory")?;
    let mut entries = u64::from(le16(bytes, eocd + 10)?);
    let mut offset = u64::from(le32(bytes, eocd + 16)?);
    if entries == u64::from(u16::MAX) || offset == u64::from(u32::MAX) {
        // ZIP64: a locator just before the record points at the 64-bit record.
        let locator = eocd.checked_sub(20).ok_or("no ZIP64 locator")?;
        if bytes.get(locator..locator + 4) != Some(b"PK\x06\x07") {
            return Err("no ZIP64 locator");
        }
        let record = usize::try_from(le64(bytes, locator + 8)?).map_err(|_| "bad ZIP64 record offset")?;
        if bytes.get(record..record + 4) != Some(b"PK\x06\x06") {
            return Err("no ZIP64 record");
        }
        entries = le64(bytes, record + 32)?;
        offset = le64(bytes, record + 48)?;
    }
    // Each entry takes at least 46 bytes, which bounds a forged count.
    if entries > (bytes.len() / 46) as u64 {
        return Err("more entries than the file can hold");
    }
    let mut at = usize::try_from(offset).map_err(|_| "bad directory offset")?;
    let mut names = Vec::with_capacity(entries as usize);
    for _ in 0..entries {
        if bytes.get(at..at + 4) != Some(b"PK\x01\x02") {
            return Err("bad central directory entry");
        }
        let name_len = usize::from(le16(bytes, at + 28)?);
        let extra_len = usize::from(le16(bytes, at + 30)?);
        let comment_len = usize::from(le16(bytes, at + 32)?);
        let name = bytes.get(at + 46..at + 46 + name_len).ok_or("entry name past the end")?;
        names.push(name);
        at += 46 + name_len + extra_len + comment_len;
    }
    Ok(names)
}

fn le16(bytes: &[u8], at: usize) -> Result<u16, &'static str> {
    bytes.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]])).ok_or("record past the end")
}
fn le32(bytes: &[u8], at: usize) -> Result<u32, &'static str> {
    bytes.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok_or("record past the end")
}
fn le64(bytes: &[u8], at: usize) -> Result<u64, &'static str> {
    let b = bytes.get(at..at + 8).ok_or("record past the end")?;
    Ok(u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]))
}

/// A legacy Office document's format, by the main stream its application writes; `None` for any
/// other compound file (installer packages, for one) or a damaged one.
pub(crate) fn ole_format(bytes: &[u8]) -> Option<Format> {
    let file = cfb::CompoundFile::open(Cursor::new(bytes)).ok()?;
    if file.is_stream("/WordDocument") {
        Some(Format::Doc)
    } else if file.is_stream("/Workbook") || file.is_stream("/Book") {
        Some(Format::Xls)
    } else if file.is_stream("/PowerPoint Document") {
        Some(Format::Ppt)
    } else {
        None
    }
}
