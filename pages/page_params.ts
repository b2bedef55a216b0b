/**
 * The query parameters of the HTML pages: `refresh` (seconds, clamped), `tz` (the time zone of
 * the rendered-at stamp and of kick-off times), on the embed `theme`, and on the board its filter
 * and paging. A bad one is a 400 naming it; the page routes show it as an HTML error page.
 */
import { Lru } from "../core/lru.ts";
import type { Scope } from "../core/scope.ts";
import { boundedInteger } from "../http/params.ts";
import { invalid } from "../http/problem.ts";
import { filterScope, type QueryValues } from "../http/scope_params.ts";

export const MIN_REFRESH_SECONDS = 1;
export const MAX_REFRESH_SECONDS = 3600;

export const THEMES = ["light", "dark"] as const;
export type Theme = (typeof THEMES)[number];

/** A time zone the stamp can be shown in: its canonical IANA name and a formatter for it. */
export interface Zone {
  readonly id: string;
  /** "Sat 21 Nov, 18:04 UTC". */
  format(ms: number): string;
}

export interface PageQuery {
  /** Seconds between reloads from `?refresh=`; null means the status-dependent default. */
  refresh: number | null;
  zone: Zone;
  theme: Theme;
  /** `?timeline=1` on the embed: the widget lists the game's events too. */
  timeline: boolean;
}

/**
 * `?refresh=`: any integer is accepted and clamped to 1–3600, as the contract says, so a kiosk
 * configured with `refresh=0` reloads every second rather than showing an error on a wall.
 */
export function refreshParam(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  if (!/^[+-]?[0-9]+$/.test(raw)) {
    throw invalid("refresh", "must be an integer number of seconds (1 to 3600)");
  }
  return Math.min(MAX_REFRESH_SECONDS, Math.max(MIN_REFRESH_SECONDS, Number(raw)));
}

const ZONE_NAME = /^[A-Za-z0-9_+\-/]{1,64}$/;

/**
 * Time-zone formatters kept, least recently used dropped first: the screens in use need a
 * handful. Named zones are a fixed set of a few hundred; numeric offsets never get a formatter of
 * their own (below).
 */
export const ZONE_CACHE_SIZE = 64;

/** `+05`, `-0930`: the numeric offsets Intl accepts (hours 00–23, minutes 00–59). */
const OFFSET = /^([+-])(0[0-9]|1[0-9]|2[0-3])([0-5][0-9])?$/;

/** How the rendered-at stamp is written: "Sat 21 Nov, 18:04 UTC". */
export const STAMP_FORMAT: Intl.DateTimeFormatOptions = {
  weekday: "short",
  day: "numeric",
  month: "short",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
  timeZoneName: "short",
};

/**
 * A fixed offset from UTC, formatted by shifting the time and naming the offset as Intl does
 * ("GMT+5:30"). Intl would make a formatter per offset, and ICU keeps about 32 KiB of native
 * memory for every zone a process ever formats in, freed by no GC: 2,928 offsets cost 95 MiB.
 */
function offsetZone(utc: Intl.DateTimeFormat, sign: string, hh: string, mm = "00"): Zone {
  const minutes = (sign === "-" ? -1 : 1) * (Number(hh) * 60 + Number(mm));
  const name = minutes === 0 ? "GMT" : `GMT${sign}${Number(hh)}${mm === "00" ? "" : `:${mm}`}`;
  return {
    id: `${minutes < 0 ? "-" : "+"}${hh}:${mm}`,
    format: (ms) =>
      utc.formatToParts(ms + minutes * 60_000)
        .map((part) => (part.type === "timeZoneName" ? name : part.value)).join(""),
  };
}

/** The formatters of the zones screens ask for, by lower-cased name (case variants share one). */
export class Zones {
  readonly #cache = new Lru<Zone>(ZONE_CACHE_SIZE);
  #utc: Intl.DateTimeFormat | undefined;

  get size(): number {
    return this.#cache.size;
  }

  /** `?tz=`: an IANA zone or an offset Intl knows; the stamp's default is UTC. */
  param(raw: string | undefined): Zone {
    const name = raw ?? "UTC";
    const key = name.toLowerCase();
    const known = this.#cache.get(key);
    if (known) return known;
    if (!ZONE_NAME.test(name)) throw invalid("tz", "must be an IANA time zone, like Europe/London");
    const offset = OFFSET.exec(name);
    const zone = offset
      ? offsetZone(this.#utc ??= this.#formatter("UTC"), offset[1]!, offset[2]!, offset[3])
      : this.#named(name);
    this.#cache.set(key, zone);
    return zone;
  }

  #named(name: string): Zone {
    const formatter = this.#formatter(name);
    return { id: formatter.resolvedOptions().timeZone, format: (ms) => formatter.format(ms) };
  }

  #formatter(name: string): Intl.DateTimeFormat {
    try {
      return new Intl.DateTimeFormat("en-GB", { ...STAMP_FORMAT, timeZone: name });
    } catch {
      throw invalid("tz", `unknown time zone "${name}"; use an IANA name, like Europe/London`);
    }
  }
}

export function themeParam(raw: string | undefined): Theme {
  if (raw === undefined) return "light";
  if (!(THEMES as readonly string[]).includes(raw)) {
    throw invalid("theme", `must be ${THEMES.join(" or ")}`);
  }
  return raw as Theme;
}

/** `?timeline=`: `1` shows the embed's timeline, `0` (the default) does not. */
export function timelineParam(raw: string | undefined): boolean {
  if (raw === undefined || raw === "0") return false;
  if (raw === "1") return true;
  throw invalid("timeline", "must be 1 or 0");
}

/**
 * Every page parameter from a query. `theme` and `timeline` are read only where they mean
 * something (the embed).
 */
export function pageQuery(
  query: (name: string) => string | undefined,
  options: { themed: boolean; zones: Zones },
): PageQuery {
  return {
    refresh: refreshParam(query("refresh")),
    zone: options.zones.param(query("tz")),
    theme: options.themed ? themeParam(query("theme")) : "light",
    timeline: options.themed ? timelineParam(query("timeline")) : false,
  };
}

/** Games a board page shows by default, and at most (`?per=`). */
export const DEFAULT_PER_PAGE = 12;
export const MAX_PER_PAGE = 48;

/** What the board shows: a filter's games (or all), `per` to a page, and which page. */
export interface BoardQuery {
  scope: Scope;
  per: number;
  /** 1-based, as asked; a page past the last shows the first. */
  page: number;
}

/**
 * The board's own parameters, read after the common ones: the filter (`games=` or
 * `competition=`, as on every all-games read), `per` (1–48) and `page` (a positive integer).
 */
export function boardQuery(
  query: (name: string) => string | undefined,
  queries: QueryValues,
): BoardQuery {
  return {
    scope: filterScope(queries),
    per: boundedInteger(query("per"), "per", 1, MAX_PER_PAGE, DEFAULT_PER_PAGE),
    page: boundedInteger(query("page"), "page", 1, 999_999, 1),
  };
}
