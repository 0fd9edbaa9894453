#!/usr/bin/env bash
# Builds the media test fixtures in tests/fixtures/media/ (committed; run again only to change them).
#
# Needs espeak-ng, ffmpeg, heif-enc and exiftool (Debian: espeak-ng ffmpeg libheif-examples
# libimage-exiftool-perl) and python3. Every file is small: one spoken sentence of about two
# seconds, mono, low bitrate.
#
#   voice.wav                    the reference: 8 kHz, 8-bit PCM (its length is the true duration)
#   voice-mediarecorder.webm     WebM/Opus shaped as a browser's MediaRecorder writes it: no
#                                Duration element, no Cues, Segment and every Cluster of unknown size
#   voice.webm                   WebM/Opus as a file muxer writes it (sizes and Duration known)
#   voice.ogg                    Ogg/Opus
#   voice.m4a                    AAC in MP4 (what phones send)
#   voice-fragmented.mp4         AAC in fragmented MP4 (an empty moov, then moof/mdat fragments:
#                                the layout of a recorder that writes as it records)
#   voice.aac                    raw AAC in ADTS frames
#   voice.mp3                    MP3 with an ID3 tag and a LAME header (encoder delay and padding)
#   photo-gps.heic               a 64×48 HEIC whose Exif item carries a GPS position
#   video.mp4                    a 2-second 160×120 H.264 video with AAC sound (an announcement's video)
#   video.webm                   the same picture as VP8 in WebM, no sound
#   warranty.pdf                 a one-page PDF whose text layer says one sentence (Helvetica)
#
# For benchmarks, long recordings of the same kinds: `make-media-fixtures.sh --repeat 254 DIR`
# speaks the sentence 254 times over (10 minutes) and writes the files to DIR instead.
set -euo pipefail

repeat=1
out="$(cd "$(dirname "$0")/../.." && pwd)/tests/fixtures/media"
while [ $# -gt 0 ]; do
    case "$1" in
        --repeat) repeat="$2"; shift 2 ;;
        -*) echo "usage: $0 [--repeat N] [DIR]" >&2; exit 2 ;;
        *) out="$1"; shift ;;
    esac
done
mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ff() { ffmpeg -hide_banner -loglevel error -y "$@"; }
# No encoder or creation tags, so that running this again gives the same files.
quiet=(-map_metadata -1 -fflags +bitexact -flags:a +bitexact)

espeak-ng -v en -s 160 -w "$work/speech.wav" "This is a voice message from Confer."
ff -stream_loop "$((repeat - 1))" -i "$work/speech.wav" -ac 1 -ar 8000 -c:a pcm_u8 "${quiet[@]}" "$out/voice.wav"

ff -i "$out/voice.wav" -ac 1 -ar 48000 -c:a libopus -b:a 12k "${quiet[@]}" -f webm "$out/voice.webm"
ff -i "$out/voice.wav" -ac 1 -ar 48000 -c:a libopus -b:a 12k "${quiet[@]}" -f webm -live 1 -cluster_time_limit 500 "$work/live.webm"
ff -i "$out/voice.wav" -ac 1 -ar 48000 -c:a libopus -b:a 12k "${quiet[@]}" -f ogg "$out/voice.ogg"
ff -i "$out/voice.wav" -ac 1 -ar 16000 -c:a aac -b:a 16k "${quiet[@]}" -f ipod "$out/voice.m4a"
ff -i "$out/voice.wav" -ac 1 -ar 16000 -c:a aac -b:a 16k "${quiet[@]}" -f adts "$out/voice.aac"
ff -i "$out/voice.wav" -ac 1 -ar 16000 -c:a aac -b:a 16k "${quiet[@]}" \
    -movflags frag_keyframe+empty_moov+default_base_moof -brand iso5 -f mp4 "$out/voice-fragmented.mp4"
ff -i "$out/voice.wav" -ac 1 -ar 16000 -c:a libmp3lame -b:a 16k "${quiet[@]}" "$out/voice.mp3"

