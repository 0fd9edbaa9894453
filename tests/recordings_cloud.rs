//! Recordings in the cloud. The Chime media pipelines adapter at the SDK boundary with
//! aws-smithy-mocks (no emulator has Chime): the capture it asks for, stopping it, the
//! concatenation into final files; and the `recordings-pipeline-events` handler fed the sample
//! event twice, which concatenates once. Then storage-driven transcription on moto (S3 and
//! Amazon Transcribe; moto accepts and tracks jobs, it does not transcribe): the
//! `recordings-transcribe` trigger makes the recording available and starts one job however
//! often S3 repeats itself; `recordings-transcribed` reads the job's output (a transcript of our
//! own in Transcribe's format) into turns, once; a corrupt output fails the transcript with its
//! reason.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::s3::S3Event;
use aws_sdk_chimesdkmediapipelines::operation::create_media_capture_pipeline::{
    CreateMediaCapturePipelineInput, CreateMediaCapturePipelineOutput,
};
use aws_sdk_chimesdkmediapipelines::operation::create_media_concatenation_pipeline::{
    CreateMediaConcatenationPipelineInput, CreateMediaConcatenationPipelineOutput,
};
use aws_sdk_chimesdkmediapipelines::operation::delete_media_capture_pipeline::{
    DeleteMediaCapturePipelineError, DeleteMediaCapturePipelineOutput,
};
use aws_sdk_chimesdkmediapipelines::types::error::NotFoundException;
use aws_sdk_chimesdkmediapipelines::types::{
    ArtifactsConcatenationState, AudioArtifactsConcatenationState, AudioMuxType, MediaCapturePipeline, MediaConcatenationPipeline,
    MediaPipelineSinkType, MediaPipelineSourceType,
};
use aws_sdk_chimesdkmediapipelines::Client;
use aws_smithy_mocks::{mock, mock_client};
use confer::adapters::aws::media_pipelines::ChimeRecorder;
use confer::adapters::aws::s3::S3Blobs;
use confer::adapters::aws::transcribe::AmazonTranscribe;
use confer::adapters::local::{LocalConnections, MemoryTable};
use confer::app::recordings::store::{Recordings, StoredRecording};
use confer::domain::recording::{Recording, RecordingMode, RecordingStatus, TranscriptState, TranscriptStatus};
use confer::domain::{ParticipantRef, RecordingId, TenantId};
use confer::ports::recorder::{Recorder, RecorderError, RecordingRef};
use confer::App;
use confer_tests::collected::Collected;
use confer_tests::moto;
use serde_json::{json, Value};

const MEETING_ARN: &str = "arn:aws:chime:us-east-1:123456789012:meeting/e71a3c5d-9b2f-4f18-8d46-0c2b4e6a8f93";
/// The pipeline id the sample event in events/ carries.
const PIPELINE_ID: &str = "c9e1a3b5-7d2f-4e6a-b8c0-d2e4f6a8b0c3";

fn events_file(name: &str) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("events").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn reference(recording: &str) -> RecordingRef {
    RecordingRef { tenant: "acme".into(), session_id: "ses_01M8NRRGNB7K9M1P3R5T7V9X1Z".into(), recording_id: recording.into() }
}

fn capture_rule(seen: Arc<Mutex<Vec<CreateMediaCapturePipelineInput>>>) -> aws_smithy_mocks::Rule {
    mock!(Client::create_media_capture_pipeline).then_compute_output(move |input| {
        seen.lock().unwrap().push(input.clone());
        CreateMediaCapturePipelineOutput::builder()
            .media_capture_pipeline(MediaCapturePipeline::builder().media_pipeline_id(PIPELINE_ID).build())
            .build()
    })
}

fn concatenation_rule(seen: Arc<Mutex<Vec<CreateMediaConcatenationPipelineInput>>>) -> aws_smithy_mocks::Rule {
    mock!(Client::create_media_concatenation_pipeline).then_compute_output(move |input| {
        seen.lock().unwrap().push(input.clone());
        CreateMediaConcatenationPipelineOutput::builder()
            .media_concatenation_pipeline(MediaConcatenationPipeline::builder().media_pipeline_id("f0e1d2c3-final").build())
            .build()
    })
}

