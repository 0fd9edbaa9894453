//! Multimedia chat end to end on confer-local: request an upload, PUT the bytes to the signed
//! URL, and see the verified message arrive on the other participant's socket; download it and
//! its thumbnail; find it among the customer's files. Then every way an upload can be wrong,
//! each refused with a clear error and nothing left behind.

use std::io::Cursor;
use std::time::Duration;

use confer::domain::Role;
use confer_tests::harness::{chat_between_agent_and_customer, put_upload, Ws};
use serde_json::{json, Value};

/// A photo-like PNG: a gradient with some noise (not a flat colour).
fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, ((x * y) % 251) as u8])
    });
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

/// The next `message` frame, skipping others.
async fn next_message(ws: &mut Ws) -> Value {
    loop {
        let frame = ws.next_within(Duration::from_secs(20)).await.expect("a frame");
        if frame["type"] == "message" {
            return frame["message"].clone();
        }
    }
}

async fn download(url: &str) -> reqwest::Response {
    reqwest::get(url).await.expect("download answered")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_a_voice_message_and_a_file_travel_through_uploads_and_arrive_as_messages() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let mut agent_ws = s.ws(&s.token("acme", Role::Agent, "agent-ann")).await;
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await;
    let customer = s.customer("acme", &c.customer_id);

    // An image with a caption.
    let photo = png(800, 600);
    let body = json!({ "client_upload_id": "u-photo", "file_name": "parcel.png", "content_type": "image/png", "size": photo.len(), "caption": "The damaged box" });
    let ticket = customer.post(&format!("/v1/sessions/{}/attachments", c.session_id), body.clone()).await.expect(201);
    assert_eq!(ticket["attachment"]["status"], "pending");
    assert_eq!(ticket["upload"]["method"], "PUT");
    // A retried request answers the same attachment with a fresh URL.
    let again = customer.post(&format!("/v1/sessions/{}/attachments", c.session_id), body).await.expect(201);
    assert_eq!(again["attachment"]["id"], ticket["attachment"]["id"]);
    assert_eq!(put_upload(&ticket, photo.clone()).await, 200);

    let seen = next_message(&mut agent_ws).await;
    assert_eq!((seen["kind"].as_str(), seen["text"].as_str(), seen["seq"].as_u64()), (Some("image"), Some("The damaged box"), Some(1)));
    let media = &seen["attachment"];
    assert_eq!((media["width"].as_u64(), media["height"].as_u64()), (Some(800), Some(600)));
    assert_eq!(media["file_name"], "parcel.png");
    // The sender's own sockets hear of it too: their upload became this message.
    assert_eq!(next_message(&mut customer_ws).await["id"], seen["id"]);

    let got = download(media["url"].as_str().unwrap()).await;
    assert_eq!(got.status(), 200);
    assert_eq!(got.headers()["content-type"], "image/png");
    assert!(got.headers()["content-disposition"].to_str().unwrap().starts_with("inline;"));
    assert_eq!(got.headers()["x-content-type-options"], "nosniff");
    let served = image::load_from_memory(&got.bytes().await.unwrap()).expect("the served image decodes").to_rgb8();
    let original = image::load_from_memory(&photo).unwrap().to_rgb8();
    assert_eq!(served.as_raw(), original.as_raw(), "a PNG is re-encoded losslessly: the same pixels");
    let thumb = download(media["thumbnail_url"].as_str().expect("a thumbnail")).await;
    assert_eq!(thumb.headers()["content-type"], "image/jpeg");
    let thumb = image::load_from_memory(&thumb.bytes().await.unwrap()).unwrap();
    assert_eq!((thumb.width(), thumb.height()), (320, 240));

    // A voice message as Chrome's MediaRecorder writes it (no duration in its header).
    let voice = fixture("voice-mediarecorder.webm");
    let ticket = customer.request_upload(&c.session_id, "u-voice", "voice.webm", "audio/webm", voice.len()).await.expect(201);
    assert_eq!(put_upload(&ticket, voice.clone()).await, 200);
    let seen = next_message(&mut agent_ws).await;
    assert_eq!((seen["kind"].as_str(), seen["seq"].as_u64()), (Some("audio"), Some(2)));
    let duration = seen["attachment"]["duration_ms"].as_u64().expect("a duration");
    assert!((1000..10_000).contains(&duration), "duration {duration} ms");
    let got = download(seen["attachment"]["url"].as_str().unwrap()).await;
    assert_eq!(got.headers()["accept-ranges"], "bytes");
    assert_eq!(got.bytes().await.unwrap().as_ref(), voice.as_slice(), "audio is served as uploaded");
    // A player seeks with byte ranges, as S3 serves them.
    let part = reqwest::Client::new().get(seen["attachment"]["url"].as_str().unwrap()).header("range", "bytes=10-19").send().await.unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.headers()["content-range"], format!("bytes 10-19/{}", voice.len()).as_str());
    assert_eq!(part.headers()["content-type"], "audio/webm");
    assert_eq!(part.bytes().await.unwrap().as_ref(), &voice[10..20]);
    assert_eq!(next_message(&mut customer_ws).await["id"], seen["id"]);

    // A document: served byte for byte, always as a download.
    let agent = s.agent("acme", "agent-ann");
    let ticket = agent.request_upload(&c.session_id, "u-pdf", "return label.pdf", "application/pdf", PDF.len()).await.expect(201);
    assert_eq!(put_upload(&ticket, PDF.to_vec()).await, 200);
    let seen = next_message(&mut customer_ws).await;
    assert_eq!((seen["kind"].as_str(), seen["sender"]["kind"].as_str()), (Some("file"), Some("agent")));
    let got = download(seen["attachment"]["url"].as_str().unwrap()).await;
    assert_eq!(got.headers()["content-disposition"], "attachment; filename=\"return label.pdf\"; filename*=UTF-8''return%20label.pdf");
    assert_eq!(got.bytes().await.unwrap().as_ref(), PDF);

    // History carries them with fresh URLs; the customer's files list them newest first.
    let page = customer.messages(&c.session_id, "?direction=forward").await.expect(200);
    let kinds: Vec<&str> = page["items"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["image", "audio", "file"]);
    assert!(page["items"][0]["attachment"]["url"].as_str().unwrap().contains("sig="));
    let files = agent.get(&format!("/v1/customers/{}/files", c.customer_id)).await.expect(200);
    let names: Vec<&str> = files["items"].as_array().unwrap().iter().map(|f| f["file_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["return label.pdf", "voice.webm", "parcel.png"]);
    let images = customer.get(&format!("/v1/customers/{}/files?kind=image", c.customer_id)).await.expect(200);
    assert_eq!(images["items"].as_array().unwrap().len(), 1);
    let paged = agent.get(&format!("/v1/customers/{}/files?limit=2", c.customer_id)).await.expect(200);
    let rest = agent
        .get(&format!("/v1/customers/{}/files?limit=2&cursor={}", c.customer_id, paged["next_cursor"].as_str().unwrap()))
        .await
        .expect(200);
    assert_eq!(rest["items"][0]["file_name"], "parcel.png");
    agent.get(&format!("/v1/customers/{}/files?kind=video", c.customer_id)).await.expect_error(400, "validation_failed");
    // A customer sees only their own files.
    let other = agent.create_customer("Grace Hopper").await["id"].as_str().unwrap().to_string();
    customer.get(&format!("/v1/customers/{other}/files")).await.expect_error(404, "not_found");
    s.agent("globex", "agent-ann").get(&format!("/v1/customers/{}/files", c.customer_id)).await.expect_error(404, "not_found");

    // A ready attachment answers its request again without an upload URL.
    let done = customer.request_upload(&c.session_id, "u-voice", "voice.webm", "audio/webm", voice.len()).await.expect(201);
    assert_eq!(done["attachment"]["status"], "ready");
    assert!(done.get("upload").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_uploads_are_refused_clearly_and_leave_nothing_behind() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let customer = s.customer("acme", &c.customer_id);
    let mut customer_ws = s.ws(&s.token("acme", Role::Customer, &c.customer_id)).await;
    let attachments = format!("/v1/sessions/{}/attachments", c.session_id);

    // Refused at the request: a type outside the allow-list, a declared size over the limit,
    // unknown fields, a bad name.
    customer.request_upload(&c.session_id, "b1", "page.html", "text/html", 10).await.expect_error(400, "validation_failed");
    customer.request_upload(&c.session_id, "b2", "pic.svg", "image/svg+xml", 10).await.expect_error(400, "validation_failed");
    customer.request_upload(&c.session_id, "b3", "huge.png", "image/png", 21 * 1024 * 1024).await.expect_error(400, "validation_failed");
    customer.request_upload(&c.session_id, "b4", "../x.png", "image/png", 10).await.expect_error(400, "validation_failed");
    customer
        .post(
            &attachments,
            json!({ "client_upload_id": "b5", "file_name": "a.png", "content_type": "image/png", "size": 1, "tenant": "globex" }),
        )
        .await
        .expect_error(400, "validation_failed");
    // The same client id for another file is a conflict, not a silent overwrite.
    customer.request_upload(&c.session_id, "b6", "a.pdf", "application/pdf", PDF.len()).await.expect(201);
    customer.request_upload(&c.session_id, "b6", "b.pdf", "application/pdf", PDF.len()).await.expect_error(409, "conflict");

    // Someone else's session, another tenant's, a non-participant agent.
    let agent = s.agent("acme", "agent-ann");
    let other_customer = agent.create_customer("Grace").await["id"].as_str().unwrap().to_string();
    s.customer("acme", &other_customer).request_upload(&c.session_id, "x1", "a.png", "image/png", 10).await.expect_error(404, "not_found");
    s.agent("globex", "agent-ann").request_upload(&c.session_id, "x2", "a.png", "image/png", 10).await.expect_error(404, "not_found");
    s.agent("acme", "agent-zed").request_upload(&c.session_id, "x3", "a.png", "image/png", 10).await.expect_error(403, "not_a_participant");
    customer.request_upload("ses_nope", "x4", "a.png", "image/png", 10).await.expect_error(400, "validation_failed");

    // Refused at the PUT: more bytes than signed, another content type, a tampered signature,
    // an expired URL, the URL replayed for another object.
    let photo = png(64, 64);
    let ticket = customer.request_upload(&c.session_id, "p1", "a.png", "image/png", photo.len()).await.expect(201);
    let url = ticket["upload"]["url"].as_str().unwrap().to_string();
    let http = reqwest::Client::new();
    let put = |url: String, ct: &'static str, body: Vec<u8>| http.put(url).header("content-type", ct).body(body).send();
    let mut longer = photo.clone();
    longer.extend_from_slice(&[0; 100]);
    assert_eq!(put(url.clone(), "image/png", longer).await.unwrap().status(), 403, "a body longer than signed");
    let chunked = reqwest::Body::wrap_stream(futures::stream::iter(vec![Ok::<_, std::io::Error>(photo.clone()), Ok(vec![0u8; 100])]));
    let streamed = http.put(url.clone()).header("content-type", "image/png").body(chunked).send().await.unwrap();
    assert_eq!(streamed.status(), 413, "a streamed body past the signed size is cut off");
    assert_eq!(put(url.clone(), "text/html", photo.clone()).await.unwrap().status(), 403, "another content type");
    let tampered = url.replace("sig=", "sig=A");
    assert_eq!(put(tampered, "image/png", photo.clone()).await.unwrap().status(), 403);
    let other_ticket = customer.request_upload(&c.session_id, "p2", "b.png", "image/png", photo.len()).await.expect(201);
    let other_key = other_ticket["attachment"]["id"].as_str().unwrap();
    let replayed = url.replace(ticket["attachment"]["id"].as_str().unwrap(), other_key);
    assert_eq!(put(replayed, "image/png", photo.clone()).await.unwrap().status(), 403, "a URL signed for another object");
    let blobs = confer::adapters::local::LocalBlobs::open(&s.data_dir.join("blobs"), &s.data_dir).unwrap();
    let key = format!("uploads/acme/{}/{}", c.session_id, ticket["attachment"]["id"].as_str().unwrap());
    let expired = blobs.signed_url("put", &key, "image/png", "len", &photo.len().to_string(), confer::domain::now_epoch_seconds() - 1);
    let expired = expired.replace("http://127.0.0.1:8080", &s.base);
    let answer = put(expired, "image/png", photo.clone()).await.unwrap();
    assert_eq!(answer.status(), 403);
    assert!(answer.text().await.unwrap().contains("expired"));
    assert!(!s.data_dir.join("blobs").join(&key).exists(), "no refused PUT stored anything");

    // Refused by verification: the bytes are not what was declared (an executable named .png),
    // a truncated image, a decompression bomb. Each: an error frame, a rejected attachment,
    // an event naming why, no message, no bytes kept.
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.resize(4096, 0);
    let truncated = photo[..photo.len() / 2].to_vec();
    let bomb = {
        // A valid PNG header declaring 100,000 × 100,000 pixels.
        let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&100_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        v.extend_from_slice(&(ihdr.len() as u32).to_be_bytes());
        let mut chunk = b"IHDR".to_vec();
        chunk.extend_from_slice(&ihdr);
        v.extend_from_slice(&chunk);
        v.extend_from_slice(&crc32(&chunk).to_be_bytes());
        // zlib: one stored block holding a single zero byte (decoding in full would allocate 30 GB).
        let idat: &[u8] = b"IDAT\x78\x01\x01\x01\x00\xFE\xFF\x00\x00\x01\x00\x01";
        v.extend_from_slice(&((idat.len() - 4) as u32).to_be_bytes());
        v.extend_from_slice(idat);
        v.extend_from_slice(&crc32(idat).to_be_bytes());
        v.extend_from_slice(&[0, 0, 0, 0]);
        v.extend_from_slice(b"IEND");
        v.extend_from_slice(&crc32(b"IEND").to_be_bytes());
        v
    };
    for (id, bytes, expected) in [("v1", elf, "type_mismatch"), ("v2", truncated, "corrupt"), ("v3", bomb, "too_many_pixels")] {
        let ticket = customer.request_upload(&c.session_id, id, "photo.png", "image/png", bytes.len()).await.expect(201);
        assert_eq!(put_upload(&ticket, bytes).await, 200, "{id}: the bytes arrive; verification refuses them");
        let attachment_id = ticket["attachment"]["id"].as_str().unwrap();
        let frame = loop {
            let f = customer_ws.next_within(Duration::from_secs(20)).await.expect("an error frame");
            if f["type"] == "error" {
                break f;
            }
        };
        assert_eq!(
            (frame["code"].as_str(), frame["attachment_id"].as_str(), frame["client_message_id"].as_str()),
            (Some("attachment_rejected"), Some(attachment_id), Some(id))
        );
        let settled = customer.settled_attachment(&c.session_id, attachment_id).await;
        assert_eq!(
            (settled["status"].as_str(), settled["rejection"]["code"].as_str()),
            (Some("rejected"), Some(expected)),
            "{id}: {settled}"
        );
        assert!(settled.get("url").is_none());
        let leftovers: Vec<_> = walk(&s.data_dir.join("blobs")).into_iter().filter(|p| p.contains(attachment_id)).collect();
        assert!(leftovers.is_empty(), "{id}: bytes left behind: {leftovers:?}");
    }
    let page = customer.messages(&c.session_id, "").await.expect(200);
    assert_eq!(page["items"], json!([]), "no message points at a refused upload");
    let events = s.admin("acme", "boss").get("/v1/events?limit=100").await.expect(200);
    let rejected: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"]["type"] == "attachment.rejected")
        .map(|e| e["event"]["data"]["reason"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(rejected, ["type_mismatch", "corrupt", "too_many_pixels"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_delivered_twice_makes_one_message_and_one_event() {
    let c = chat_between_agent_and_customer().await;
    let s = &c.server;
    let customer = s.customer("acme", &c.customer_id);
    let ticket = customer.request_upload(&c.session_id, "d1", "a.pdf", "application/pdf", PDF.len()).await.expect(201);
    assert_eq!(put_upload(&ticket, PDF.to_vec()).await, 200);
    let id = ticket["attachment"]["id"].as_str().unwrap();
    assert_eq!(customer.settled_attachment(&c.session_id, id).await["status"], "ready");
    // The same notification again, as S3 may deliver it, through the trigger table.
    let stack = s.running.as_ref().unwrap().stack.clone();
    let event =
        confer_local::s3_events::object_created("b", &format!("uploads/acme/{}/{id}", c.session_id), PDF.len() as u64, "e", "127.0.0.1");
    let trigger = confer::inbound::trigger("attachments-verify").unwrap();
    let outcome = (trigger.handler)(stack.app.clone(), serde_json::from_value(event).unwrap()).await;
    assert!(outcome.failed.is_empty());
    assert_eq!(customer.messages(&c.session_id, "").await.expect(200)["items"].as_array().unwrap().len(), 1);
    let events = s.admin("acme", "boss").get("/v1/events?limit=100").await.expect(200);
    let ready = events["items"].as_array().unwrap().iter().filter(|e| e["event"]["type"] == "attachment.ready").count();
    assert_eq!(ready, 1);
    // Using the URL again only leaves a stray object, which the trigger removes.
    assert_eq!(put_upload(&ticket, PDF.to_vec()).await, 200);
    let stray = s.data_dir.join("blobs").join(format!("uploads/acme/{}/{id}", c.session_id));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while stray.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!stray.exists());
    assert_eq!(customer.messages(&c.session_id, "").await.expect(200)["items"].as_array().unwrap().len(), 1);
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= *b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}
