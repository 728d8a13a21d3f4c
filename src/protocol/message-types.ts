/**
 * Message type bytes (PostgreSQL docs 55.7 "Message Formats"; the names follow
 * the docs). Some bytes mean different messages in each direction ('E' is
 * Execute from the frontend and ErrorResponse from the backend), so the two
 * directions are kept apart.
 */
export const FrontendMessageType = {
  BIND: 0x42, // 'B'
  CLOSE: 0x43, // 'C'
  COPY_DATA: 0x64, // 'd'
  COPY_DONE: 0x63, // 'c'
  COPY_FAIL: 0x66, // 'f'
  DESCRIBE: 0x44, // 'D'
  EXECUTE: 0x45, // 'E'
  FLUSH: 0x48, // 'H'
  FUNCTION_CALL: 0x46, // 'F'
  PARSE: 0x50, // 'P'
  /** PasswordMessage, GSSResponse, SASLInitialResponse and SASLResponse share 'p'. */
  PASSWORD_MESSAGE: 0x70, // 'p'
  QUERY: 0x51, // 'Q'
  SYNC: 0x53, // 'S'
  TERMINATE: 0x58, // 'X'
} as const;

export const BackendMessageType = {
  AUTHENTICATION: 0x52, // 'R'
  BACKEND_KEY_DATA: 0x4b, // 'K'
  BIND_COMPLETE: 0x32, // '2'
  CLOSE_COMPLETE: 0x33, // '3'
  COMMAND_COMPLETE: 0x43, // 'C'
  COPY_BOTH_RESPONSE: 0x57, // 'W'
  COPY_DATA: 0x64, // 'd'
  COPY_DONE: 0x63, // 'c'
  COPY_IN_RESPONSE: 0x47, // 'G'
  COPY_OUT_RESPONSE: 0x48, // 'H'
  DATA_ROW: 0x44, // 'D'
  EMPTY_QUERY_RESPONSE: 0x49, // 'I'
  ERROR_RESPONSE: 0x45, // 'E'
  FUNCTION_CALL_RESPONSE: 0x56, // 'V'
  NEGOTIATE_PROTOCOL_VERSION: 0x76, // 'v'
  NO_DATA: 0x6e, // 'n'
  NOTICE_RESPONSE: 0x4e, // 'N'
  NOTIFICATION_RESPONSE: 0x41, // 'A'
  PARAMETER_DESCRIPTION: 0x74, // 't'
  PARAMETER_STATUS: 0x53, // 'S'
  PARSE_COMPLETE: 0x31, // '1'
  PORTAL_SUSPENDED: 0x73, // 's'
  READY_FOR_QUERY: 0x5a, // 'Z'
  ROW_DESCRIPTION: 0x54, // 'T'
} as const;

/**
 * The Int32 after the length of an untyped startup packet: a protocol version
 * (major << 16 | minor) or one of these request codes (55.7: CancelRequest,
 * SSLRequest, GSSENCRequest).
 */
export const StartupRequestCode = {
  CANCEL_REQUEST: 80877102, // 1234 << 16 | 5678
  SSL_REQUEST: 80877103, // 1234 << 16 | 5679
  GSSENC_REQUEST: 80877104, // 1234 << 16 | 5680
} as const;
