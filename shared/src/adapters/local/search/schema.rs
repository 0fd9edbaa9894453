//! The local index's fields and its analyzer.

use tantivy::schema::{Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, INDEXED, STORED, STRING};
use tantivy::tokenizer::{AsciiFoldingFilter, LowerCaser, RemoveLongFilter, SimpleTokenizer, TextAnalyzer};

/// Words are split on what is not a letter or digit, lowercased and folded to ASCII, so `Café`
/// finds `cafe`; words over 40 bytes are left out.
pub const ANALYZER: &str = "confer";

pub fn analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .filter(AsciiFoldingFilter)
        .build()
}

#[derive(Clone, Copy)]
pub struct Fields {
    /// `<tenant>|<id>`.
    pub key: Field,
    /// `<tenant>|<source item key>`: what replaces and removes an item's documents.
    pub source: Field,
    pub id: Field,
    pub tenant: Field,
    /// `staff`, `customer:<id>`.
    pub readers: Field,
    pub kind: Field,
    pub customer: Field,
    pub session: Field,
    /// Lowercased, for the filter; `speaker_name` as written.
    pub speaker: Field,
    pub speaker_name: Field,
    /// Lowercased tag and its primary subtag (`es-es`, `es`); `language_tag` as written.
    pub language: Field,
    pub language_tag: Field,
    pub at: Field,
    pub title: Field,
    pub text: Field,
    pub link: Field,
}

pub fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default()
        .set_indexing_options(
            TextFieldIndexing::default().set_tokenizer(ANALYZER).set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
        .set_stored();
    let fields = Fields {
        key: b.add_text_field("key", STRING),
        source: b.add_text_field("source", STRING),
        id: b.add_text_field("id", STORED),
        tenant: b.add_text_field("tenant", STRING),
        readers: b.add_text_field("readers", STRING),
        kind: b.add_text_field("kind", STRING | STORED),
        customer: b.add_text_field("customer", STRING | STORED),
        session: b.add_text_field("session", STRING | STORED),
        speaker: b.add_text_field("speaker", STRING),
        speaker_name: b.add_text_field("speaker_name", STORED),
        language: b.add_text_field("language", STRING),
        language_tag: b.add_text_field("language_tag", STORED),
        at: b.add_i64_field("at", INDEXED | FAST | STORED),
        title: b.add_text_field("title", words.clone()),
        text: b.add_text_field("text", words),
        link: b.add_text_field("link", STORED),
    };
    (b.build(), fields)
}