#[tokio::test]
async fn sdk_mocks_a_recording_is_captured_into_the_bucket_then_concatenated_into_final_files() {
    let captures = Arc::new(Mutex::new(Vec::new()));
    let concatenations = Arc::new(Mutex::new(Vec::new()));
    let (capture, concatenate) = (capture_rule(captures.clone()), concatenation_rule(concatenations.clone()));
    let delete = mock!(Client::delete_media_capture_pipeline)
        .match_requests(|r| r.media_pipeline_id() == Some(PIPELINE_ID))
        .then_output(|| DeleteMediaCapturePipelineOutput::builder().build());
    let gone = mock!(Client::delete_media_capture_pipeline).then_error(|| {
        DeleteMediaCapturePipelineError::NotFoundException(NotFoundException::builder().message("no such pipeline").build())
    });
    let client =
        mock_client!(aws_sdk_chimesdkmediapipelines, aws_smithy_mocks::RuleMode::MatchAny, [&capture, &concatenate, &delete, &gone]);
    let recorder = ChimeRecorder::with_client(client, "confer-dev-recordings-123456789012".into());
    assert_eq!(recorder.mode(), RecordingMode::Pipeline);

    let meeting = json!({ "MeetingId": "e71a3c5d-9b2f-4f18-8d46-0c2b4e6a8f93", "MeetingArn": MEETING_ARN });
    let id = recorder.start(&reference("rec_01M8P4Q6S8V0W2Y4A6C8E0G2J4"), Some(&meeting)).await.expect("capture started");
    assert_eq!(id.as_deref(), Some(PIPELINE_ID));
    let input = captures.lock().unwrap()[0].clone();
    assert_eq!(input.source_type(), Some(&MediaPipelineSourceType::ChimeSdkMeeting));
    assert_eq!(input.source_arn(), Some(MEETING_ARN));
    assert_eq!(input.sink_type(), Some(&MediaPipelineSinkType::S3Bucket));
    assert_eq!(
        input.sink_arn(),
        Some("arn:aws:s3:::confer-dev-recordings-123456789012/capture/acme/rec_01M8P4Q6S8V0W2Y4A6C8E0G2J4"),
        "captured chunks stay outside the trigger's recordings/ prefix"
    );
    assert_eq!(input.client_request_token(), Some("rec_01M8P4Q6S8V0W2Y4A6C8E0G2J4"), "a retried start captures once");
    let artifacts = input.chime_sdk_meeting_configuration().and_then(|c| c.artifacts_configuration()).expect("artifacts");
    assert_eq!(artifacts.audio().map(|a| a.mux_type()), Some(&AudioMuxType::AudioOnly));
    assert!(artifacts.composited_video().is_some(), "one composited video of everyone");
    // A call without a Chime meeting has nothing to capture.
    assert!(matches!(recorder.start(&reference("rec_x"), None).await, Err(RecorderError::Rejected(_))));

    recorder.stop(PIPELINE_ID).await.expect("stopped");
    recorder.stop("already-gone").await.expect("a pipeline already gone is stopped");

    let concatenation = recorder
        .concatenate(
            &reference("rec_01M8P4Q6S8V0W2Y4A6C8E0G2J4"),
            &format!("arn:aws:chime:us-east-1:123456789012:media-pipeline/{PIPELINE_ID}"),
        )
        .await
        .expect("concatenation started");
    assert_eq!(concatenation, "f0e1d2c3-final");
    let input = concatenations.lock().unwrap()[0].clone();
    let source = &input.sources()[0];
    let config = source.media_capture_pipeline_source_configuration().expect("the capture");
    assert!(config.media_pipeline_arn().ends_with(PIPELINE_ID));
    let wanted = config.chime_sdk_meeting_configuration().and_then(|c| c.artifacts_configuration()).expect("artifacts");
    assert_eq!(wanted.audio().map(|a| a.state()), Some(&AudioArtifactsConcatenationState::Enabled));
    assert_eq!(wanted.composited_video().map(|v| v.state()), Some(&ArtifactsConcatenationState::Enabled));
    assert_eq!(wanted.video().map(|v| v.state()), Some(&ArtifactsConcatenationState::Disabled));
    let sink = input.sinks()[0].s3_bucket_sink_configuration().expect("an S3 sink");
    assert_eq!(
        sink.destination(),
        "arn:aws:s3:::confer-dev-recordings-123456789012/recordings/acme/rec_01M8P4Q6S8V0W2Y4A6C8E0G2J4/final",
        "final files land where the storage trigger watches"
    );
}

