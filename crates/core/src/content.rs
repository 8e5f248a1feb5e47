//! Content items (WIRE.md B.3 "Content"): folders, files, apps and url
//! items of an organization, arranged in a tree by `parent`, each with a
//! `path` (`/folder/sub/name`) unique in its organization. The bytes of a
//! file (and of each of its named variants) are a blob of the
//! [`crate::store::BlobStore`]; a record only names its blob.

use serde::{Deserialize, Serialize};

use crate::CoreError;

/// The kind of a content item (`subtype` on the wire).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Subtype {
    /// `scala:content:folder`: holds other items, has no bytes.
    Folder,
    /// `scala:content:file`: bytes, delivered at its path.
    File,
    /// `scala:content:app`: an app bundle's bytes, delivered like a file.
    App,
    /// `scala:content:url`: a link (`url`), no bytes.
    Url,
}

impl Subtype {
    /// Every subtype.
    pub const ALL: [Self; 4] = [Self::Folder, Self::File, Self::App, Self::Url];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Folder => "scala:content:folder",
            Self::File => "scala:content:file",
            Self::App => "scala:content:app",
            Self::Url => "scala:content:url",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Result<Self, CoreError> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| {
                CoreError::Invalid(format!(
                    "unknown content subtype {s:?}: use scala:content:folder, scala:content:file, scala:content:app or scala:content:url"
                ))
            })
    }

    /// Whether items of this kind carry bytes (files and apps).
    pub fn has_bytes(self) -> bool {
        matches!(self, Self::File | Self::App)
    }
}

/// The bytes of an item or of one of its variants: which blob, how many
/// bytes, and their media type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentData {
    /// The blob holding the bytes (internal; never on the wire).
    pub blob: String,
    /// Bytes.
    pub size: i64,
    /// Media type, e.g. `image/png`.
    #[serde(rename = "mimeType")]
    pub mime_type: String,
}

/// A named variant of an item (a thumbnail, another resolution).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentVariant {
    /// Its name, unique within the item.
    pub name: String,
    /// Its bytes.
    #[serde(flatten)]
    pub data: ContentData,
}

/// A content item as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRecord {
    /// uuid.
    pub uuid: String,
    /// Organization name.
    pub org: String,
    /// Name (the last segment of `path`).
    pub name: String,
    /// Kind.
    pub subtype: Subtype,
    /// The folder holding it; `None` at the root.
    pub parent: Option<String>,
    /// `/folder/sub/name`, unique in the organization.
    pub path: String,
    /// The link of a url item.
    pub url: Option<String>,
    /// The item's own bytes (files and apps, once uploaded).
    pub data: Option<ContentData>,
    /// Named variants, in upload order.
    pub variants: Vec<ContentVariant>,
    /// Free-form fields of the document (a JSON object).
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// Created (epoch ms).
    pub created_at: i64,
    /// Last changed (epoch ms).
    pub updated_at: i64,
}

impl ContentRecord {
    /// Every blob this record holds (its own bytes and its variants').
    pub fn blobs(&self) -> impl Iterator<Item = &str> {
        self.data
            .iter()
            .map(|d| d.blob.as_str())
            .chain(self.variants.iter().map(|v| v.data.blob.as_str()))
    }

    /// The bytes of `variant` (`None` or empty: the item's own).
    pub fn data_of(&self, variant: Option<&str>) -> Option<&ContentData> {
        match variant.filter(|v| !v.is_empty()) {
            None => self.data.as_ref(),
            Some(name) => self.variants.iter().find(|v| v.name == name).map(|v| &v.data),
        }
    }
}

/// A content item before it is stored (its uuid, path and times are set).
#[derive(Debug, Clone)]
pub struct NewContent {
    /// uuid.
    pub uuid: String,
    /// Name.
    pub name: String,
    /// Kind.
    pub subtype: Subtype,
    /// Parent folder.
    pub parent: Option<String>,
    /// Full path.
    pub path: String,
    /// Link of a url item.
    pub url: Option<String>,
    /// Free-form fields.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Which items a find returns: every filter given must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentQuery {
    /// Items of this kind.
    pub subtype: Option<Subtype>,
    /// Children of this folder (`Some(None)`: items at the root).
    pub parent: Option<Option<String>>,
    /// Items with this name.
    pub name: Option<String>,
    /// The item at this path.
    pub path: Option<String>,
    /// At most this many (the platform bounds it).
    pub limit: u32,
    /// Skipped first, in path order.
    pub skip: u32,
}

/// A page of a find: the items and how many match in all.
#[derive(Debug, Clone)]
pub struct ContentPage {
    /// This page, in path order.
    pub results: Vec<ContentRecord>,
    /// Items matching the filters, over every page.
    pub total: u64,
}

/// Longest name of an item, in bytes.
pub const MAX_NAME: usize = 255;
/// Longest path, in bytes.
pub const MAX_PATH: usize = 4096;
/// Longest variant name, in bytes.
pub const MAX_VARIANT_NAME: usize = 128;
/// Most variants one item keeps.
pub const MAX_VARIANTS: usize = 32;

