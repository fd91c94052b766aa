/**
 * The client moved to `routes/cli/` (one file per job; `mod.ts` is the
 * `cli` role). This re-export keeps `signedFetch` and `Credentials` where
 * older imports look for them; new code imports `routes/cli/sign.ts`.
 *
 * @module
 */

export {
  CLIENT_API_VERSION,
  type Credentials,
  signedFetch,
} from "./cli/sign.ts";