fn stored(id: &str, mode: RecordingMode, status: RecordingStatus, pipeline: Option<&str>) -> StoredRecording {
    StoredRecording {
        recording: Recording {
            id: id.into(),
            session_id: "ses_01M8NRRGNB7K9M1P3R5T7V9X1Z".into(),
            customer_id: "cus_01M8E24NKB3T5X7Z9C1E4G6J8M".into(),
            call_id: "cal_01M8E2C1ZX3V5B7N9M1K3J5H7G".into(),
            mode,
            status,
            started_by: ParticipantRef::Agent("7f3c9a52-4e1b-4d8a-9c27-1b6e0f4d2a83".into()),
            started_at: "2026-11-30T08:41:02.000Z".into(),
            stopped_by: None,
            stopped_at: None,
            duration_ms: None,
            tracks: Vec::new(),
            media: Vec::new(),
            failure: None,
            transcript: TranscriptState { status: TranscriptStatus::Pending, reason: None, language: None, turns: None },
            provider: None,
        },
        version: 0,
        pipeline_id: pipeline.map(str::to_string),
        expected_chunks: BTreeMap::new(),
        chunks_reported: false,
        speaker_names: BTreeMap::new(),
        assembling: false,
        media_keys: BTreeMap::new(),
    }
}

async fn save(app: &App, record: &StoredRecording) {
    let tenant = TenantId::parse("acme").unwrap();
    let ops = Recordings::new(app, &tenant).create_ops(record).unwrap();
    app.table.transact_write(ops).await.unwrap();
}

async fn load(app: &App, id: &str) -> StoredRecording {
    let tenant = TenantId::parse("acme").unwrap();
    Recordings::new(app, &tenant).get(&RecordingId::parse(id).unwrap()).await.unwrap().expect("stored")
}

#[tokio::test]
async fn sdk_mocks_a_deleted_capture_pipeline_is_concatenated_once_however_often_chime_says_so() {
    let concatenations = Arc::new(Mutex::new(Vec::new()));
    let concatenate = concatenation_rule(concatenations.clone());
    let client = mock_client!(aws_sdk_chimesdkmediapipelines, aws_smithy_mocks::RuleMode::MatchAny, [&concatenate]);
    let app = Arc::new(App {
        table: Arc::new(MemoryTable::new()),
        connections_table: Arc::new(MemoryTable::new()),
        gateway: Arc::new(LocalConnections::new()),
        recorder: Arc::new(ChimeRecorder::with_client(client, "confer-dev-recordings-123456789012".into())),
        ..App::without_backends()
    });
    let id = "rec_01M8P4Q6S8V0W2Y4A6C8E0G2J4";
    save(&app, &stored(id, RecordingMode::Pipeline, RecordingStatus::Processing, Some(PIPELINE_ID))).await;

    let handler = confer::inbound::rule("recordings-pipeline-events").expect("the rule").handler;
    let event: EventBridgeEvent<Value> = serde_json::from_str(&events_file("recordings-pipeline-events.json")).unwrap();
    handler(app.clone(), event.clone()).await.expect("handled");
    handler(app.clone(), event.clone()).await.expect("a repeated delivery is acknowledged");
    assert_eq!(concatenations.lock().unwrap().len(), 1, "one concatenation");
    let input = concatenations.lock().unwrap()[0].clone();
    let arn = input.sources()[0].media_capture_pipeline_source_configuration().unwrap().media_pipeline_arn().to_string();
    assert_eq!(
        arn,
        format!("arn:aws:chime:us-east-1:123456789012:media-pipeline/{PIPELINE_ID}"),
        "the ARN from the event's region and account"
    );
    assert!(load(&app, id).await.assembling);

    // A pipeline Confer does not know, and one that failed for good.
    let mut other = event.clone();
    other.detail["mediaPipelineId"] = json!("0000-unknown");
    handler(app.clone(), other).await.expect("acknowledged");
    let failing = "rec_01M8P4Q6S8V0W2Y4A6C8E0G2J6";
    save(&app, &stored(failing, RecordingMode::Pipeline, RecordingStatus::Recording, Some("1111-failing"))).await;
    let mut failed = event;
    failed.detail["mediaPipelineId"] = json!("1111-failing");
    failed.detail["eventType"] = json!("chime:MediaPipelinePermanentFailure");
    handler(app.clone(), failed).await.expect("acknowledged");
    let r = load(&app, failing).await.recording;
    assert_eq!((r.status, r.failure.as_deref()), (RecordingStatus::Failed, Some("the media pipeline failed")));
    assert_eq!(concatenations.lock().unwrap().len(), 1);
}

