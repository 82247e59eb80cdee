// A room's secrets: its code, the instructor's token, each seat's tokens. Apart from the room so that the CLI's
// checks and a cluster's front can use them without loading an engine.
import { createHash, randomBytes, randomInt } from 'node:crypto';

const ROOM_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
/** A room code given from outside: 6 to 16 of the generated codes' letters and digits. */
export const ROOM_CODE = /^[A-HJ-NP-Z2-9]{6,16}$/;
/** An instructor's token given from outside: at least 32 URL-safe characters (a generated one has 32). */
export const INSTRUCTOR_TOKEN = /^[\w-]{32,128}$/;

/** A new room code: 6 of ROOM_ALPHABET. */
export const newRoomCode = (): string =>
  Array.from({ length: 6 }, () => ROOM_ALPHABET[randomInt(ROOM_ALPHABET.length)]).join('');
/** A random secret for a URL (192 bits). */
export const newToken = (): string => randomBytes(24).toString('base64url');
/** Secrets are compared by their hash: a lookup that tells nothing about how near a guess was. */
export const tokenKey = (token: string): string => createHash('sha256').update(token).digest('base64url');
