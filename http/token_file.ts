/**
 * `SCORELINE_TOKENS_FILE`: tokens that can be added and revoked without a restart. The file is
 * read at start-up (a bad file stops start-up, like a bad variable), then again on SIGHUP and
 * whenever it changes. A reload swaps only the token verifier (http/auth.ts), so open feeds and
 * writes in flight never notice. A bad file keeps the tokens in force and says so in one error
 * line naming the line number and the kind of mistake, never the text of a line: each line is a
 * secret.
 *
 * The file's directory is watched, not the file: editors and Kubernetes replace a file by
 * renaming another over it (Kubernetes swaps a `..data` symlink), which a watch on the old file
 * would never see. Events are debounced, and content that did not change is not applied again.
 */
import { createHash } from "node:crypto";
import { basename, dirname, resolve } from "node:path";
import type { TokenGrant } from "../core/auth.ts";
import type { Logger } from "../core/log.ts";
import { describeEntryErrors, type EntryError, parseTokenFile } from "../core/token_entries.ts";
import type { Credentials } from "./auth.ts";

/** Bursts of events (an editor's write, rename and chmod) are one reload after this quiet. */
const DEBOUNCE_MS = 200;

/** The file cannot be used: where, and what kind of mistake. */
export class TokenFileError extends Error {
  constructor(readonly errors: readonly EntryError[] | null, readonly problem: string) {
    super(`SCORELINE_TOKENS_FILE: ${problem}`);
    this.name = "TokenFileError";
  }
}

export interface TokenFile {
  grants: TokenGrant[];
  /** A digest of the bytes read, so an event for unchanged content changes nothing. */
  digest: string;
}

/** Reads and parses the file; throws TokenFileError. `reserved`: the SCORELINE_TOKENS tokens. */
export async function readTokenFile(
  path: string,
  reserved: ReadonlySet<string>,
): Promise<TokenFile> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    // The OS error names the path and the reason (not found, permission), never the content.
    throw new TokenFileError(null, `cannot be read (${(error as Error).name})`);
  }
  const digest = createHash("sha256").update(bytes).digest("hex");
  const parsed = parseTokenFile(bytes, reserved);
  if (!parsed.ok) {
    throw new TokenFileError(parsed.errors, describeEntryErrors(parsed.errors, "line"));
  }
  return { grants: parsed.grants, digest };
}

export type ReloadReason = "SIGHUP" | "change";

/** Re-reads the token file on demand (SIGHUP) and when it changes, and puts it in force. */
export class TokenFileReloader {
  readonly #path: string;
  readonly #credentials: Credentials;
  readonly #log: Logger;
  #digest: string | null = null;
  #queue: Promise<void> = Promise.resolve();
  #watcher: Deno.FsWatcher | null = null;
  #watching: Promise<void> = Promise.resolve();
  #debounce: ReturnType<typeof setTimeout> | undefined;

  constructor(options: { path: string; credentials: Credentials; log: Logger }) {
    this.#path = resolve(options.path);
    this.#credentials = options.credentials;
    this.#log = options.log;
  }

  /** Puts the file read at start-up in force. */
  start(file: TokenFile): void {
    this.#credentials.replaceFileTokens(file.grants);
    this.#digest = file.digest;
  }

  /**
   * Reads the file again and, when it is good, puts it in force; when it is bad, keeps the
   * tokens in force and logs one error line. A change event for content already seen (good or
   * bad) does nothing, so a burst of events logs at most once; SIGHUP always reads and logs.
   */
  reload(reason: ReloadReason): Promise<void> {
    this.#queue = this.#queue.then(() => this.#reload(reason)).catch((error) => {
      this.#log.error("SCORELINE_TOKENS_FILE could not be reloaded: the tokens in force are kept", {
        file: this.#path,
        reason,
        error: String(error),
      });
    });
    return this.#queue;
  }

  async #reload(reason: ReloadReason): Promise<void> {
    let file: TokenFile;
    try {
      file = await readTokenFile(this.#path, this.#credentials.reserved);
    } catch (error) {
      if (!(error instanceof TokenFileError)) throw error;
      // Remembered by its problem (positions and kinds, no secret), so a burst of change events
      // for the same bad content logs once.
      const digest = `bad:${error.problem}`;
      if (reason === "change" && digest === this.#digest) return;
      this.#digest = digest;
      this.#log.error("SCORELINE_TOKENS_FILE is not valid: the tokens in force are kept", {
        file: this.#path,
        reason,
        line: error.errors?.[0]?.position || undefined,
        problem: error.problem,
      });
      return;
    }
    if (reason === "change" && file.digest === this.#digest) return;
    this.#digest = file.digest;
    this.#credentials.replaceFileTokens(file.grants);
    this.#log.info("tokens reloaded", {
      file: this.#path,
      reason,
      ...this.#credentials.counts,
    });
  }

  /** Watches the file's directory until `close()`. */
  watch(): void {
    const name = basename(this.#path);
    const watcher = Deno.watchFs(dirname(this.#path), { recursive: false });
    this.#watcher = watcher;
    this.#watching = (async () => {
      for await (const event of watcher) {
        const relevant = event.paths.some((path) => {
          const base = basename(path);
          return base === name || base.startsWith("..");
        });
        if (!relevant) continue;
        clearTimeout(this.#debounce);
        this.#debounce = setTimeout(() => void this.reload("change"), DEBOUNCE_MS);
      }
    })().catch((error) => {
      this.#log.error("SCORELINE_TOKENS_FILE can no longer be watched: send SIGHUP to reload", {
        file: this.#path,
        error: String(error),
      });
    });
  }

  /** Stops watching; a reload in progress finishes. */
  async close(): Promise<void> {
    clearTimeout(this.#debounce);
    this.#watcher?.close();
    this.#watcher = null;
    await this.#watching;
    await this.#queue;
  }
}
