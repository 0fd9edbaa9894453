//! HEIC/HEIF: no decoder is at hand, so the file is read as the ISO base media file it is,
//! without decoding a pixel.
//!
//! - Its size is the primary item's `ispe` property, turned by its `irot` (HEIF has no EXIF
//!   orientation: readers rotate by `irot`), and is held to the image limits.
//! - Location and other metadata live in items of their own: an `Exif` item (EXIF, GPS
//!   included) and `mime` items holding XMP. Their payloads are overwritten with zeros where
//!   they lie (the file, or the `idat` box), so that no offset in the file changes and the image
//!   decodes exactly as before; the EXIF is then an empty block no reader makes anything of.

use super::allow::Format;
use super::image::check_size;
use super::{MediaKind, Rejection, Verified};

pub(super) fn verify(bytes: &[u8]) -> Result<Verified, Rejection> {
    let file = parse(bytes).map_err(|why| Rejection::corrupt(format!("the HEIF file is damaged: {why}")))?;
    let (width, height) = file.size;
    check_size(width, height)?;
    let mut scrubbed = None;
    for range in &file.metadata {
        let copy = scrubbed.get_or_insert_with(|| bytes.to_vec());
        copy[range.clone()].fill(0);
    }
    let content_type = if file.heic_brand { "image/heic" } else { Format::Heif.content_type() };
    Ok(Verified {
        kind: MediaKind::Image,
        content_type: content_type.to_string(),
        width: Some(width),
        height: Some(height),
        duration_ms: None,
        thumbnail: None,
        served_content_type: scrubbed.as_ref().map(|_| content_type.to_string()),
        text: None,
        served: scrubbed,
    })
}

/// What verification needs from a HEIF file.
#[derive(Debug)]
pub(crate) struct HeifFile {
    /// Width and height as displayed.
    pub size: (u32, u32),
    /// Byte ranges of every metadata item's payload (EXIF, XMP).
    pub metadata: Vec<std::ops::Range<usize>>,
    heic_brand: bool,
}

type Parse<T> = Result<T, &'static str>;

/// One box: its type and its payload (after the header).
#[derive(Clone, Copy)]
struct Bx<'a> {
    kind: [u8; 4],
    body: &'a [u8],
    /// Offset of `body` in the file.
    at: usize,
}

/// The boxes laid out in `data`, which starts at file offset `at`.
fn boxes(data: &[u8], at: usize) -> Parse<Vec<Bx<'_>>> {
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos < data.len() {
        let size32 = be32(data, pos)?;
        let kind: [u8; 4] = data.get(pos + 4..pos + 8).ok_or("box header past the end")?.try_into().map_err(|_| "box header")?;
        let (header, size) = match size32 {
            0 => (8, data.len() - pos),
            1 => (16, usize::try_from(be64(data, pos + 8)?).map_err(|_| "box too large")?),
            n => (8, n as usize),
        };
        if size < header || pos.checked_add(size).is_none_or(|end| end > data.len()) {
            return Err("a box runs past its parent");
        }
        out.push(Bx { kind, body: &data[pos + header..pos + size], at: at + pos + header });
        pos += size;
    }
    Ok(out)
}

fn child<'a>(list: &[Bx<'a>], kind: &[u8; 4]) -> Option<Bx<'a>> {
    list.iter().find(|b| &b.kind == kind).copied()
}

/// A full box's version, flags and the rest of its body.
fn full(b: Bx<'_>) -> Parse<(u8, u32, &[u8], usize)> {
    let word = be32(b.body, 0)?;
    Ok(((word >> 24) as u8, word & 0x00FF_FFFF, &b.body[4..], b.at + 4))
}

