//! Local recordings: the recording agent's browser uploads each participant's track in chunks
//! into the recordings folder (through the recordings blob store); when the recording stops, the
//! chunks of each track are joined in order into one file (remuxed with ffmpeg, so players can
//! seek), and all tracks are mixed into one (`mixed.webm`: every voice, the videos side by side).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

use crate::domain::recording::RecordingMode;
use crate::ports::recorder::{objects, AssembledFile, Recorder, RecorderError, RecordingRef, TrackChunks};

/// What the runtime does with a file it wrote (confer-local raises the bucket's notification).
pub type Announce = Arc<dyn Fn(&AssembledFile) + Send + Sync>;

pub struct LocalRecorder {
    root: PathBuf,
    /// ffmpeg (and ffprobe beside it); without it tracks are joined as uploaded and not mixed.
    ffmpeg: Option<PathBuf>,
    announce: OnceLock<Announce>,
}

impl LocalRecorder {
    /// Recordings under `root` (the recordings blob store's folder).
    pub fn new(root: &Path, ffmpeg: Option<PathBuf>) -> Self {
        LocalRecorder { root: root.to_path_buf(), ffmpeg, announce: OnceLock::new() }
    }

    pub fn set_announce(&self, f: Announce) {
        let _ = self.announce.set(f);
    }

