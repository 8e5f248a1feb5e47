//! A content record as the EXP document exp-sdk reads.

use serde_json::{Value, json};
use thingstead_core::content::ContentRecord;
use thingstead_core::records::rfc3339;

/// Keys the platform sets; a client's free-form fields never override them.
pub(super) const RESERVED: &[&str] = &[
    "uuid",
    "name",
    "subtype",
    "parent",
    "path",
    "url",
    "variants",
    "size",
    "mimeType",
    "createdAt",
    "updatedAt",
    "organization",
];

/// The document of a record.
pub(super) fn document(r: &ContentRecord) -> Value {
    let mut doc = r.fields.clone();
    let variants: Vec<Value> = r
        .variants
        .iter()
        .map(|v| json!({ "name": v.name, "size": v.data.size, "mimeType": v.data.mime_type }))
        .collect();
    let set = [
        ("uuid", json!(r.uuid)),
        ("name", json!(r.name)),
        ("subtype", json!(r.subtype.as_str())),
        ("parent", json!(r.parent)),
        ("path", json!(r.path)),
        ("url", json!(r.url)),
        ("variants", json!(variants)),
        ("organization", json!(r.org)),
        ("createdAt", json!(rfc3339::format(r.created_at))),
        ("updatedAt", json!(rfc3339::format(r.updated_at))),
    ];
    for (k, v) in set {
        doc.insert(k.into(), v);
    }
    if let Some(d) = &r.data {
        doc.insert("size".into(), json!(d.size));
        doc.insert("mimeType".into(), json!(d.mime_type));
    }
    Value::Object(doc)
}
