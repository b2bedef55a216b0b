/**
 * What a viewer asked of its feed beyond scope and cursor, the same for every transport. The hub
 * keeps it per subscriber as plain fields, so fan-out only branches on it.
 */
export interface FeedOptions {
  /**
   * `?delta=1`: a change to a game the subscriber holds at the game's previous version comes as
   * a `patch` (RFC 6902 ops from that version), computed once per change and shared.
   */
  delta?: boolean;
  /** `?viewers=1`: also send `viewers` messages when a count in the scope changes. */
  viewers?: boolean;
}
