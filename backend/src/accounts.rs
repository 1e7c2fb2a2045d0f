//! Accounts outside HTTP: password hashing, creating users (the API, `rollgate user add` and
//! the demo all go through [`create_user`]), and the demo's people.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use shared::auth::{self, DemoUser, NewUser, Role, User};
use sqlx::{Any, AnyConnection, AnyPool, Executor};

use crate::db::{self, audit::Record, audit::Who};
use crate::error::{Error, Result};

/// Argon2id with chosen costs. Hashes carry their parameters, so raising the cost later
/// still verifies old hashes.
#[derive(Clone)]
pub struct Passwords {
    params: Params,
    /// Argon2 runs on the blocking pool and each run holds its memory cost (19 MiB); without
    /// a bound, a flood of sign-ins could hold gigabytes. Callers queue for a permit instead.
    permits: std::sync::Arc<tokio::sync::Semaphore>,
    /// A hash of a random password, verified against when the e-mail is unknown so that an
    /// unknown account costs the same time as a wrong password.
    dummy: String,
}

impl Passwords {
    /// OWASP's first recommended Argon2id setting: 19 MiB, 2 passes, 1 lane.
    pub fn production() -> Self {
        Self::with_params(Params::new(19 * 1024, 2, 1, None).expect("valid Argon2 parameters"))
    }

    /// The smallest legal costs, for tests only: they hash thousands of passwords in debug
    /// builds. Never used by the binary.
    pub fn cheap_for_tests() -> Self {
        Self::with_params(Params::new(8, 1, 1, None).expect("valid Argon2 parameters"))
    }

    fn with_params(params: Params) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let mut p = Passwords {
            params,
            permits: std::sync::Arc::new(tokio::sync::Semaphore::new(cores)),
            dummy: String::new(),
        };
        let random = db::tokens::random_token().unwrap_or_else(|_| "dummy-password".into());
        p.dummy = p.hash_now(&random).unwrap_or_default();
        p
    }

    fn argon2(&self) -> Argon2<'static> {
        Argon2::new(Algorithm::Argon2id, Version::V0x13, self.params.clone())
    }

    fn hash_now(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        getrandom::getrandom(&mut salt)
            .map_err(|e| Error::internal(format!("the OS random generator failed: {e}")))?;
        let salt = SaltString::encode_b64(&salt)
            .map_err(|e| Error::internal(format!("cannot encode a salt: {e}")))?;
        Ok(self
            .argon2()
            .hash_password(password.as_bytes(), &salt)
            .map_err(|e| Error::internal(format!("cannot hash a password: {e}")))?
            .to_string())
    }

    /// Hashes off the async runtime: Argon2 is deliberately slow.
    pub async fn hash(&self, password: &str) -> Result<String> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|e| Error::internal(format!("password permits closed: {e}")))?;
        let me = self.clone();
        let password = password.to_owned();
        tokio::task::spawn_blocking(move || me.hash_now(&password))
            .await
            .map_err(|e| Error::internal(format!("password hashing task failed: {e}")))?
    }

    /// Whether `password` matches `hash`; with `None` (no such account) the dummy hash is
    /// checked instead and the answer is always false.
    pub async fn verify(&self, password: &str, hash: Option<&str>) -> bool {
        let known = hash.is_some();
        let hash = hash.unwrap_or(&self.dummy).to_owned();
        let password = password.to_owned();
        let Ok(_permit) = self.permits.acquire().await else {
            return false;
        };
        let me = self.clone();
        let ok = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&hash)
                .map(|parsed| {
                    me.argon2()
                        .verify_password(password.as_bytes(), &parsed)
                        .is_ok()
                })
                .unwrap_or(false)
        })
        .await
        .unwrap_or(false);
        ok && known
    }
}

/// Creates a user after checking every field; the audit row goes in the same transaction.
/// A taken e-mail (any case) is 409.
pub async fn create_user(
    pool: &AnyPool,
    passwords: &Passwords,
    new: &NewUser,
    who: &Who,
) -> Result<User> {
    check_new_user(pool, new).await?;
    // Hashed before the transaction: Argon2 takes tens of milliseconds, and SQLite's write
    // lock is held from the start of a transaction.
    let hash = passwords.hash(&new.password).await?;
    let mut tx = db::begin(pool).await?;
    let user = insert_user(&mut tx, new, &hash, who).await?;
    tx.commit().await?;
    Ok(user)
}

/// [`create_user`] on the caller's transaction.
pub async fn create_user_in(
    conn: &mut AnyConnection,
    passwords: &Passwords,
    new: &NewUser,
    who: &Who,
) -> Result<User> {
    check_new_user(&mut *conn, new).await?;
    let hash = passwords.hash(&new.password).await?;
    insert_user(conn, new, &hash, who).await
}

async fn check_new_user<'e>(db: impl Executor<'e, Database = Any>, new: &NewUser) -> Result<()> {
    auth::validate_new_user(new)?;
    if db::users::email_taken(db, &new.email).await? {
        return Err(Error::conflict(format!(
            "an account with the e-mail {} already exists",
            new.email.trim()
        )));
    }
    Ok(())
}

