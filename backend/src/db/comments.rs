//! Queries on `comments`, `comment_mentions` and `comment_deliveries`: writing a comment with
//! its mentions and their webhook deliveries in one transaction, reading a change's discussion
//! and a team's mentions, and the delivery worker's claim and outcomes.

use shared::comments::Comment;
use shared::notices::Audience;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Result;

/// A team as a mention resolves it: id, name, and where its webhook posts.
#[derive(Debug, Clone)]
pub struct MentionTarget {
    pub id: String,
    pub name: String,
    pub webhook_url: Option<String>,
}

/// Every team, for resolving `@slug` mentions (there are a handful).
pub async fn teams(conn: &mut AnyConnection) -> Result<Vec<MentionTarget>> {
    let rows = sqlx::query("SELECT id, name, webhook_url FROM teams ORDER BY name, id")
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|r| {
            Ok(MentionTarget {
                id: r.try_get("id")?,
                name: r.try_get("name")?,
                webhook_url: r.try_get("webhook_url")?,
            })
        })
        .collect()
}

/// Writes `c` (author `author_id`) and its mentions. Call inside a transaction.
pub async fn insert(
    conn: &mut AnyConnection,
    c: &Comment,
    author_id: &str,
    mentioned: &[MentionTarget],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO comments (id, change_id, author_id, created_at, body) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&c.id)
    .bind(&c.change_id)
    .bind(author_id)
    .bind(&c.created_at)
    .bind(&c.text)
    .execute(&mut *conn)
    .await?;
    for t in mentioned {
        sqlx::query("INSERT INTO comment_mentions (comment_id, team_id) VALUES ($1, $2)")
            .bind(&c.id)
            .bind(&t.id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

const SELECT: &str = "SELECT c.id, c.change_id, ch.title, u.name AS author_name, \
     u.email AS author_email, c.created_at, c.body \
     FROM comments c JOIN changes ch ON ch.id = c.change_id JOIN users u ON u.id = c.author_id";

fn from_row(r: &AnyRow) -> Result<Comment> {
    Ok(Comment {
        id: r.try_get("id")?,
        change_id: r.try_get("change_id")?,
        change_title: r.try_get("title")?,
        author_name: r.try_get("author_name")?,
        author_email: r.try_get("author_email")?,
        created_at: r.try_get("created_at")?,
        text: r.try_get("body")?,
        mentions: Vec::new(),
    })
}

/// Fills in the mentioned teams of `comments`.
async fn with_mentions(conn: &mut AnyConnection, comments: &mut [Comment]) -> Result<()> {
    for c in comments.iter_mut() {
        let rows = sqlx::query(
            "SELECT t.id, t.name FROM comment_mentions m JOIN teams t ON t.id = m.team_id \
             WHERE m.comment_id = $1 ORDER BY t.name, t.id",
        )
        .bind(&c.id)
        .fetch_all(&mut *conn)
        .await?;
        c.mentions = rows
            .iter()
            .map(|r| {
                Ok(Audience {
                    team_id: r.try_get("id")?,
                    team_name: r.try_get("name")?,
                })
            })
            .collect::<Result<_>>()?;
    }
    Ok(())
}

/// The discussion on change `change_id`, oldest first.
pub async fn for_change(conn: &mut AnyConnection, change_id: &str) -> Result<Vec<Comment>> {
    let sql = format!("{SELECT} WHERE c.change_id = $1 ORDER BY c.created_at, c.id");
    let rows = sqlx::query(&sql)
        .bind(change_id)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_mentions(conn, &mut out).await?;
    Ok(out)
}

/// The comment `id`, if it exists.
pub async fn find(conn: &mut AnyConnection, id: &str) -> Result<Option<Comment>> {
    let sql = format!("{SELECT} WHERE c.id = $1");
    let row = sqlx::query(&sql)
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let mut one = [from_row(&row)?];
    with_mentions(conn, &mut one).await?;
    let [c] = one;
    Ok(Some(c))
}

/// Comments since `since` that mention a team `user_id` belongs to, newest first, at most
/// `limit`.
pub async fn mentioning_teams_of(
    conn: &mut AnyConnection,
    user_id: &str,
    since: &str,
    limit: i64,
) -> Result<Vec<Comment>> {
    let sql = format!(
        "{SELECT} WHERE c.created_at >= $1 AND c.id IN (SELECT m.comment_id FROM \
         comment_mentions m JOIN team_members tm ON tm.team_id = m.team_id \
         WHERE tm.user_id = $2) ORDER BY c.created_at DESC, c.id DESC LIMIT $3"
    );
    let rows = sqlx::query(&sql)
        .bind(since)
        .bind(user_id)
        .bind(limit)
        .fetch_all(&mut *conn)
        .await?;
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    with_mentions(conn, &mut out).await?;
    Ok(out)
}
