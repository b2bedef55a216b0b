/**
 * Non-blocking TCP client sockets on Linux epoll, through libc by FFI. Deno's own Conn costs an
 * async op and a promise per read, about 10 µs of CPU per delivered message here: at 10,000
 * viewers that is 100 ms of load-generator time per published change, as much as the server's
 * own work, so the generator would measure itself. With epoll one wait returns a batch of ready
 * sockets and each read is one recv() into a buffer shared by every socket of the process; the
 * process's stdin (its commands) is watched in the same set.
 */

const AF_INET = 2;
const SOCK_STREAM = 1;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
export const EPOLLIN = 0x001;
export const EPOLLOUT = 0x004;
export const EPOLLERR = 0x008;
export const EPOLLHUP = 0x010;
const EPOLLRDHUP = 0x2000;
const EINPROGRESS = 115;
const EAGAIN = 11;
const EINTR = 4;
const SOL_SOCKET = 1;
const SO_ERROR = 4;
const MSG_NOSIGNAL = 0x4000;
const MAX_EVENTS = 1024;

// struct epoll_event is packed on x86-64 (12 bytes), naturally aligned elsewhere (16 bytes).
const EVENT_SIZE = Deno.build.arch === "x86_64" ? 12 : 16;
const DATA_OFFSET = Deno.build.arch === "x86_64" ? 4 : 8;

const SYMBOLS = {
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  recv: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  send: { parameters: ["i32", "buffer", "usize", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  epoll_create1: { parameters: ["i32"], result: "i32" },
  epoll_ctl: { parameters: ["i32", "i32", "i32", "buffer"], result: "i32" },
  // Blocking, on the one thread: the load process is a plain event loop around this call (a
  // `nonblocking` FFI call would hand every wait to another thread, which cost more than the
  // reads themselves).
  epoll_wait: { parameters: ["i32", "buffer", "i32", "i32"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
} as const;

/** What `recv` found besides data. */
export const WOULD_BLOCK = -1;
export const FAILED = -2;

export class Epoll {
  readonly #lib = Deno.dlopen("libc.so.6", SYMBOLS).symbols;
  readonly #epfd: number;
  readonly #events = new Uint8Array(EVENT_SIZE * MAX_EVENTS);
  readonly #eventView = new DataView(this.#events.buffer);
  readonly #ctl = new Uint8Array(EVENT_SIZE);
  readonly #ctlView = new DataView(this.#ctl.buffer);
  readonly #int = new Uint8Array(4);
  readonly #intLen = new Uint8Array(new Uint32Array([4]).buffer);

  constructor() {
    this.#epfd = this.#lib.epoll_create1(0);
    if (this.#epfd < 0) throw new Error(`epoll_create1 failed (errno ${this.errno()})`);
  }

  errno(): number {
    const pointer = this.#lib.__errno_location();
    return pointer === null ? 0 : new Deno.UnsafePointerView(pointer).getInt32();
  }

  /**
   * A non-blocking connection to 127.0.0.1:port, watched for writability (the connect finished
   * or failed). Returns the fd, or -errno when it could not even start.
   */
  connect(port: number): number {
    const fd = this.#lib.socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -this.errno();
    const address = new Uint8Array(16);
    address[0] = AF_INET;
    address[2] = port >> 8;
    address[3] = port & 0xff;
    address.set([127, 0, 0, 1], 4);
    if (this.#lib.connect(fd, address, 16) < 0) {
      const errno = this.errno();
      if (errno !== EINPROGRESS) {
        this.#lib.close(fd);
        return -errno;
      }
    }
    this.#control(EPOLL_CTL_ADD, fd, EPOLLOUT | EPOLLRDHUP);
    return fd;
  }

  /** Watch `fd` for reading, and for writing too while output is queued. */
  watch(fd: number, write: boolean): void {
    this.#control(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLRDHUP | (write ? EPOLLOUT : 0));
  }

  /** The pending error of a socket whose connect finished (0: connected). */
  socketError(fd: number): number {
    if (this.#lib.getsockopt(fd, SOL_SOCKET, SO_ERROR, this.#int, this.#intLen) < 0) {
      return this.errno();
    }
    return new DataView(this.#int.buffer).getInt32(0, true);
  }

  /** Bytes read into `buf`, 0 at end of stream, WOULD_BLOCK or FAILED. */
  recv(fd: number, buf: Uint8Array): number {
    const n = this.#lib.recv(fd, buf, BigInt(buf.length), 0);
    if (n >= 0) return n;
    const errno = this.errno();
    return errno === EAGAIN || errno === EINTR ? WOULD_BLOCK : FAILED;
  }

  /** Bytes written (possibly fewer than asked), or FAILED. */
  send(fd: number, bytes: Uint8Array): number {
    const n = this.#lib.send(fd, bytes, BigInt(bytes.length), MSG_NOSIGNAL);
    if (n >= 0) return n;
    const errno = this.errno();
    return errno === EAGAIN || errno === EINTR ? 0 : FAILED;
  }

  close(fd: number): void {
    this.#lib.epoll_ctl(this.#epfd, EPOLL_CTL_DEL, fd, this.#ctl);
    this.#lib.close(fd);
  }

  /** Watches an fd that is not a socket of ours for reading (the process's stdin). */
  watchInput(fd: number): void {
    this.#control(EPOLL_CTL_ADD, fd, EPOLLIN);
  }

  /** Blocks up to `timeoutMs`; returns how many fds are ready (see fd() and flags()). */
  wait(timeoutMs: number): number {
    const n = this.#lib.epoll_wait(this.#epfd, this.#events, MAX_EVENTS, timeoutMs);
    return n < 0 ? 0 : n;
  }

  fd(i: number): number {
    return this.#eventView.getInt32(i * EVENT_SIZE + DATA_OFFSET, true);
  }

  flags(i: number): number {
    return this.#eventView.getUint32(i * EVENT_SIZE, true);
  }

  #control(op: number, fd: number, events: number): void {
    this.#ctlView.setUint32(0, events, true);
    this.#ctlView.setInt32(DATA_OFFSET, fd, true);
    this.#lib.epoll_ctl(this.#epfd, op, fd, this.#ctl);
  }
}
