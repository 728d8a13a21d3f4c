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
];
