/**
 * Test clients for every push transport, each presenting what arrives as a queue of messages.
 * `next()` waits for the next one; its time limit only turns a hang into a failure.
 */

export interface SseEvent {
  event?: string;
  id?: string;
  data: string;
  retry?: string;
  comment?: string;
}

const GUARD_MS = 10_000;

/** A queue that a reader fills and a test drains. */
export class Inbox<T> {
  #items: T[] = [];
  #waiting: { resolve: (item: T) => void; reject: (error: Error) => void }[] = [];
  #ended: Error | undefined;

  push(item: T): void {
    const waiter = this.#waiting.shift();
    if (waiter) waiter.resolve(item);
    else this.#items.push(item);
  }

  end(reason = new Error("the feed ended")): void {
    this.#ended ??= reason;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(reason);
  }

  get ended(): boolean {
    return this.#ended !== undefined;
  }

  /** Items already received and not yet taken. */
  get buffered(): number {
    return this.#items.length;
  }

  next(guardMs = GUARD_MS): Promise<T> {
    const item = this.#items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.#ended) return Promise.reject(this.#ended);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (value: T) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = setTimeout(() => {
        this.#waiting.splice(this.#waiting.indexOf(waiter), 1);
        reject(new Error(`nothing arrived within ${guardMs} ms`));
      }, guardMs);
      this.#waiting.push(waiter);
    });
  }

  /** Takes items until one matches, returning all taken (the match last). */
  async until(match: (item: T) => boolean, guardMs = GUARD_MS): Promise<T[]> {
    const taken: T[] = [];
    for (;;) {
      const item = await this.next(guardMs);
      taken.push(item);
      if (match(item)) return taken;
    }
  }
}

export interface HttpFeed<T> {
  status: number;
  headers: Headers;
  inbox: Inbox<T>;
  /** Resolves when the server ended the stream (or the test closed it). */
  done: Promise<void>;
  close(): Promise<void>;
}

async function readLines(
  reader: ReadableStreamDefaultReader<string>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      buffer += value;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        onLine(buffer.slice(0, nl).replace(/\r$/, ""));
        buffer = buffer.slice(nl + 1);
      }
    }
  } catch (error) {
    if (!(error instanceof TypeError || (error as Error)?.name === "AbortError")) throw error;
  }
}

async function openHttp<T>(
  url: string,
  headers: Record<string, string>,
  parse: (inbox: Inbox<T>) => (line: string) => void,
): Promise<HttpFeed<T>> {
  const controller = new AbortController();
  const response = await fetch(url, { headers, signal: controller.signal });
  const inbox = new Inbox<T>();
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    inbox.end();
    return {
      status: response.status,
      headers: response.headers,
      inbox,
      done: Promise.resolve(),
      close: () => Promise.resolve(),
    };
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  const done = readLines(reader, parse(inbox)).then(
    () => inbox.end(),
    (error) => inbox.end(error instanceof Error ? error : new Error(String(error))),
  );
  return {
    status: response.status,
    headers: response.headers,
    inbox,
    done,
    async close() {
      // Cancelling the reader ends a pending read at once; aborting the fetch does not always.
      await reader.cancel().catch(() => {});
      controller.abort();
      await done;
    },
  };
}

export function openSse(
  url: string,
  headers: Record<string, string> = {},
): Promise<HttpFeed<SseEvent>> {
  return openHttp<SseEvent>(url, { accept: "text/event-stream", ...headers }, (inbox) => {
    let event: SseEvent = { data: "" };
    let dataLines: string[] = [];
    let fields = 0;
    return (line) => {
      if (line === "") {
        if (fields > 0) inbox.push({ ...event, data: dataLines.join("\n") });
        event = { data: "" };
        dataLines = [];
        fields = 0;
        return;
      }
      fields++;
      if (line.startsWith(":")) {
        event.comment = line.slice(1).trim();
        return;
      }
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (name === "data") dataLines.push(value);
      else if (name === "event" || name === "id" || name === "retry") event[name] = value;
    };
  });
}

// deno-lint-ignore no-explicit-any
export function openNdjson(url: string): Promise<HttpFeed<any>> {
  return openHttp(url, {}, (inbox) => (line) => {
    if (line !== "") inbox.push(JSON.parse(line));
  });
}

export interface WsFeed {
  socket: WebSocket;
  // deno-lint-ignore no-explicit-any
  inbox: Inbox<any>;
  closed: Promise<CloseEvent>;
  close(): Promise<CloseEvent>;
}

/** Opens a WebSocket and resolves once it is open (or rejects if it cannot). */
export function openWs(url: string): Promise<WsFeed> {
  const socket = new WebSocket(url.replace(/^http/, "ws"));
  // deno-lint-ignore no-explicit-any
  const inbox = new Inbox<any>();
  const closed = new Promise<CloseEvent>((resolve) => {
    socket.onclose = (event) => {
      inbox.end(new Error(`socket closed ${event.code}`));
      resolve(event);
    };
  });
  socket.onmessage = (event) => inbox.push(JSON.parse(String(event.data)));
  return new Promise((resolve, reject) => {
    socket.onopen = () =>
      resolve({
        socket,
        inbox,
        closed,
        close() {
          if (socket.readyState < WebSocket.CLOSING) socket.close();
          return closed;
        },
      });
    socket.onerror = () => {
      closed.then(() => reject(new Error("WebSocket could not connect")));
    };
  });
}
