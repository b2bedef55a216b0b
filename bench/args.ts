/**
 * Command-line options of the bench's small scripts: an option and its value are taken out of the
 * arguments, so what is left is the files a summary reads.
 */

/** Removes `name` and the value after it from `args`; the value, or `fallback` when absent. */
export function takeOption(args: string[], name: string, fallback: string): string {
  const at = args.indexOf(name);
  if (at < 0) return fallback;
  const [, value] = args.splice(at, 2);
  return value ?? fallback;
}
