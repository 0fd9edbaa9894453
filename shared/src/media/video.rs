//! Video for announcements: MP4 (and QuickTime) or WebM, read with symphonia's demuxers (nothing
//! is decoded) to prove the container holds a video track and to learn its size and length.

use std::io::Cursor;

use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::Timestamp;

use super::allow::{Format, Sniffed};
use super::Rejection;

/// What a video's container says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoInfo {
    /// `video/mp4` or `video/webm`.
    pub content_type: &'static str,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub duration_ms: u64,
}

pub(super) fn verify(real: Sniffed, bytes: &[u8]) -> Result<VideoInfo, Rejection> {
    let content_type = match real {
        Sniffed::Format(Format::Mp4) => "video/mp4",
        Sniffed::Format(Format::Webm) => "video/webm",
        _ => return Err(Rejection::mismatch("not an MP4 or WebM video")),
    };
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(&Hint::new(), source, FormatOptions::default(), MetadataOptions::default())
        .map_err(|_| Rejection::corrupt("the video container cannot be read"))?;
    let video = reader
        .tracks()
        .iter()
        .find_map(|t| match &t.codec_params {
            Some(CodecParameters::Video(v)) => Some((t.id, v.width, v.height, t.time_base, t.duration)),
            _ => None,
        })
        .ok_or_else(|| Rejection::mismatch("the file holds no video track"))?;
    let (track_id, width, height, time_base, header) = video;
    let time_base = time_base.ok_or_else(|| Rejection::corrupt("the video track has no time base"))?;
    let (width, height) = (width.map(u32::from), height.map(u32::from));
    let header_ms = header.and_then(|d| time_base.calc_duration(d)).map(|t| t.as_millis()).filter(|ms| *ms > 0);
    // The video track's packets are read to the end, never decoded (each is at least a byte,
    // which bounds the loop): a file cut short is refused, and a header without a length (a
    // browser's MediaRecorder writes none) gets the packets' span.
    let (mut first, mut end, mut packets): (Option<i128>, i128, usize) = (None, 0, 0);
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof && packets > 0 => break,
            Err(_) => return Err(Rejection::corrupt("the video stream is damaged")),
        };
        packets += 1;
        if packets > bytes.len() {
            return Err(Rejection::corrupt("the video stream is damaged"));
        }
        if packet.track_id != track_id {
            continue;
        }
        let at = |ts: i64| time_base.calc_time(Timestamp::new(ts)).map(|t| t.as_nanos());
        let start = at(packet.pts.get()).ok_or_else(|| Rejection::corrupt("the video's timestamps are out of range"))?;
        let length = if packet.dur.get() > 0 { time_base.calc_duration(packet.dur).map_or(0, |t| t.as_nanos()) } else { 0 };
        first = Some(first.map_or(start, |f: i128| f.min(start)));
        end = end.max(start + length);
    }
    let first = first.ok_or_else(|| Rejection::corrupt("the video track holds no frames"))?;
    let span_ms = (end - first).max(0) / 1_000_000;
    let duration_ms = match header_ms {
        // Packets may stop short of the stated length by a frame or so, never by more.
        Some(stated) if span_ms + 1_000 < stated => {
            return Err(Rejection::corrupt(format!("the video is cut short: {span_ms} ms of the {stated} ms its header states")))
        }
        Some(stated) => stated,
        None => span_ms,
    };
    let duration_ms = u64::try_from(duration_ms).map_err(|_| Rejection::corrupt("the video's length is out of range"))?;
    Ok(VideoInfo { content_type, width, height, duration_ms })
}