/// The user's row and its audit row.
async fn insert_user(
    conn: &mut AnyConnection,
    new: &NewUser,
    hash: &str,
    who: &Who,
) -> Result<User> {
    let at = db::now();
    let user = db::users::create(&mut *conn, &new.email, &new.name, &new.roles, hash, &at).await?;
    db::audit::append(
        conn,
        &Record::new(who, "user.create", "user", Some(&user.id), &at).after(&user),
    )
    .await?;
    Ok(user)
}

/// The one password of every demo account; shown on the demo's login page.
pub const DEMO_PASSWORD: &str = "rollgate-demo-password";

/// The demo's people: one per role, and a second approver so a high-risk change can reach
/// 100 %.
pub fn demo_users() -> Vec<DemoUser> {
    let u = |email: &str, name: &str, roles: &[Role]| DemoUser {
        email: email.to_owned(),
        name: name.to_owned(),
        roles: roles.to_vec(),
    };
    vec![
        u("admin@demo.rollgate", "Ada Admin", &[Role::Admin]),
        u(
            "erin.engineer@demo.rollgate",
            "Erin Engineer",
            &[Role::Engineer],
        ),
        u("pat.pm@demo.rollgate", "Pat PM", &[Role::Pm]),
        u("sam.support@demo.rollgate", "Sam Support", &[Role::Support]),
        u(
            "alex.approver@demo.rollgate",
            "Alex Approver",
            &[Role::Approver],
        ),
        u(
            "jordan.approver@demo.rollgate",
            "Jordan Approver",
            &[Role::Approver],
        ),
    ]
}

/// Creates the demo accounts that do not exist yet, on the caller's transaction. Returns them
/// all, in [`demo_users`] order.
pub async fn seed_demo_users(conn: &mut AnyConnection, passwords: &Passwords) -> Result<Vec<User>> {
    let mut out = Vec::new();
    for d in demo_users() {
        if !db::users::email_taken(&mut *conn, &d.email).await? {
            let new = NewUser {
                email: d.email.clone(),
                name: d.name.clone(),
                roles: d.roles.clone(),
                password: DEMO_PASSWORD.to_owned(),
            };
            create_user_in(conn, passwords, &new, &Who::system()).await?;
        }
        let user = db::users::credentials(&mut *conn, &d.email)
            .await?
            .ok_or_else(|| Error::internal("a demo user vanished"))?
            .user;
        out.push(user);
    }
    Ok(out)
}

/// Days a session's row is kept after it ended (expired or signed out), for the record.
pub const ENDED_SESSION_DAYS: i64 = 30;
/// Hours a failed sign-in is kept; only the last few minutes count towards the limits.
pub const FAILED_SIGN_IN_HOURS: i64 = 24;

/// Removes what sign-in leaves behind once it no longer matters: sessions that ended over
/// [`ENDED_SESSION_DAYS`] ago and failures older than [`FAILED_SIGN_IN_HOURS`]. Answers how
/// many sessions and failures went.
pub async fn purge_stale(pool: &AnyPool, now: time::OffsetDateTime) -> Result<(u64, u64)> {
    let ended_before = db::timestamp(now - time::Duration::days(ENDED_SESSION_DAYS));
    let failures_before = db::timestamp(now - time::Duration::hours(FAILED_SIGN_IN_HOURS));
    Ok(db::users::purge(pool, &ended_before, &failures_before).await?)
}

/// Runs [`purge_stale`] at start and then every hour until `stopped` turns true.
pub fn spawn_housekeeping(
    pool: AnyPool,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            match purge_stale(&pool, time::OffsetDateTime::now_utc()).await {
                Ok((0, 0)) => {}
                Ok((sessions, failures)) => {
                    tracing::info!(
                        sessions,
                        failures,
                        "purged ended sessions and old sign-in failures"
                    );
                }
                Err(e) => tracing::warn!(error = %e, "could not purge old sessions"),
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(3600)) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    })
}

/// Renames a user, sets their roles and disables or enables them, recorded in the audit log.
/// Nobody disables themselves or drops their own admin role: an admin asks another.
pub async fn update_user(
    pool: &AnyPool,
    actor: &crate::app::Actor,
    id: &str,
    edit: &auth::UserUpdate,
) -> Result<User> {
    let before = db::users::find(pool, id)
        .await?
        .ok_or_else(|| Error::not_found("user"))?;
    auth::validate_user_update(edit)?;
    if id == actor.user.id && (edit.disabled || !edit.roles.contains(&Role::Admin)) {
        return Err(Error::conflict(
            "you cannot disable yourself or drop your own admin role; ask another admin",
        ));
    }
    let at = db::now();
    let mut tx = db::begin(pool).await?;
    if !db::users::update(&mut tx, id, &edit.name, &edit.roles, edit.disabled, &at).await? {
        return Err(Error::not_found("user"));
    }
    let after = User {
        name: edit.name.trim().to_owned(),
        roles: edit.roles.clone(),
        disabled: edit.disabled,
        ..before.clone()
    };
    db::audit::append(
        &mut tx,
        &Record::new(&actor.who(), "user.update", "user", Some(id), &at)
            .before(&before)
            .after(&after),
    )
    .await?;
    tx.commit().await?;
    Ok(after)
}
