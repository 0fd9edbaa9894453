//! Audio: the container is read with symphonia (no audio is decoded) to prove it is one and to
//! learn the playing time.
//!
//! The duration comes from the container's header when it states one; otherwise — WebM recorded
//! by a browser's MediaRecorder has no Duration element, raw AAC (ADTS) has no header at all —
//! from the timestamps of its packets, read to the end. Opus packets that carry no duration
//! of their own (WebM blocks) are measured from their table-of-contents byte.

use std::io::Cursor;

use symphonia::core::codecs::audio::well_known::CODEC_ID_OPUS;
use symphonia::core::codecs::CodecParameters;
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, TrackType};
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::units::TimeBase;

use super::allow::{Format, Sniffed};
use super::{MediaKind, Rejection, Verified};

pub(super) fn verify(real: Sniffed, bytes: &[u8]) -> Result<Verified, Rejection> {
    let Sniffed::Format(format) = real else {
        return Err(Rejection::mismatch("not an audio file"));
    };
    // Raw AAC has no header: the reader's figure is an estimate from the first frames' sizes.
    let duration_ms = duration_ms(bytes, format != Format::Adts)?;
    Ok(Verified {
        kind: MediaKind::Audio,
        content_type: format.content_type().to_string(),
        width: None,
        height: None,
        duration_ms: Some(duration_ms),
        thumbnail: None,
        served: None,
        served_content_type: None,
        text: None,
    })
}

/// The playing time of the first audio track, in milliseconds; from the container's header only
/// when `header_is_exact`.
pub(crate) fn duration_ms(bytes: &[u8], header_is_exact: bool) -> Result<u64, Rejection> {
    let source = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut reader = symphonia::default::get_probe()
        .probe(&Hint::new(), source, FormatOptions::default(), MetadataOptions::default())
        .map_err(|_| Rejection::corrupt("the audio container cannot be read"))?;
    if reader.tracks().iter().any(|track| matches!(track.codec_params, Some(CodecParameters::Video(_)))) {
        return Err(Rejection::mismatch("the file holds video; only audio is accepted"));
    }
    let track = reader.default_track(TrackType::Audio).ok_or_else(|| Rejection::corrupt("the file holds no audio track"))?;
    let track_id = track.id;
    let time_base = track.time_base.ok_or_else(|| Rejection::corrupt("the audio track has no time base"))?;
    let (codec, sample_rate) = match &track.codec_params {
        Some(CodecParameters::Audio(params)) => (Some(params.codec), params.sample_rate),
        _ => (None, None),
    };

    // The container's own figure, when it has one.
    if header_is_exact {
        if let Some(time) = track.duration.and_then(|duration| time_base.calc_duration(duration)) {
            if time.as_millis() > 0 {
                return u64::try_from(time.as_millis()).map_err(|_| out_of_range());
            }
        }
        if let (Some(frames), Some(rate)) = (track.num_frames, sample_rate) {
            if frames > 0 && rate > 0 {
                return Ok(frames.saturating_mul(1000) / u64::from(rate));
            }
        }
    }

    // Otherwise: where the last packet ends, less where the first starts. Packets are read, not
    // decoded; a packet is at least a byte, which bounds the loop on a forged stream.
    let opus = codec == Some(CODEC_ID_OPUS);
    let (mut first_ns, mut end_ns): (Option<i128>, i128) = (None, 0);
    let mut packets = 0usize;
    loop {
        let packet = match reader.next_packet() {
            Ok(Some(packet)) => packet,
            Ok(None) => break,
            // A recording cut off within its last packet still plays up to there.
            Err(SymphoniaError::IoError(err)) if err.kind() == std::io::ErrorKind::UnexpectedEof && packets > 0 => break,
            Err(_) => return Err(Rejection::corrupt("the audio stream is damaged")),
        };
        packets += 1;
        if packets > bytes.len() {
            return Err(Rejection::corrupt("the audio stream is damaged"));
        }
        if packet.track_id != track_id {
            continue;
        }
        let start = nanos(time_base, packet.pts.get())?;
        let length = if packet.dur.get() > 0 {
            time_base.calc_duration(packet.dur).map(|t| t.as_nanos()).ok_or_else(out_of_range)?
        } else if opus {
            i128::from(opus_packet_samples(&packet.data)) * 1_000_000_000 / 48_000
        } else {
            0
        };
        first_ns = Some(first_ns.map_or(start, |first| first.min(start)));
        end_ns = end_ns.max(start + length);
    }
    let first_ns = first_ns.ok_or_else(|| Rejection::corrupt("the audio track holds no audio"))?;
    let duration_ns = (end_ns - first_ns).max(0);
    if duration_ns == 0 {
        return Err(Rejection::corrupt("the audio track holds no audio"));
    }
    u64::try_from(duration_ns / 1_000_000).map_err(|_| out_of_range())
}

fn nanos(time_base: TimeBase, ts: i64) -> Result<i128, Rejection> {
    time_base.calc_time(symphonia::core::units::Timestamp::new(ts)).map(|t| t.as_nanos()).ok_or_else(out_of_range)
}

fn out_of_range() -> Rejection {
    Rejection::corrupt("the audio's timestamps are out of range")
}

/// Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716, section 3.1).
fn opus_packet_samples(packet: &[u8]) -> u32 {
    let Some(&toc) = packet.first() else {
        return 0;
    };
    let config = toc >> 3;
    let frame = match config {
        0..=11 => [480, 960, 1920, 2880][usize::from(config & 3)], // SILK: 10, 20, 40, 60 ms
        12..=15 => [480, 960][usize::from(config & 1)],            // hybrid: 10, 20 ms
        _ => [120, 240, 480, 960][usize::from(config & 3)],        // CELT: 2.5, 5, 10, 20 ms
    };
    let frames = match toc & 3 {
        0 => 1,
        1 | 2 => 2,
        _ => packet.get(1).map_or(0, |count| u32::from(count & 0x3F)),
    };
    frame * frames
}