    /// Recordings whose chunks are still waiting to be assembled, as `(tenant, recording id)`:
    /// a folder of chunks is removed once its recording is assembled, so those left after a
    /// restart are the ones to finish.
    pub fn unassembled(&self) -> Vec<(String, String)> {
        let dirs = |p: PathBuf| -> Vec<std::fs::DirEntry> {
            std::fs::read_dir(p).into_iter().flatten().flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())).collect()
        };
        let mut out = Vec::new();
        for tenant in dirs(self.root.join("chunks")) {
            for recording in dirs(tenant.path()) {
                out.push((tenant.file_name().to_string_lossy().into_owned(), recording.file_name().to_string_lossy().into_owned()));
            }
        }
        out.sort();
        out
    }

    fn chunk_files(&self, r: &RecordingRef, track: &str) -> Vec<(u64, PathBuf)> {
        let dir = self.root.join(objects::chunks_of(&r.tenant, &r.recording_id, track));
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let seq = name.strip_suffix(".webm")?.parse::<u64>().ok()?;
                Some((seq, e.path()))
            })
            .collect();
        files.sort();
        files
    }

    async fn probe(&self, file: &Path) -> (Option<u64>, bool, bool) {
        let Some(ffmpeg) = &self.ffmpeg else { return (None, true, false) };
        let ffprobe =
            ffmpeg.with_file_name(ffmpeg.file_name().map(|n| n.to_string_lossy().replace("ffmpeg", "ffprobe")).unwrap_or_default());
        let out = Command::new(&ffprobe)
            .args(["-v", "error", "-show_entries", "format=duration:stream=codec_type", "-of", "default=noprint_wrappers=1"])
            .arg(file)
            .output()
            .await;
        let Ok(out) = out else { return (None, true, false) };
        let text = String::from_utf8_lossy(&out.stdout);
        let duration = text
            .lines()
            .find_map(|l| l.strip_prefix("duration="))
            .and_then(|d| d.trim().parse::<f64>().ok())
            .map(|s| (s * 1000.0).round() as u64);
        (duration, text.contains("codec_type=audio"), text.contains("codec_type=video"))
    }

    async fn run_ffmpeg(&self, args: &[String]) -> Result<(), String> {
        let ffmpeg = self.ffmpeg.as_ref().ok_or("no ffmpeg")?;
        let out = Command::new(ffmpeg).args(["-hide_banner", "-v", "error", "-y"]).args(args).output().await.map_err(|e| e.to_string())?;
        if out.status.success() {
            Ok(())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or("ffmpeg failed").to_string())
        }
    }

    /// One track's chunks, in order, into its final file.
    async fn join_track(&self, r: &RecordingRef, track: &str) -> Result<Option<AssembledFile>, RecorderError> {
        let chunks = self.chunk_files(r, track);
        if chunks.is_empty() {
            return Ok(None);
        }
        let key = objects::track(&r.tenant, &r.recording_id, track);
        let dest = self.root.join(&key);
        let dir = dest.parent().expect("a track has a folder").to_path_buf();
        tokio::fs::create_dir_all(&dir).await.map_err(io)?;
        let raw = dir.join(format!("{track}.joined"));
        let mut out = tokio::fs::File::create(&raw).await.map_err(io)?;
        for (_, path) in &chunks {
            let mut chunk = tokio::fs::File::open(path).await.map_err(io)?;
            tokio::io::copy(&mut chunk, &mut out).await.map_err(io)?;
        }
        out.flush().await.map_err(io)?;
        drop(out);
        // Remuxed, the file gets its duration and cues; a stream ffmpeg cannot read stays as joined.
        let remuxed = dir.join(format!("{track}.remux.webm"));
        let args: Vec<String> =
            vec!["-fflags".into(), "+genpts".into(), "-i".into(), path_arg(&raw), "-c".into(), "copy".into(), path_arg(&remuxed)];
        match self.run_ffmpeg(&args).await {
            Ok(()) => {
                tokio::fs::rename(&remuxed, &dest).await.map_err(io)?;
                let _ = tokio::fs::remove_file(&raw).await;
            }
            Err(why) => {
                tracing::warn!(track, error = %why, "track kept as uploaded (not remuxed)");
                let _ = tokio::fs::remove_file(&remuxed).await;
                tokio::fs::rename(&raw, &dest).await.map_err(io)?;
            }
        }
        let (duration_ms, _, video) = self.probe(&dest).await;
        let size = tokio::fs::metadata(&dest).await.map_err(io)?.len();
        let content_type = if video { "video/webm" } else { "audio/webm" };
        Ok(Some(AssembledFile { object_name: track.to_string(), key, content_type: content_type.into(), size, duration_ms }))
    }

    /// Every track mixed into one file: all voices, the videos side by side at 360 lines.
    async fn mix(&self, r: &RecordingRef, tracks: &[AssembledFile]) -> Option<AssembledFile> {
        self.ffmpeg.as_ref()?;
        let mut with_audio = Vec::new();
        let mut with_video = Vec::new();
        for (i, t) in tracks.iter().enumerate() {
            let (_, audio, video) = self.probe(&self.root.join(&t.key)).await;
            if audio {
                with_audio.push(i);
            }
            if video {
                with_video.push(i);
            }
        }
        if with_audio.is_empty() && with_video.is_empty() {
            return None;
        }
        let key = objects::mixed(&r.tenant, &r.recording_id);
        let dest = self.root.join(&key);
        let part = dest.with_extension("part.webm");
        let mut args: Vec<String> = Vec::new();
        for t in tracks {
            args.extend(["-i".into(), path_arg(&self.root.join(&t.key))]);
        }
        let mut filters = Vec::new();
        if !with_audio.is_empty() {
            let inputs: String = with_audio.iter().map(|i| format!("[{i}:a]")).collect();
            filters.push(format!("{inputs}amix=inputs={}:duration=longest:normalize=0[a]", with_audio.len()));
        }
        if !with_video.is_empty() {
            let scaled: Vec<String> = with_video.iter().map(|i| format!("[{i}:v]scale=-2:360,setsar=1[v{i}]")).collect();
            filters.extend(scaled);
            let labels: String = with_video.iter().map(|i| format!("[v{i}]")).collect();
            if with_video.len() == 1 {
                filters.push(format!("{labels}null[v]"));
            } else {
                filters.push(format!("{labels}hstack=inputs={}:shortest=0[v]", with_video.len()));
            }
        }
        args.extend(["-filter_complex".into(), filters.join(";")]);
        if !with_audio.is_empty() {
            args.extend(["-map".into(), "[a]".into(), "-c:a".into(), "libopus".into(), "-b:a".into(), "64k".into()]);
        }
        if !with_video.is_empty() {
            args.extend(["-map".into(), "[v]".into()]);
            args.extend(["-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "1M"].map(String::from));
        }
        args.extend(["-f".into(), "webm".into(), path_arg(&part)]);
        if let Err(why) = self.run_ffmpeg(&args).await {
            tracing::warn!(recording = %r.recording_id, error = %why, "tracks not mixed; each track stays playable");
            let _ = tokio::fs::remove_file(&part).await;
            return None;
        }
        tokio::fs::rename(&part, &dest).await.ok()?;
        let (duration_ms, _, _) = self.probe(&dest).await;
        let size = tokio::fs::metadata(&dest).await.ok()?.len();
        let content_type = if with_video.is_empty() { "audio/webm" } else { "video/webm" };
        Some(AssembledFile { object_name: "mixed".into(), key, content_type: content_type.into(), size, duration_ms })
    }
}

fn io(e: std::io::Error) -> RecorderError {
    RecorderError::Unavailable(e.to_string())
}

fn path_arg(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

#[async_trait]
impl Recorder for LocalRecorder {
    fn mode(&self) -> RecordingMode {
        RecordingMode::Browser
    }

    async fn start(&self, _: &RecordingRef, _: Option<&serde_json::Value>) -> Result<Option<String>, RecorderError> {
        Ok(None)
    }

    async fn stop(&self, _: &str) -> Result<(), RecorderError> {
        Ok(())
    }

    async fn concatenate(&self, _: &RecordingRef, _: &str) -> Result<String, RecorderError> {
        Err(RecorderError::NotAvailable)
    }

    async fn assemble(&self, r: &RecordingRef, tracks: &[TrackChunks]) -> Result<Vec<AssembledFile>, RecorderError> {
        let mut files = Vec::new();
        for t in tracks {
            if let Some(f) = self.join_track(r, &t.object_name).await? {
                files.push(f);
            }
        }
        if let Some(mixed) = self.mix(r, &files).await {
            files.push(mixed);
        }
        // The chunks are in the final files now.
        let _ = tokio::fs::remove_dir_all(self.root.join(format!("chunks/{}/{}", r.tenant, r.recording_id))).await;
        Ok(files)
    }

    async fn chunks_complete(&self, r: &RecordingRef, tracks: &[TrackChunks]) -> bool {
        tracks.iter().all(|t| match t.expected {
            Some(n) => {
                let seqs: Vec<u64> = self.chunk_files(r, &t.object_name).into_iter().map(|(s, _)| s).collect();
                seqs.len() as u64 == n && seqs.iter().enumerate().all(|(i, s)| *s == i as u64)
            }
            None => false,
        })
    }

    fn announce(&self, files: &[AssembledFile]) {
        if let Some(f) = self.announce.get() {
            for file in files {
                f(file);
            }
        }
    }
}
