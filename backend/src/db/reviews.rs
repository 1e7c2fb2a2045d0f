//! Queries on `reviews` (the written part of a post-deployment review) and `complaints`.

use shared::metrics::Variant;
use shared::review::{Complaint, ComplaintCategory, WrittenReview};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::{Error, Result};

fn review_from_row(r: &AnyRow) -> Result<WrittenReview> {
    let follow_ups: String = r.try_get("follow_ups")?;
    Ok(WrittenReview {
        users_noticed: r.try_get("users_noticed")?,
        lessons: r.try_get("lessons")?,
        follow_ups: serde_json::from_str(&follow_ups)
            .map_err(|e| Error::internal(format!("stored follow_ups: {e}")))?,
        revision: r.try_get("revision")?,
        written_by: r.try_get("written_by")?,
        written_at: r.try_get("written_at")?,
    })
}

/// The written review of the change `change_id`, if any.
pub async fn find(conn: &mut AnyConnection, change_id: &str) -> Result<Option<WrittenReview>> {
    let row = sqlx::query(
        "SELECT users_noticed, lessons, follow_ups, revision, written_by, written_at \
         FROM reviews WHERE change_id = $1",
    )
    .bind(change_id)
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(review_from_row).transpose()
}

/// Writes revision `w.revision` of the review: inserts the first, or replaces revision
/// `w.revision - 1`. `false` when another write got there first (the revision moved on).
pub async fn write(conn: &mut AnyConnection, change_id: &str, w: &WrittenReview) -> Result<bool> {
    let follow_ups = serde_json::to_string(&w.follow_ups)
        .map_err(|e| Error::internal(format!("follow_ups: {e}")))?;
    let done = if w.revision == 1 {
        sqlx::query(
            "INSERT INTO reviews (change_id, users_noticed, lessons, follow_ups, revision, \
             written_by, written_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (change_id) DO NOTHING",
        )
        .bind(change_id)
        .bind(&w.users_noticed)
        .bind(&w.lessons)
        .bind(&follow_ups)
        .bind(w.revision)
        .bind(&w.written_by)
        .bind(&w.written_at)
        .execute(conn)
        .await?
    } else {
        sqlx::query(
            "UPDATE reviews SET users_noticed = $1, lessons = $2, follow_ups = $3, \
             revision = $4, written_by = $5, written_at = $6 \
             WHERE change_id = $7 AND revision = $8",
        )
        .bind(&w.users_noticed)
        .bind(&w.lessons)
        .bind(&follow_ups)
        .bind(w.revision)
        .bind(&w.written_by)
        .bind(&w.written_at)
        .bind(change_id)
        .bind(w.revision - 1)
        .execute(conn)
        .await?
    };
    Ok(done.rows_affected() == 1)
}

fn complaint_from_row(r: &AnyRow) -> Result<Complaint> {
    let category: String = r.try_get("category")?;
    Ok(Complaint {
        id: r.try_get("id")?,
        change_id: r.try_get("change_id")?,
        user_key: r.try_get("user_key")?,
        at: r.try_get("at")?,
        text: r.try_get("body")?,
        category: ComplaintCategory::parse(&category)
            .ok_or_else(|| Error::internal(format!("stored complaint category `{category}`")))?,
        variant: r.try_get("variant")?,
        recorded_by: r.try_get("recorded_by")?,
        recorded_at: r.try_get("recorded_at")?,
    })
}

/// The complaints against the change `change_id`, oldest first.
pub async fn complaints(conn: &mut AnyConnection, change_id: &str) -> Result<Vec<Complaint>> {
    let rows = sqlx::query(
        "SELECT id, change_id, user_key, at, body, category, variant, recorded_by, recorded_at \
         FROM complaints WHERE change_id = $1 ORDER BY at, id",
    )
    .bind(change_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(complaint_from_row).collect()
}

/// Complaints against the change `change_id` that happened in `[from, to]` (RFC 3339), per
/// variant the user had; complaints whose variant is unknown are left out.
pub async fn complaints_per_variant(
    conn: &mut AnyConnection,
    change_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<(Variant, u64)>> {
    let bound = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(super::timestamp)
            .map_err(|e| Error::internal(format!("summary bound {t}: {e}")))
    };
    let rows = sqlx::query(
        "SELECT variant, COUNT(*) AS n FROM complaints \
         WHERE change_id = $1 AND at >= $2 AND at <= $3 AND variant IS NOT NULL \
         GROUP BY variant",
    )
    .bind(change_id)
    .bind(bound(from)?)
    .bind(bound(to)?)
    .fetch_all(conn)
    .await?;
    let mut out = Vec::new();
    for r in &rows {
        let name: String = r.try_get("variant")?;
        let n: i64 = r.try_get("n")?;
        if let Some(v) = Variant::parse(&name) {
            out.push((v, u64::try_from(n).unwrap_or(0)));
        }
    }
    Ok(out)
}

pub async fn insert_complaint(conn: &mut AnyConnection, c: &Complaint) -> Result<()> {
    sqlx::query(
        "INSERT INTO complaints (id, change_id, user_key, at, body, category, variant, \
         recorded_by, recorded_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.id)
    .bind(&c.change_id)
    .bind(&c.user_key)
    .bind(&c.at)
    .bind(&c.text)
    .bind(c.category.as_str())
    .bind(c.variant.as_deref())
    .bind(&c.recorded_by)
    .bind(&c.recorded_at)
    .execute(conn)
    .await?;
    Ok(())
}
