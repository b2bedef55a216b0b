/**
 * Imported before playwright-core, for one line of it: at load it asks whether it runs on WSL
 * with `existsSync("/proc/sys/fs/binfmt_misc/WSLInterop")`, and Deno answers any /proc path
 * with NotCapable unless the process has --allow-all. Rather than give every test --allow-all,
 * that one question is answered "no" (this is Linux, not WSL); every other path is untouched.
 */
import fs from "node:fs";

const WSL_PROBE = "/proc/sys/fs/binfmt_misc/WSLInterop";
const existsSync = fs.existsSync;

fs.existsSync = (path: fs.PathLike): boolean => path === WSL_PROBE ? false : existsSync(path);
