/**
 * Schema migrations of the control-plane state database, applied in order,
 * each once, each in its own transaction. Append only: never edit a migration
 * that has shipped; add the next number.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'parameter-changes',
    sql: `
      CREATE TABLE pgwarden.parameter_changes (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name             text        NOT NULL,
        old_value        text,
        new_value        text,
        restart_required boolean     NOT NULL,
        changed_at       timestamptz NOT NULL DEFAULT now(),
        changed_by       text        NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'gateway-firewall-and-settings',
    sql: `
      CREATE TABLE pgwarden.firewall_rules (
        name        text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$'),
        start_ip    inet        NOT NULL CHECK (masklen(start_ip) = CASE family(start_ip) WHEN 4 THEN 32 ELSE 128 END),
        end_ip      inet        NOT NULL CHECK (masklen(end_ip) = CASE family(end_ip) WHEN 4 THEN 32 ELSE 128 END),
        hit_count   bigint      NOT NULL DEFAULT 0,
        last_hit_at timestamptz,
        created_at  timestamptz NOT NULL DEFAULT now(),
        updated_at  timestamptz NOT NULL DEFAULT now(),
        CHECK (family(start_ip) = family(end_ip) AND start_ip <= end_ip)
      );
      -- Local use works out of the box: exactly the two loopback addresses.
      INSERT INTO pgwarden.firewall_rules (name, start_ip, end_ip) VALUES
        ('AllowLocalhostIPv4', '127.0.0.1', '127.0.0.1'),
        ('AllowLocalhostIPv6', '::1', '::1');
      CREATE TABLE pgwarden.gateway_settings (
        name       text        PRIMARY KEY,
        value      text        NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text        NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'audit-policy',
    sql: `
      CREATE TABLE pgwarden.audit_policy (
        scope      text        NOT NULL CHECK (scope IN ('default', 'role', 'database')),
        name       text        NOT NULL DEFAULT '',
        classes    text[]      NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now(),
        updated_by text        NOT NULL,
        PRIMARY KEY (scope, name),
        CHECK ((scope = 'default') = (name = ''))
      );
    `,
  },
  {
    version: 4,
    name: 'identity',
    sql: `
      CREATE TABLE pgwarden.identity_providers (
        name          text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
        issuer        text        NOT NULL UNIQUE CHECK (length(issuer) BETWEEN 1 AND 512),
        audiences     text[]      NOT NULL CHECK (cardinality(audiences) BETWEEN 1 AND 16),
        jwks_uri      text,
        jwks_file     text,
        subject_claim text        NOT NULL DEFAULT 'sub',
        groups_claim  text        NOT NULL DEFAULT 'groups',
        created_at    timestamptz NOT NULL DEFAULT now(),
        created_by    text        NOT NULL,
        CHECK ((jwks_uri IS NULL) <> (jwks_file IS NULL))
      );
      -- A principal maps an immutable id from a provider's tokens to a role.
      CREATE TABLE pgwarden.identity_principals (
        id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        provider   text        NOT NULL REFERENCES pgwarden.identity_providers (name),
        type       text        NOT NULL CHECK (type IN ('user', 'group', 'service')),
        subject    text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 256),
        role       text        NOT NULL CHECK (length(role) BETWEEN 1 AND 63),
        login_as   text        NOT NULL DEFAULT 'role' CHECK (login_as IN ('role', 'member')),
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text        NOT NULL,
        UNIQUE (provider, type, subject, role),
        CHECK (type = 'group' OR login_as = 'role')
      );
      -- Roles a principal maps to join this group; pg_hba.conf lets the gateway
      -- (which verified the token) open their sessions on the private socket.
      DO $$ BEGIN
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'pgwarden_token_login') THEN
          CREATE ROLE pgwarden_token_login NOLOGIN NOINHERIT;
        END IF;
      END $$;
      COMMENT ON ROLE pgwarden_token_login IS 'pgwarden: roles the gateway opens sessions for after a token login';
    `,
  },
  {
    version: 5,
    name: 'conditional-access',
    sql: `
      -- One row per policy; the document is validated by validatePolicy before it is stored.
      CREATE TABLE pgwarden.access_policies (
        name       text        PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$'),
        policy     jsonb       NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        created_by text        NOT NULL
      );
    `,
  },
  {
    version: 6,
    name: 'just-in-time-access',
    sql: `
      -- A request for a time-boxed role membership, from request to expiry (ADR 12).
      -- Roles are kept by oid as well as by name: a rename must not break the
      -- revoke, and a role dropped and re-created under the same name is another role.
      CREATE TABLE pgwarden.access_requests (
        id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        requester        text        NOT NULL CHECK (length(requester) BETWEEN 1 AND 63),
        requester_oid    oid         NOT NULL,
        role             text        NOT NULL CHECK (length(role) BETWEEN 1 AND 63),
        role_oid         oid         NOT NULL,
        duration_minutes integer     NOT NULL CHECK (duration_minutes BETWEEN 1 AND 10080),
        reason           text        NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
        status           text        NOT NULL DEFAULT 'pending'
                                     CHECK (status IN ('pending', 'denied', 'granted', 'expired')),
        requested_at     timestamptz NOT NULL DEFAULT now(),
        decided_by       text,
        decided_at       timestamptz,
        decision_reason  text        CHECK (length(decision_reason) BETWEEN 1 AND 500),
        granted_at       timestamptz,
        expires_at       timestamptz,
        -- The requester held the role before the grant: nothing was granted, nothing is revoked.
        preexisting      boolean,
        revoked_at       timestamptz,
        CHECK ((status = 'pending') = (decided_by IS NULL)),
        CHECK ((status IN ('granted', 'expired')) = (expires_at IS NOT NULL))
      );
      CREATE INDEX access_requests_active ON pgwarden.access_requests (expires_at)
        WHERE status = 'granted';
      -- Outbox: the CLI writes each step here in the step's own transaction; the
      -- gateway's sweeper turns them into security events (events file and audit log).
      CREATE TABLE pgwarden.access_events (
        id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event       text        NOT NULL CHECK (event LIKE 'access.%'),
        request_id  bigint      REFERENCES pgwarden.access_requests (id),
        actor       text        NOT NULL,
        detail      text        NOT NULL,
        access      jsonb       NOT NULL,
        occurred_at timestamptz NOT NULL DEFAULT now(),
        recorded_at timestamptz
      );
      CREATE INDEX access_events_unrecorded ON pgwarden.access_events (id)
        WHERE recorded_at IS NULL;
    `,
  },
  {
    version: 7,
    name: 'identity-required-claims',
    sql: `
      ALTER TABLE pgwarden.identity_providers
        ADD COLUMN required_claims text[] NOT NULL DEFAULT '{}' CHECK (cardinality(required_claims) <= 16);
    `,
  },
  {
    version: 8,
    name: 'password-history',
    sql: `
      -- The last N SCRAM verifiers per role (N = passwords.historySize), never a
      -- plaintext: a new password is compared by recomputing each proof.
      CREATE TABLE pgwarden.password_history (
        role     text        NOT NULL CHECK (length(role) BETWEEN 1 AND 63),
        verifier text        NOT NULL CHECK (verifier LIKE 'SCRAM-SHA-256$%'),
        set_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX password_history_role ON pgwarden.password_history (role, set_at DESC);
    `,
  },
  {
    version: 9,
    name: 'access-specs',
    sql: `
      -- Every access spec applied, as validated: \`access drift\` compares the
      -- live catalog with the latest one per database (docs/access-spec.md).
      CREATE TABLE pgwarden.access_specs (
        id          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        database    text        NOT NULL CHECK (length(database) BETWEEN 1 AND 63),
        spec        jsonb       NOT NULL,
        source      text        NOT NULL,
        fingerprint text        NOT NULL,
        statements  integer     NOT NULL CHECK (statements >= 0),
        applied_by  text        NOT NULL,
        applied_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX access_specs_database ON pgwarden.access_specs (database, id DESC);
    `,
  },
  {
    version: 10,
    name: 'threat-detection',
    sql: `
      -- Alerts (docs/detection.md): one row per type and key while not
      -- resolved, with a count, instead of one row per event.
      CREATE TABLE pgwarden.alerts (
        id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        type            text        NOT NULL CHECK (length(type) BETWEEN 1 AND 100),
        severity        text        NOT NULL CHECK (severity IN ('low', 'medium', 'high', 'critical')),
        dedup_key       text        NOT NULL CHECK (length(dedup_key) <= 500),
        status          text        NOT NULL DEFAULT 'new'
                                    CHECK (status IN ('new', 'acknowledged', 'resolved')),
        summary         text        NOT NULL,
        subject         jsonb       NOT NULL DEFAULT '{}',
        evidence        jsonb       NOT NULL DEFAULT '[]',
        count           bigint      NOT NULL DEFAULT 1 CHECK (count >= 1),
        first_seen      timestamptz NOT NULL DEFAULT now(),
        last_seen       timestamptz NOT NULL DEFAULT now(),
        acknowledged_by text,
        acknowledged_at timestamptz,
        resolved_by     text,
        resolved_at     timestamptz
      );
      CREATE UNIQUE INDEX alerts_open ON pgwarden.alerts (type, dedup_key) WHERE status <> 'resolved';
      CREATE INDEX alerts_recent ON pgwarden.alerts (last_seen DESC);
      -- What is usual, learned from logins and kept across restarts: a role's
      -- networks, countries, providers; its last login; rows per session.
      CREATE TABLE pgwarden.detection_baselines (
        kind       text        NOT NULL CHECK (length(kind) BETWEEN 1 AND 40),
        subject    text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
        value      text        NOT NULL DEFAULT '',
        number     double precision,
        first_seen timestamptz NOT NULL DEFAULT now(),
        last_seen  timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (kind, subject, value)
      );
      -- Planted or marked rows whose values no one should ever read.
      CREATE TABLE pgwarden.honeytokens (
        id         bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        database   text        NOT NULL,
        table_name text        NOT NULL,
        selector   text        NOT NULL,
        marker     text        NOT NULL CHECK (length(marker) BETWEEN 8 AND 200),
        created_by text        NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];