# ffmpeg's live mode leaves out Duration and Cues and gives the Segment an unknown size, but still
# writes each Cluster's size. A browser cannot go back to fill sizes in, so its Clusters have none
# either: rewrite each Cluster's size field as "unknown" (all value bits set, same width), which
# moves no byte.
python3 - "$work/live.webm" "$out/voice-mediarecorder.webm" <<'PY'
import sys
data = bytearray(open(sys.argv[1], "rb").read())

def vint(pos):
    first = data[pos]
    width = 1
    while width <= 8 and not first & (0x80 >> (width - 1)):
        width += 1
    value = first & (0xFF >> width)
    for b in data[pos + 1 : pos + width]:
        value = (value << 8) | b
    return width, value

def element_id(pos):
    first = data[pos]
    width = 1
    while not first & (0x80 >> (width - 1)):
        width += 1
    return width, bytes(data[pos : pos + width])

pos, clusters = 0, 0
while pos < len(data):
    id_width, eid = element_id(pos)
    size_pos = pos + id_width
    size_width, size = vint(size_pos)
    unknown = size == (1 << (7 * size_width)) - 1
    if eid == b"\x18\x53\x80\x67":  # Segment: step inside
        assert unknown, "expected a live (unknown-size) Segment"
        pos = size_pos + size_width
        continue
    if eid == b"\x1f\x43\xb6\x75":  # Cluster: mark its size unknown, step over it
        data[size_pos] = 0x80 >> (size_width - 1) | (0xFF >> size_width)
        for i in range(1, size_width):
            data[size_pos + i] = 0xFF
        clusters += 1
    elif eid == b"\x44\x89":
        raise SystemExit("live WebM unexpectedly has a Duration")
    pos = size_pos + size_width + size
assert clusters >= 2, clusters
open(sys.argv[2], "wb").write(data)
PY

# A HEIC photo with a GPS position in its Exif item.
ff -f lavfi -i "testsrc2=size=64x48:duration=1" -frames:v 1 "$work/photo.png"
ff -i "$work/photo.png" -q:v 3 "$work/photo.jpg"
exiftool -q -overwrite_original -GPSLatitude=48.8584 -GPSLatitudeRef=N -GPSLongitude=2.2945 \
    -GPSLongitudeRef=E -Make=Confer -Orientation#=1 "$work/photo.jpg"
heif-enc -q 50 -o "$out/photo-gps.heic" "$work/photo.jpg" >/dev/null
exiftool -q -q -GPSLatitude "$out/photo-gps.heic" | grep -q 48 || { echo "photo-gps.heic lost its GPS position" >&2; exit 1; }

# Announcement videos: two seconds of a test picture at 160×120, 10 frames a second.
ff -f lavfi -i "testsrc2=size=160x120:rate=10:duration=2" -i "$out/voice.wav" -t 2 -c:v libx264 -preset veryfast \
    -pix_fmt yuv420p -b:v 40k -c:a aac -b:a 16k -ar 16000 -ac 1 "${quiet[@]}" -flags:v +bitexact -movflags +faststart "$out/video.mp4"
ff -f lavfi -i "testsrc2=size=160x120:rate=10:duration=2" -c:v libvpx -b:v 40k "${quiet[@]}" -flags:v +bitexact "$out/video.webm"

# A PDF with a text layer: five objects and an exact cross-reference table.
python3 - "$out/warranty.pdf" <<'PDF'
import sys
stream = "BT /F1 18 Tf 72 720 Td (Warranty claim for the blue kettle) Tj ET"
objects = [
    "<< /Type /Catalog /Pages 2 0 R >>",
    "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
    "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    f"<< /Length {len(stream)} >>\nstream\n{stream}\nendstream",
]
pdf, offsets = b"%PDF-1.4\n", []
for i, body in enumerate(objects):
    offsets.append(len(pdf))
    pdf += f"{i + 1} 0 obj\n{body}\nendobj\n".encode()
xref = len(pdf)
pdf += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
pdf += b"".join(f"{o:010} 00000 n \n".encode() for o in offsets)
pdf += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
open(sys.argv[1], "wb").write(pdf)
PDF

ls -l "$out"
