//! The bus between server instances on one PostgreSQL database: `NOTIFY koers` to publish,
//! one `LISTEN koers` connection per instance to hear.

use std::time::Duration;

use koers_database::bus::BUS_BUFFER;
use koers_database::{Bus, DatabaseError, DbFuture, Notice};
use sqlx::postgres::{PgListener, PgPool, PgPoolOptions};
use tokio::sync::broadcast;
use tokio::task::AbortHandle;

use crate::{map_error, PostgresDatabase};

/// The channel every Koers instance of a database listens on.
pub const CHANNEL: &str = "koers";

/// The first wait before connecting again after the listening connection was lost; it doubles
/// up to [`MAX_BACKOFF`] while PostgreSQL stays away.
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(2);
/// After this long without a notice the listening connection is checked with a query, so that a
/// connection that died silently (a network that dropped it without a reset) is found out.
const QUIET_CHECK: Duration = Duration::from_secs(30);
const CHECK_TIMEOUT: Duration = Duration::from_secs(5);

/// [`Bus`] over PostgreSQL's `LISTEN/NOTIFY`. [`Bus::publish`] sends `pg_notify('koers', …)`
/// through the database's pool; a background task holds one listening connection and hands what
/// it hears to [`Bus::subscribe`]rs. When that connection is lost the task connects again (200 ms,
/// 400 ms, … 2 s apart) and, once it listens again, delivers [`Notice::Resync`]: notices sent in
/// between are lost, so every stream checks its plan again.
///
/// Dropping the bus stops the task and closes its connection.
pub struct PostgresBus {
    pool: PgPool,
    sender: broadcast::Sender<Notice>,
    relay: AbortHandle,
}

impl std::fmt::Debug for PostgresBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresBus")
            .field("subscribers", &self.sender.receiver_count())
            .finish_non_exhaustive()
    }
}

impl PostgresBus {
    /// Starts listening on `db`'s database. Returns once the listening connection is up, so a
    /// subscriber hears every notice published after this returns. Must be called within a
    /// tokio runtime (the relay runs as a task of it).
    pub async fn start(db: &PostgresDatabase) -> Result<Self, DatabaseError> {
        let pool = db.pool().clone();
        // A pool of one, of its own, for the listening connection: it is held for as long as the
        // bus lives, and the pool connects it again after a loss (with the same options).
        let listen_pool = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(pool.options().get_acquire_timeout())
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with((*pool.connect_options()).clone());
        let listener = listen(&listen_pool).await.map_err(map_error)?;
        let (sender, _) = broadcast::channel(BUS_BUFFER);
        let relay = tokio::spawn(relay(listen_pool, listener, sender.clone())).abort_handle();
        Ok(PostgresBus {
            pool,
            sender,
            relay,
        })
    }
}

impl Drop for PostgresBus {
    fn drop(&mut self) {
        self.relay.abort();
    }
}

impl Bus for PostgresBus {
    fn publish(&self, notice: Notice) -> DbFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(notice.encode())
                .execute(&self.pool)
                .await
                .map_err(map_error)?;
            Ok(())
        })
    }

    fn subscribe(&self) -> broadcast::Receiver<Notice> {
        self.sender.subscribe()
    }
}

/// A listening connection. `eager_reconnect(false)`: a lost connection is reported at once
/// (`Ok(None)`), and [`relay`] reconnects itself, so that it knows when to send `Resync`.
async fn listen(pool: &PgPool) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect_with(pool).await?;
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

/// The background task: relays notices until the connection is lost, then connects again and
/// delivers `Resync`. Never returns (it ends when the bus aborts it).
async fn relay(pool: PgPool, mut listener: PgListener, sender: broadcast::Sender<Notice>) {
    loop {
        let lost = hear(&mut listener, &sender).await;
        tracing::warn!(reason = %lost, "the PostgreSQL bus lost its listening connection");
        drop(listener);
        let mut backoff = MIN_BACKOFF;
        let mut attempts = 0u32;
        listener = loop {
            match listen(&pool).await {
                Ok(listener) => break listener,
                Err(err) => {
                    attempts += 1;
                    tracing::debug!(%err, attempts, "the PostgreSQL bus cannot listen yet");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
            }
        };
        tracing::info!(
            attempts,
            "the PostgreSQL bus listens again; telling streams to resync"
        );
        // No subscriber is fine: nobody follows any plan.
        let _ = sender.send(Notice::Resync);
    }
}

/// Hands every notice heard to `sender` until the connection is lost; returns why.
async fn hear(listener: &mut PgListener, sender: &broadcast::Sender<Notice>) -> String {
    loop {
        // try_recv waits on a buffered read that only consumes whole messages, so giving up on
        // it after QUIET_CHECK loses nothing.
        match tokio::time::timeout(QUIET_CHECK, listener.try_recv()).await {
            Ok(Ok(Some(notification))) => match Notice::decode(notification.payload()) {
                Some(notice) => {
                    let _ = sender.send(notice);
                }
                None => tracing::debug!(
                    payload = notification.payload(),
                    "ignored a notice this build cannot read"
                ),
            },
            Ok(Ok(None)) => return "the connection was closed".to_owned(),
            Ok(Err(err)) => return err.to_string(),
            Err(_quiet) => {
                let check = sqlx::query("SELECT 1").execute(&mut *listener);
                match tokio::time::timeout(CHECK_TIMEOUT, check).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(err)) => return err.to_string(),
                    Err(_) => return format!("no answer to a check within {CHECK_TIMEOUT:?}"),
                }
            }
        }
    }
}
