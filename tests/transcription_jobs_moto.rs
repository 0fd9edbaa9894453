//! Amazon Transcribe batch jobs on moto (it accepts and tracks jobs; it does not transcribe): a
//! job named from its recording starts once, however often the storage trigger repeats; the
//! language goes as exactly one of Transcribe's three parameters; the state is read back.

use aws_sdk_transcribe::Client;
use confer::adapters::aws::transcribe::AmazonTranscribe;
use confer::ports::transcription::{
    job_name, JobRequest, JobStarted, JobState, LanguageChoice, Speakers, TranscriptionError, TranscriptionJobs,
};
use confer_tests::moto;

fn request(name: &str, language: LanguageChoice, speakers: Speakers) -> JobRequest {
    JobRequest {
        name: name.to_string(),
        media_uri: "s3://confer-recordings/recordings/acme/ses_01M9/rec_01M9/final.webm".into(),
        media_format: "webm".into(),
        language,
        speakers,
        output_bucket: "confer-recordings".into(),
        output_key: format!("transcripts/acme/{name}.json"),
    }
}

#[tokio::test]
async fn a_recordings_job_starts_once_and_its_state_is_read_back() {
    let config = moto::sdk_config().await;
    let jobs = AmazonTranscribe::new(&config);
    let name = job_name("acme", &moto::unique_name("rec"));
    let job = request(&name, LanguageChoice::Fixed("en-US".into()), Speakers::Channels);
    assert_eq!(jobs.start(&job).await.unwrap(), JobStarted::Started);
    assert_eq!(jobs.start(&job).await.unwrap(), JobStarted::AlreadyExists, "a repeated trigger starts nothing new");

    // What moto recorded is what was asked: channels, one language parameter.
    let raw = Client::new(&config).get_transcription_job().transcription_job_name(&name).send().await.unwrap();
    let recorded = raw.transcription_job().unwrap();
    assert_eq!(recorded.language_code().map(|l| l.as_str()), Some("en-US"));
    assert_eq!(recorded.settings().and_then(|s| s.channel_identification()), Some(true));
    assert_eq!(recorded.media().and_then(|m| m.media_file_uri()), Some(job.media_uri.as_str()));

    // moto moves a job along as it is read: running, then completed with its output's location.
    let mut state = jobs.state(&name).await.unwrap();
    for _ in 0..5 {
        if matches!(state, JobState::Completed { .. }) {
            break;
        }
        state = jobs.state(&name).await.unwrap();
    }
    match state {
        JobState::Completed { transcript_uri, .. } => assert!(transcript_uri.contains(&name), "{transcript_uri}"),
        other => panic!("the job did not complete: {other:?}"),
    }
    assert_eq!(jobs.state("confer-acme-nothing").await, Err(TranscriptionError::NotFound));
}

#[tokio::test]
async fn identified_languages_and_speaker_labels_are_asked_for_as_transcribe_documents() {
    let config = moto::sdk_config().await;
    let jobs = AmazonTranscribe::new(&config);
    let client = Client::new(&config);
    let one = job_name("acme", &moto::unique_name("rec"));
    let options = vec!["en-US".to_string(), "es-US".to_string()];
    jobs.start(&request(&one, LanguageChoice::Identify { options: options.clone() }, Speakers::Labels(2))).await.unwrap();
    let job = client.get_transcription_job().transcription_job_name(&one).send().await.unwrap();
    let job = job.transcription_job().unwrap();
    assert_eq!(job.identify_language(), Some(true));
    assert!(job.language_code().is_none(), "exactly one language parameter");
    assert_eq!(job.settings().and_then(|s| s.show_speaker_labels()), Some(true));
    assert_eq!(job.settings().and_then(|s| s.max_speaker_labels()), Some(2));

    let many = job_name("acme", &moto::unique_name("rec"));
    jobs.start(&request(&many, LanguageChoice::IdentifyMultiple { options }, Speakers::Labels(40))).await.unwrap();
    let job = client.get_transcription_job().transcription_job_name(&many).send().await.unwrap();
    let job = job.transcription_job().unwrap();
    assert_eq!(job.identify_multiple_languages(), Some(true));
    assert_eq!(job.settings().and_then(|s| s.max_speaker_labels()), Some(30), "Transcribe's most speakers");
}

#[test]
fn job_names_come_from_the_recording_in_transcribes_alphabet() {
    assert_eq!(job_name("acme", "rec_01M9AXRW"), "confer-acme-rec_01M9AXRW");
    assert_eq!(job_name("acme", "rec/01#x"), "confer-acme-rec-01-x");
    assert_eq!(job_name("acme", &"x".repeat(300)).len(), 200);
}
