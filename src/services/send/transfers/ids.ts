import { GliderError } from "../../errors.js";
import { newRandomId } from "../system-store.js";

/** 16 random bytes, base64url: 22 characters, 128 bits, unguessable. */
export const TRANSFER_ID_PATTERN = "^[A-Za-z0-9_-]{22}$";
const TRANSFER_ID = new RegExp(TRANSFER_ID_PATTERN);

export function newTransferId(): string {
  return newRandomId(16);
}

export function isTransferId(id: unknown): id is string {
  return typeof id === "string" && TRANSFER_ID.test(id);
}

export function assertTransferId(id: string): void {
  if (!isTransferId(id)) throw new GliderError("invalid_request", "malformed transfer id", { parameter: "id" });
}

/** Keys of one transfer in the system bucket. */
export const transferKeys = {
  folder: (id: string) => `transfers/${id}/`,
  record: (id: string) => `transfers/${id}/record.json`,
  payload: (id: string) => `transfers/${id}/payload`,
  slots: (id: string) => `transfers/${id}/slots/`,
  slot: (id: string, n: number) => `transfers/${id}/slots/${String(n).padStart(6, "0")}`,
  slotDone: (id: string, n: number) => `transfers/${id}/slots/${String(n).padStart(6, "0")}.done`,
};