async fn moto_app() -> (Arc<App>, Arc<Collected>, String, aws_config::SdkConfig) {
    let config = moto::sdk_config().await;
    let bucket = moto::unique_name("confer-recordings");
    aws_sdk_s3::Client::new(&config).create_bucket().bucket(&bucket).send().await.expect("moto creates the bucket");
    let events = Arc::new(Collected::default());
    let app = Arc::new(App {
        table: Arc::new(MemoryTable::new()),
        connections_table: Arc::new(MemoryTable::new()),
        gateway: Arc::new(LocalConnections::new()),
        events: events.clone(),
        recordings: Arc::new(S3Blobs::with_path_style(&config, bucket.clone())),
        transcription: Arc::new(AmazonTranscribe::new(&config)),
        ..App::without_backends()
    });
    (app, events, bucket, config)
}

fn s3_event(bucket: &str, key: &str) -> S3Event {
    let mut v: Value = serde_json::from_str(&events_file("recordings-transcribe.json")).unwrap();
    v["Records"][0]["s3"]["bucket"]["name"] = json!(bucket);
    v["Records"][0]["s3"]["bucket"]["arn"] = json!(format!("arn:aws:s3:::{bucket}"));
    v["Records"][0]["s3"]["object"]["key"] = json!(key);
    serde_json::from_value(v).expect("an S3 event")
}

fn job_event(name: &str) -> EventBridgeEvent<Value> {
    let mut v: EventBridgeEvent<Value> = serde_json::from_str(&events_file("recordings-transcribed.json")).unwrap();
    v.detail["TranscriptionJobName"] = json!(name);
    v
}

