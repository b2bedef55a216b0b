/**
 * What each status is called on every screen: the kiosk pages render these on the server
 * (pages/kiosk_render.ts imports this file) and the widget imports it in the browser, so the
 * two never disagree. Plain JavaScript, so browsers load it as it is.
 */
export const STATUS_LABELS = Object.freeze({
  scheduled: "Scheduled",
  live: "Live",
  break: "Break",
  final: "Final",
  postponed: "Postponed",
  cancelled: "Cancelled",
});
