/**
 * Field type bytes of ErrorResponse and NoticeResponse (PostgreSQL docs 55.8
 * "Error and Notice Message Fields").
 */
export const ErrorField = {
  SEVERITY: 'S',
  /** The severity, never localised (PostgreSQL 9.6 and later). */
  SEVERITY_NONLOCALIZED: 'V',
  CODE: 'C',
  MESSAGE: 'M',
  DETAIL: 'D',
  HINT: 'H',
  POSITION: 'P',
  INTERNAL_POSITION: 'p',
  INTERNAL_QUERY: 'q',
  WHERE: 'W',
  SCHEMA_NAME: 's',
  TABLE_NAME: 't',
  COLUMN_NAME: 'c',
  DATA_TYPE_NAME: 'd',
  CONSTRAINT_NAME: 'n',
  FILE: 'F',
  LINE: 'L',
  ROUTINE: 'R',
} as const;
