-- 0005_web_sessions: signed-in browser sessions of the dashboard (/ui).
-- A row is created when an access key and secret key are exchanged for a
-- cookie; only the SHA-256 of the cookie's token is kept, so a copy of this
-- table opens no session. Expiry slides with use (expires_at) up to a hard
-- limit (hard_expires_at); deleting the keypair ends its sessions.

CREATE TABLE web_sessions (
  token_hash      text PRIMARY KEY,          -- hex SHA-256 of the cookie token
  access_key      char(20) NOT NULL REFERENCES keypairs (access_key) ON DELETE CASCADE,
  csrf_token      text NOT NULL,             -- sent back in forms and X-CSRF-Token
  user_agent      text,
  created_at      timestamptz NOT NULL DEFAULT now(),
  last_seen_at    timestamptz NOT NULL DEFAULT now(),
  expires_at      timestamptz NOT NULL,
  hard_expires_at timestamptz NOT NULL
);
CREATE INDEX web_sessions_expires ON web_sessions (expires_at);
CREATE INDEX web_sessions_access_key ON web_sessions (access_key);
