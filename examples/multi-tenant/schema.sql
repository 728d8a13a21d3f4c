-- The application's tables, as its first migration would create them. Run as
-- the administrator through the gateway. The access spec (access.yaml) then
-- hands them to app_owner and says who may do what with them: pgwarden
-- grants on tables, it does not define them.
CREATE SCHEMA app;
CREATE TABLE app.tenants (
  id   text PRIMARY KEY,
  name text NOT NULL
);
CREATE TABLE app.invoices (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id   text    NOT NULL REFERENCES app.tenants (id),
  amount      numeric NOT NULL CHECK (amount >= 0),
  archived    boolean NOT NULL DEFAULT false,
  card_number text
);
-- A tenant session names its tenant in a setting (SET app.tenant = '…'),
-- which the policies read through this function.
CREATE FUNCTION app.current_tenant() RETURNS text
  LANGUAGE sql STABLE
  AS $$ SELECT current_setting('app.tenant', true) $$;
