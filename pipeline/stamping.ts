/**
 * The fields the client library stamps on every event, at the top level beside eventType, so that the
 * archive and its queries can read them:
 *
 * - `eventId`: a UUID unless the app set one; the same on every retry (duplicates can be recognised);
 * - `sessionId`: a UUID per client lifetime, or per app install when the app persists it;
 * - `sequence`: 1, 2, 3, ... per session, in the order the app handed the events over; the same on every
 *   retry. A number missing from the archive is an event lost between the device and the archive.
 *
 * Every schema in schemas/ must accept them (schemas/compile.ts checks).
 */
export const STAMPED_FIELDS = ["eventId", "sessionId", "sequence"] as const;

/** A session id as the client library and the schemas accept it: a UUID, either case. */
export const SESSION_ID_PATTERN = /^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$/;

/** The highest sequence number (JSON numbers above it lose precision in JavaScript and Athena's double). */
export const MAX_SEQUENCE = Number.MAX_SAFE_INTEGER;
