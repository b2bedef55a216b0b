/**
 * The service's version: the one place it is written. `GET /version` and the start-up log report
 * it, the OpenAPI document carries it, and CHANGELOG.md's newest section is about it
 * (tests/version_test.ts checks they agree). `-dev` while the release is being built.
 */
export const VERSION = "2.0.0-dev";