pub(crate) fn parse(bytes: &[u8]) -> Parse<HeifFile> {
    let top = boxes(bytes, 0)?;
    let ftyp = child(&top, b"ftyp").ok_or("no ftyp box")?;
    let heic_brand = ftyp.body.get(..4).is_some_and(|major| major == b"heic" || major == b"heix");
    let meta = child(&top, b"meta").ok_or("no meta box")?;
    let (_, _, meta_body, meta_at) = full(meta)?;
    let meta = boxes(meta_body, meta_at)?;

    let primary = {
        let (version, _, body, _) = full(child(&meta, b"pitm").ok_or("no primary item")?)?;
        if version == 0 {
            u32::from(be16(body, 0)?)
        } else {
            be32(body, 0)?
        }
    };
    let items = item_infos(child(&meta, b"iinf").ok_or("no item list")?)?;
    let locations = item_locations(child(&meta, b"iloc").ok_or("no item locations")?)?;
    let idat = child(&meta, b"idat");

    let mut metadata = Vec::new();
    for item in items.iter().filter(|item| item.is_metadata()) {
        let Some(location) = locations.iter().find(|l| l.item == item.id) else {
            continue;
        };
        for &(offset, length) in &location.extents {
            let start = match location.method {
                0 => location.base.checked_add(offset),
                1 => {
                    let idat = idat.ok_or("an item in a missing idat box")?;
                    location.base.checked_add(offset).and_then(|o| o.checked_add(idat.at as u64))
                }
                _ => return Err("a metadata item is built from other items"),
            }
            .and_then(|start| usize::try_from(start).ok())
            .ok_or("an item offset is out of range")?;
            // A length of zero means "to the end"; metadata is never laid out that way.
            let end = usize::try_from(length).ok().and_then(|length| start.checked_add(length)).filter(|_| length > 0);
            match end {
                Some(end) if end <= bytes.len() => metadata.push(start..end),
                _ => return Err("a metadata item lies outside the file"),
            }
        }
    }

    let size = primary_size(&meta, primary)?;
    Ok(HeifFile { size, metadata, heic_brand })
}

struct ItemInfo {
    id: u32,
    kind: [u8; 4],
    /// For `mime` items.
    content_type: Vec<u8>,
}

impl ItemInfo {
    fn is_metadata(&self) -> bool {
        &self.kind == b"Exif" || (&self.kind == b"mime" && is_xmp(&self.content_type))
    }
}

fn is_xmp(content_type: &[u8]) -> bool {
    let lower = content_type.to_ascii_lowercase();
    lower.windows(3).any(|w| w == b"xmp") || lower.windows(7).any(|w| w == b"rdf+xml")
}

fn item_infos(iinf: Bx<'_>) -> Parse<Vec<ItemInfo>> {
    let (version, _, body, at) = full(iinf)?;
    let skip = if version == 0 { 2 } else { 4 };
    let mut out = Vec::new();
    for infe in boxes(body.get(skip..).ok_or("item list")?, at + skip)?.into_iter().filter(|b| &b.kind == b"infe") {
        let (version, _, body, _) = full(infe)?;
        if version < 2 {
            continue; // No item type in these versions: never EXIF.
        }
        let (id, rest) = if version == 2 { (u32::from(be16(body, 0)?), 2) } else { (be32(body, 0)?, 4) };
        let kind: [u8; 4] = body.get(rest + 2..rest + 6).ok_or("item entry")?.try_into().map_err(|_| "item entry")?;
        let mut content_type = Vec::new();
        if &kind == b"mime" {
            let strings = &body[rest + 6..];
            let name_end = strings.iter().position(|&b| b == 0).ok_or("item name")?;
            let tail = &strings[name_end + 1..];
            content_type = tail[..tail.iter().position(|&b| b == 0).unwrap_or(tail.len())].to_vec();
        }
        out.push(ItemInfo { id, kind, content_type });
    }
    Ok(out)
}

struct ItemLocation {
    item: u32,
    /// 0: offsets in the file; 1: in the `idat` box; 2: in other items.
    method: u8,
    base: u64,
    /// (offset, length) of each extent.
    extents: Vec<(u64, u64)>,
}

