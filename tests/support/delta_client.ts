/**
 * A client's picture of the board, kept from feed messages the way the contract tells a client
 * to: snapshots and updates replace, removals delete, and a `patch` is applied with an
 * independent RFC 6902 implementation (fast-json-patch, not the service's own code) only to a
 * copy at exactly its `base`. A patch that does not apply, or lands on another version, throws.
 */
import jsonpatch from "fast-json-patch";

// deno-lint-ignore no-explicit-any
type Msg = any;
// deno-lint-ignore no-explicit-any
type GameJson = Record<string, any>;

export class DeltaClient {
  readonly games = new Map<string, GameJson>();
  /** Messages applied, by type: proof of which form arrived. */
  readonly counts = { snapshot: 0, update: 0, removed: 0, patch: 0, ping: 0 };

  apply(message: Msg): void {
    const type = message.type as keyof DeltaClient["counts"];
    if (!(type in this.counts)) throw new Error(`unknown message type ${message.type}`);
    this.counts[type]++;
    switch (type) {
      case "snapshot":
        if (message.games) {
          this.games.clear();
          for (const game of message.games) this.games.set(game.id, game);
        } else this.games.set(message.game.id, message.game);
        return;
      case "update":
        this.games.set(message.game.id, message.game);
        return;
      case "removed":
        this.games.delete(message.id);
        return;
      case "ping":
        if (!Number.isSafeInteger(message.time) || "version" in message) {
          throw new Error(`a ping carries a time and no version: ${JSON.stringify(message)}`);
        }
        return;
      case "patch": {
        const held = this.games.get(message.id);
        if (!held || held.version !== message.base) {
          throw new Error(
            `patch ${message.version} of ${message.id} is from ${message.base}, ` +
              `the client holds ${held?.version ?? "nothing"}`,
          );
        }
        const { newDocument } = jsonpatch.applyPatch(
          structuredClone(held),
          message.ops,
          true,
          false,
        );
        if (newDocument.version !== message.version) {
          throw new Error(`patch ${message.version} led to version ${newDocument.version}`);
        }
        this.games.set(message.id, newDocument);
        return;
      }
    }
  }

  /** The picture as JSON sorted by id, to compare with the server's list. */
  picture(): string {
    return canonical([...this.games.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));
  }
}

/** JSON with object keys sorted: a patch's `add` puts a key last, and key order carries nothing. */
export function canonical(value: unknown): string {
  return JSON.stringify(
    value,
    (_key, v) =>
      v && typeof v === "object" && !Array.isArray(v)
        ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
        : v,
  );
}
