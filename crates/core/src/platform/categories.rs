//! Categories of a space (WIRE.md A.3): create, list (paged by name), get,
//! replace (renaming moves the things in it) and delete (the things in it
//! leave it). Things whose document changed are announced on the bus.

use serde_json::Value;

use super::Platform;
use crate::CoreError;
use crate::bus::{Change, RegistryKind};
use crate::ids::Tenant;
use crate::paging::{Direction, PageRequest};
use crate::things::category::check_category_name;
use crate::things::cursor::{self, KeyKind, KeyValue};
use crate::things::{Category, CategoryDraft};

/// A page of categories, by name, with the cursors around it.
pub type CategoryPage = crate::paging::CursorPage<Category>;

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
    /// 50, clamped to 1000) and `next_cursor` or `previous_cursor`.
    pub async fn list_categories(
        &self,
        tenant: &Tenant,
        pairs: &[(String, String)],
    ) -> Result<CategoryPage, CoreError> {
        let page = PageRequest::from_pairs(pairs)?;
        let name = match page.key(cursor::CATEGORIES, &[KeyKind::Text])?.as_deref() {
            None => None,
            Some([KeyValue::Text(name)]) => Some(name.clone()),
            Some(_) => return Err(cursor::malformed()),
        };
        let limit = page.limit() + 1;
        let rows = match (page.direction(), name) {
            (Some(Direction::Previous), Some(before)) => {
                self.store.list_categories_before(tenant, &before, limit).await?
            }
            (_, after) => self.store.list_categories(tenant, after.as_deref(), limit).await?,
        };
        Ok(CategoryPage::from_rows(rows, &page, cursor::CATEGORIES, |c| {
            vec![KeyValue::Text(c.name.clone())]
        }))
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