fn item_locations(iloc: Bx<'_>) -> Parse<Vec<ItemLocation>> {
    let (version, _, body, _) = full(iloc)?;
    if version > 2 {
        return Err("unknown iloc version");
    }
    let mut r = Reader { data: body, pos: 0 };
    let sizes = r.u16()?;
    let (offset_size, length_size, base_size) = ((sizes >> 12) as u8, ((sizes >> 8) & 0xF) as u8, ((sizes >> 4) & 0xF) as u8);
    let index_size = if version >= 1 { (sizes & 0xF) as u8 } else { 0 };
    let count = if version < 2 { u32::from(r.u16()?) } else { r.u32()? };
    let mut out = Vec::new();
    for _ in 0..count {
        let item = if version < 2 { u32::from(r.u16()?) } else { r.u32()? };
        let method = if version >= 1 { (r.u16()? & 0xF) as u8 } else { 0 };
        let _data_reference = r.u16()?;
        let base = r.sized(base_size)?;
        let extent_count = r.u16()?;
        let mut extents = Vec::with_capacity(usize::from(extent_count).min(64));
        for _ in 0..extent_count {
            if version >= 1 && index_size > 0 {
                r.sized(index_size)?;
            }
            let offset = r.sized(offset_size)?;
            let length = r.sized(length_size)?;
            extents.push((offset, length));
        }
        out.push(ItemLocation { item, method, base, extents });
    }
    Ok(out)
}

/// The primary item's displayed size: its `ispe`, swapped by a quarter-turn `irot`.
fn primary_size(meta: &[Bx<'_>], primary: u32) -> Parse<(u32, u32)> {
    let iprp = boxes(child(meta, b"iprp").ok_or("no item properties")?.body, 0)?;
    let properties = boxes(child(&iprp, b"ipco").ok_or("no item properties")?.body, 0)?;
    let (version, flags, body, _) = full(child(&iprp, b"ipma").ok_or("no property associations")?)?;
    let mut r = Reader { data: body, pos: 0 };
    let mut associated = Vec::new();
    for _ in 0..r.u32()? {
        let item = if version < 1 { u32::from(r.u16()?) } else { r.u32()? };
        let count = r.u8()?;
        for _ in 0..count {
            // Property indices count from 1 (0: none); the top bit marks an essential property.
            let index = if flags & 1 == 1 { usize::from(r.u16()? & 0x7FFF) } else { usize::from(r.u8()? & 0x7F) };
            if item == primary && index > 0 {
                associated.push(*properties.get(index - 1).ok_or("a property index past the list")?);
            }
        }
    }
    let ispe = associated.iter().find(|p| &p.kind == b"ispe").ok_or("the primary image has no size")?;
    let (_, _, body, _) = full(*ispe)?;
    let (width, height) = (be32(body, 0)?, be32(body, 4)?);
    let quarter_turn = associated.iter().find(|p| &p.kind == b"irot").and_then(|p| p.body.first()).is_some_and(|angle| angle & 1 == 1);
    Ok(if quarter_turn { (height, width) } else { (width, height) })
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Parse<&[u8]> {
        let out = self.data.get(self.pos..self.pos + n).ok_or("a record runs past its box")?;
        self.pos += n;
        Ok(out)
    }
    fn u8(&mut self) -> Parse<u8> {
        Ok(self.take(1)?[0])
    }
    fn u16(&mut self) -> Parse<u16> {
        let b = self.take(2)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
    fn u32(&mut self) -> Parse<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    /// An unsigned number of 0, 4 or 8 bytes, as `iloc` sizes its fields.
    fn sized(&mut self, size: u8) -> Parse<u64> {
        match size {
            0 => Ok(0),
            4 => self.u32().map(u64::from),
            8 => {
                let b = self.take(8)?;
                Ok(u64::from_be_bytes(b.try_into().map_err(|_| "field")?))
            }
            _ => Err("unsupported field size in iloc"),
        }
    }
}

fn be16(data: &[u8], at: usize) -> Parse<u16> {
    data.get(at..at + 2).map(|b| u16::from_be_bytes([b[0], b[1]])).ok_or("record past the end")
}
fn be32(data: &[u8], at: usize) -> Parse<u32> {
    data.get(at..at + 4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]])).ok_or("record past the end")
}
fn be64(data: &[u8], at: usize) -> Parse<u64> {
    let b = data.get(at..at + 8).ok_or("record past the end")?;
    Ok(u64::from_be_bytes(b.try_into().map_err(|_| "record")?))
}