#[tokio::test]
async fn the_final_audio_starts_one_transcribe_job_and_its_output_becomes_turns_once_on_moto() {
    let (app, events, bucket, config) = moto_app().await;
    let id = format!("rec_{}", ulid::Ulid::new());
    save(&app, &stored(&id, RecordingMode::Pipeline, RecordingStatus::Processing, Some(&moto::unique_name("pipe")))).await;
    let key = format!("recordings/acme/{id}/final/audio/2026-11-30T08-52-41.017Z.mp4");
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.put_object().bucket(&bucket).key(&key).body(b"not really audio".to_vec().into()).send().await.unwrap();

    let trigger = confer::inbound::trigger("recordings-transcribe").expect("the trigger").handler;
    assert!(trigger(app.clone(), s3_event(&bucket, &key)).await.failed.is_empty());
    assert!(trigger(app.clone(), s3_event(&bucket, &key)).await.failed.is_empty(), "S3 delivered it twice");
    let r = load(&app, &id).await.recording;
    assert_eq!(r.status, RecordingStatus::Available);
    assert_eq!(r.media.iter().map(|m| m.track.as_str()).collect::<Vec<_>>(), ["audio"]);
    assert_eq!(r.transcript.status, TranscriptStatus::Processing);
    assert_eq!(events.ids_of("recording.available"), [format!("{id}:available")], "published once");

    // Transcribe was asked once, for this file, with speaker labels and the tenant's language.
    let name = format!("confer-acme-{id}");
    let transcribe = aws_sdk_transcribe::Client::new(&config);
    let job = transcribe.get_transcription_job().transcription_job_name(&name).send().await.expect("the job exists");
    let job = job.transcription_job().unwrap();
    assert_eq!(job.media().and_then(|m| m.media_file_uri()), Some(format!("s3://{bucket}/{key}").as_str()));
    assert_eq!(job.language_code().map(|l| l.as_str()), Some("en-US"));
    assert_eq!(job.settings().and_then(|s| s.show_speaker_labels()), Some(true));
    assert_eq!(job.settings().and_then(|s| s.max_speaker_labels()), Some(4));
    let jobs = transcribe.list_transcription_jobs().job_name_contains(&id).send().await.unwrap();
    assert_eq!(jobs.transcription_job_summaries().len(), 1, "one job however often S3 repeats");

    // Transcribe's output lands in the bucket (moto does not transcribe: ours, in its format).
    let output =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/transcribe/speakers-segments.json")).unwrap();
    s3.put_object().bucket(&bucket).key(format!("transcripts/acme/{id}.json")).body(output.into()).send().await.unwrap();
    let handler = confer::inbound::rule("recordings-transcribed").expect("the rule").handler;
    // moto moves the job along as it is read; the event arrives once it completed.
    for _ in 0..6 {
        handler(app.clone(), job_event(&name)).await.expect("handled");
        if load(&app, &id).await.recording.transcript.status == TranscriptStatus::Ready {
            break;
        }
    }
    handler(app.clone(), job_event(&name)).await.expect("a repeated delivery is acknowledged");
    let r = load(&app, &id).await.recording;
    assert_eq!(r.transcript.status, TranscriptStatus::Ready, "{:?}", r.transcript);
    assert!(r.transcript.turns.unwrap_or(0) >= 2, "{:?}", r.transcript);
    assert_eq!(events.ids_of("transcript.ready"), [format!("{id}:transcript.ready")], "published once");
    let tenant = TenantId::parse("acme").unwrap();
    let repo = Recordings::new(&app, &tenant);
    let rid = RecordingId::parse(&id).unwrap();
    let header = repo.transcript_header(&rid, None).await.unwrap().expect("stored");
    assert!(header.speakers.len() >= 2 && header.speakers.iter().all(|s| s.starts_with("spk_")), "{:?}", header.speakers);
    let turns = repo.transcript_turns(&rid, None, 0, 1000).await.unwrap();
    assert_eq!(turns.len(), header.turns);
    assert!(turns.windows(2).all(|w| w[0].start_ms <= w[1].start_ms));

    // Jobs Confer never started, and names outside its pattern, are acknowledged and change nothing.
    handler(app.clone(), job_event("someone-elses-job")).await.expect("acknowledged");
    handler(app.clone(), job_event(&format!("confer-globex-{id}"))).await.expect("acknowledged");
}

#[tokio::test]
async fn a_corrupt_transcribe_output_fails_the_transcript_with_its_reason_on_moto() {
    let (app, events, bucket, config) = moto_app().await;
    let id = format!("rec_{}", ulid::Ulid::new());
    save(&app, &stored(&id, RecordingMode::Pipeline, RecordingStatus::Processing, None)).await;
    let key = format!("recordings/acme/{id}/final/audio/a.mp4");
    let s3 = aws_sdk_s3::Client::new(&config);
    s3.put_object().bucket(&bucket).key(&key).body(b"audio".to_vec().into()).send().await.unwrap();
    let trigger = confer::inbound::trigger("recordings-transcribe").unwrap().handler;
    assert!(trigger(app.clone(), s3_event(&bucket, &key)).await.failed.is_empty());
    s3.put_object()
        .bucket(&bucket)
        .key(format!("transcripts/acme/{id}.json"))
        .body(b"{\"jobName\": \"x\", \"results\": ".to_vec().into())
        .send()
        .await
        .unwrap();
    let handler = confer::inbound::rule("recordings-transcribed").unwrap().handler;
    for _ in 0..6 {
        handler(app.clone(), job_event(&format!("confer-acme-{id}"))).await.expect("handled");
    }
    let r = load(&app, &id).await.recording;
    assert_eq!(r.transcript.status, TranscriptStatus::Failed, "{:?}", r.transcript);
    assert!(r.transcript.reason.as_deref().unwrap_or("").contains("cannot be read"), "{:?}", r.transcript);
    assert!(events.ids_of("transcript.ready").is_empty());
    // A file outside the layout, and one of an unknown recording, are acknowledged.
    assert!(trigger(app.clone(), s3_event(&bucket, "recordings/acme/nonsense.mp4")).await.failed.is_empty());
    assert!(trigger(app.clone(), s3_event(&bucket, &format!("recordings/acme/rec_{}/final/audio/x.mp4", ulid::Ulid::new())))
        .await
        .failed
        .is_empty());
}
