// Send's input limits: the services check them, and REST's route schemas (src/rest/send/schemas.ts) state the same
// bounds from these constants, so a change here changes both the check and the published contract.

/** Most downloads a transfer may allow (`max_downloads`; 0 = unlimited). */
export const MAX_DOWNLOADS = 1000;
/** Downloads a transfer allows when the sender names none. */
export const DEFAULT_MAX_DOWNLOADS = 1;
/** A transfer's lifetime when the sender names none: seven days. */
export const DEFAULT_EXPIRY_SECONDS = 7 * 86_400;
/** Longest lifetime of a transfer: thirty days. */
export const MAX_EXPIRY_SECONDS = 30 * 86_400;
/** The ciphertext's declared content type: 1..255 printable ASCII characters. */
export const CONTENT_TYPE_MAX_LENGTH = 255;
/** A sender token's label, for humans: 1..200 characters once trimmed. */
export const TOKEN_LABEL_MAX_LENGTH = 200;
/** A client event's type: 1..64 characters of A-Z a-z 0-9 . _ : - */
export const EVENT_TYPE_MAX_LENGTH = 64;
/** A client event's data, as JSON. */
export const EVENT_DATA_MAX_BYTES = 4096;
/** Client events one transfer may hold. */
export const MAX_EVENTS = 1000;
