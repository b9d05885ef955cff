import { randomFillSync } from "node:crypto";

/**
 * Session ids in the form of engine.io's default (base64id): 15 bytes, 12 random and the
 * low 3 of a sequence number, written base64url (20 characters, `-` and `_` where base64
 * has `+` and `/`). base64id makes three buffers per id and refills its pool on the thread
 * pool; here each id is read straight out of a pool refilled synchronously, once every 256
 * ids. The pool's bytes for the sequence number are overwritten, never used as randomness.
 */
const ID_BYTES = 15;
const pool = Buffer.alloc(ID_BYTES * 256);
let offset = pool.length;
/** base64id's first id carries 0. */
let sequence = -1;

export function generateSessionId(): string {
  if (offset === pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  sequence = (sequence + 1) | 0;
  // A typed array keeps the low 8 bits of what is stored.
  pool[offset + 12] = sequence >>> 16;
  pool[offset + 13] = sequence >>> 8;
  pool[offset + 14] = sequence;
  const id = pool.toString("base64url", offset, offset + ID_BYTES);
  offset += ID_BYTES;
  return id;
}