/// Checks an item's (or a variant's) name: not empty, no `/`, no control
/// characters, not `.` or `..`, at most `max` bytes.
pub fn check_name(name: &str, what: &str, max: usize) -> Result<(), CoreError> {
    let bad = name.is_empty()
        || name.len() > max
        || name == "."
        || name == ".."
        || name.contains('/')
        || name.chars().any(char::is_control);
    if bad {
        return Err(CoreError::Invalid(format!(
            "invalid {what} {name:?}: use 1 to {max} bytes without '/' or control characters"
        )));
    }
    Ok(())
}

/// Checks a media type: `type/subtype` of visible ASCII, at most 255 bytes.
pub fn check_mime_type(mime: &str) -> Result<(), CoreError> {
    let ok = mime.len() <= 255
        && mime.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty())
        && mime.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if ok {
        Ok(())
    } else {
        Err(CoreError::Invalid(format!("invalid media type {mime:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtypes_round_trip_and_unknown_ones_are_refused() {
        for k in Subtype::ALL {
            assert_eq!(Subtype::parse(k.as_str()).unwrap(), k);
        }
        assert!(Subtype::parse("scala:content:nope").is_err());
    }

    #[test]
    fn names_without_slashes_or_dots_only() {
        check_name("a b.png", "name", MAX_NAME).unwrap();
        check_name("été", "name", MAX_NAME).unwrap();
        for bad in ["", ".", "..", "a/b", "a\nb"] {
            assert!(check_name(bad, "name", MAX_NAME).is_err(), "{bad:?}");
        }
        assert!(check_name(&"x".repeat(MAX_NAME + 1), "name", MAX_NAME).is_err());
    }

    #[test]
    fn an_empty_variant_name_means_the_original() {
        let data = |b: &str| ContentData {
            blob: b.into(),
            size: 1,
            mime_type: "text/plain".into(),
        };
        let r = ContentRecord {
            uuid: "u".into(),
            org: "o".into(),
            name: "n".into(),
            subtype: Subtype::File,
            parent: None,
            path: "/n".into(),
            url: None,
            data: Some(data("orig")),
            variants: vec![ContentVariant {
                name: "thumb".into(),
                data: data("small"),
            }],
            fields: Default::default(),
            created_at: 0,
            updated_at: 0,
        };
        assert_eq!(r.data_of(Some("")).unwrap().blob, "orig");
        assert_eq!(r.data_of(None).unwrap().blob, "orig");
        assert_eq!(r.data_of(Some("thumb")).unwrap().blob, "small");
        assert!(r.data_of(Some("big")).is_none());
        assert_eq!(r.blobs().collect::<Vec<_>>(), ["orig", "small"]);
    }
}

/// How both store backends keep a record's JSON columns (`data`,
/// `variants`, `fields` as text) and its subtype.
pub(crate) mod columns {
    use super::{ContentData, ContentVariant, Subtype};
    use crate::store::StoreError;

    fn corrupt(what: &str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Backend(format!("stored content {what} does not decode: {e}"))
    }

    pub(crate) fn subtype(s: &str) -> Result<Subtype, StoreError> {
        Subtype::parse(s).map_err(|e| corrupt("subtype", e))
    }

    pub(crate) fn data_to_text(d: Option<&ContentData>) -> Option<String> {
        d.map(|d| serde_json::to_string(d).unwrap_or_default())
    }

    pub(crate) fn data_from_text(s: Option<&str>) -> Result<Option<ContentData>, StoreError> {
        s.map(|s| serde_json::from_str(s).map_err(|e| corrupt("data", e)))
            .transpose()
    }

    pub(crate) fn variants_to_text(v: &[ContentVariant]) -> String {
        serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
    }

    pub(crate) fn variants_from_text(s: &str) -> Result<Vec<ContentVariant>, StoreError> {
        serde_json::from_str(s).map_err(|e| corrupt("variants", e))
    }

    pub(crate) fn fields_to_text(f: &serde_json::Map<String, serde_json::Value>) -> String {
        serde_json::to_string(f).unwrap_or_else(|_| "{}".into())
    }

    pub(crate) fn fields_from_text(s: &str) -> Result<serde_json::Map<String, serde_json::Value>, StoreError> {
        serde_json::from_str(s).map_err(|e| corrupt("fields", e))
    }

    /// Sets the bytes of the item or of a variant (added when new); returns
    /// the blob replaced.
    pub(crate) fn replace_data(
        data: &mut Option<ContentData>,
        variants: &mut Vec<ContentVariant>,
        variant: Option<&str>,
        new: ContentData,
    ) -> Option<String> {
        match variant {
            None => data.replace(new).map(|old| old.blob),
            Some(name) => match variants.iter_mut().find(|v| v.name == name) {
                Some(v) => Some(std::mem::replace(&mut v.data, new).blob),
                None => {
                    variants.push(ContentVariant {
                        name: name.to_owned(),
                        data: new,
                    });
                    None
                }
            },
        }
    }

    /// A blob id as both backends accept it: 1 to 64 of `[A-Za-z0-9-]`
    /// (it names a file on SQLite).
    pub(crate) fn check_blob_id(id: &str) -> Result<(), StoreError> {
        let ok = !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(StoreError::Backend(format!("invalid blob id {id:?}")))
        }
    }
}
