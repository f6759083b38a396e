-- 0014: web console sessions, by the SHA-256 of the session id (the id
-- itself is never stored), so that they survive a restart and are shared
-- by every instance on one store.
CREATE TABLE console_sessions (
    key        TEXT PRIMARY KEY,
    token_id   TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    seen_at    INTEGER NOT NULL
);
CREATE INDEX console_sessions_seen ON console_sessions (seen_at);
