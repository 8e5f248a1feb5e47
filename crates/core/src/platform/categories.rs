//! Categories of a space (WIRE.md A.3): create, list (paged by name), get,
//! replace (renaming moves the things in it) and delete (the things in it
//! leave it). Things whose document changed are announced on the bus.

use serde_json::Value;

use super::Platform;
use crate::CoreError;
use crate::bus::{Change, RegistryKind};
use crate::ids::Tenant;
use crate::things::category::check_category_name;
use crate::things::cursor::{self, DEFAULT_LIMIT, KeyKind, KeyValue, parse_limit};
use crate::things::{Category, CategoryDraft};

/// A page of categories.
#[derive(Debug, Clone)]
pub struct CategoryPage {
    /// The categories, by name.
    pub items: Vec<Category>,
    /// `paging.next_cursor`: `None` on the last page.
    pub next_cursor: Option<String>,
}

impl Platform {
    /// Creates a category from `{name, description, model?}`; `Conflict`
    /// when the space has one of that name.
    pub async fn create_category(&self, tenant: &Tenant, body: &Value) -> Result<Category, CoreError> {
        let draft = CategoryDraft::from_json(body)?;
        Ok(self.store.create_category(tenant, &draft).await?)
    }

    /// Reads a category; `NotFound` when the space has none of that name.
    pub async fn category(&self, tenant: &Tenant, name: &str) -> Result<Category, CoreError> {
        check_category_name(name).map_err(|_| not_found(name))?;
        self.store.category(tenant, name).await?.ok_or_else(|| not_found(name))
    }

    /// A page of categories by name, from the query pairs `limit` (default
    /// 50, clamped to 1000) and `next_cursor`.
    pub async fn list_categories(
        &self,
        tenant: &Tenant,
        pairs: &[(String, String)],
    ) -> Result<CategoryPage, CoreError> {
        let mut limit = DEFAULT_LIMIT;
        let mut after = None;
        for (k, v) in pairs {
            match k.as_str() {
                "limit" => limit = parse_limit(v)?,
                "next_cursor" if !v.is_empty() => {
                    match cursor::decode(cursor::CATEGORIES, v, &[KeyKind::Text])?.pop() {
                        Some(KeyValue::Text(name)) => after = Some(name),
                        _ => return Err(CoreError::Invalid("next_cursor is not a cursor of this list".into())),
                    }
                }
                _ => {}
            }
        }
        let mut items = self.store.list_categories(tenant, after.as_deref(), limit + 1).await?;
        let more = items.len() > limit as usize;
        items.truncate(limit as usize);
        let next_cursor = if more {
            items
                .last()
                .map(|c| cursor::encode(cursor::CATEGORIES, &[KeyValue::Text(c.name.clone())]))
        } else {
            None
        };
        Ok(CategoryPage { items, next_cursor })
    }

    /// Replaces category `name` with `body`; a new name renames it (and the
    /// things in it follow). `NotFound`, or `Conflict` when the new name is taken.
    pub async fn update_category(&self, tenant: &Tenant, name: &str, body: &Value) -> Result<Category, CoreError> {
        check_category_name(name).map_err(|_| not_found(name))?;
        let draft = CategoryDraft::from_json(body)?;
        let (category, moved) = self.store.update_category(tenant, name, &draft).await?;
        self.things_changed(tenant, &moved).await;
        Ok(category)
    }

    /// Deletes a category; the things in it stay, outside it.
    pub async fn delete_category(&self, tenant: &Tenant, name: &str) -> Result<(), CoreError> {
        check_category_name(name).map_err(|_| not_found(name))?;
        let moved = self.store.delete_category(tenant, name).await?;
        self.things_changed(tenant, &moved).await;
        Ok(())
    }

    pub(crate) async fn things_changed(&self, tenant: &Tenant, uids: &[String]) {
        for uid in uids {
            self.changed(tenant.name(), RegistryKind::Thing, uid, Change::Updated)
                .await;
        }
    }
}

fn not_found(name: &str) -> CoreError {
    CoreError::NotFound(format!("category {name}"))
}
