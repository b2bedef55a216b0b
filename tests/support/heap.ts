/** The live heap, measured the only way that means anything: after full garbage collections. */
export function liveHeap(): number {
  // deno-lint-ignore no-explicit-any
  const gc = (globalThis as any).gc as (() => void) | undefined;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc (deno task test does)");
  gc();
  gc();
  return Deno.memoryUsage().heapUsed;
}
