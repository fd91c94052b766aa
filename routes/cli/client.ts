/**
 * The client's one door to the API: signed requests to the resolved
 * {@link Target}, with every failure turned into a one-line
 * {@link CliError} (the network cause, or the problem+json reply; a 401
 * also names where the keypair came from).
 *
 * @module
 */

import {
  CliError,
  describeHttpFailure,
  describeNetworkError,
} from "./errors.ts";
import { openSignedSocket, signedFetch, type SignedFetchInit } from "./sign.ts";
import type { Target } from "./target.ts";

/** Signed calls against one target. */
export class ApiClient {
  constructor(readonly target: Target) {}

  /**
   * Sends a request; answers the response whatever its status.
   * @throws {CliError} when no response came (refused, DNS, TLS, ...).
   */
  async send(
    method: string,
    path: string,
    body?: unknown,
    init?: SignedFetchInit,
  ): Promise<Response> {
    const { endpoint, creds } = this.target;
    try {
      return await signedFetch(endpoint, creds, method, path, body, init);
    } catch (e) {
      if (e instanceof CliError) throw e;
      throw new CliError(describeNetworkError(e, endpoint));
    }
  }

  /**
   * Sends a request and answers the response when it is 2xx.
   * @throws {CliError} with the server's problem in one line otherwise.
   */
  async ok(
    method: string,
    path: string,
    body?: unknown,
    init?: SignedFetchInit,
  ): Promise<Response> {
    const res = await this.send(method, path, body, init);
    if (!res.ok) throw await this.failure(method, path, res);
    return res;
  }

  /** Like {@link ok}, parsing a JSON answer (an empty body is `{}`). */
  async json<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<T> {
    const res = await this.ok(method, path, body);
    const text = await res.text();
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      throw new CliError(
        `${method} ${path} answered ${res.status} with a body that is not JSON`,
      );
    }
  }

  /** The one-line error of a non-2xx response (the body is consumed). */
  async failure(
    method: string,
    path: string,
    res: Response,
  ): Promise<CliError> {
    const body = await res.text().catch(() => "");
    let line = describeHttpFailure(
      `${method.toUpperCase()} ${pathOnly(path)}`,
      res.status,
      res.statusText,
      body,
    );
    if (res.status === 401) {
      line +=
        ` [keypair ${this.target.creds.accessKey} from ${this.target.credsFrom}]`;
    }
    return new CliError(line);
  }

  /** Opens a signed WebSocket on `path`. @throws {CliError} when it fails to open. */
  async socket(path: string): Promise<WebSocket> {
    const { endpoint, creds } = this.target;
    try {
      return await openSignedSocket(endpoint, creds, path);
    } catch (e) {
      throw new CliError(
        `the stream ${pathOnly(path)} did not open: ${
          describeNetworkError(e, endpoint)
        }`,
      );
    }
  }
}

/** The path without its query (query values may be long or private). */
function pathOnly(path: string): string {
  const q = path.indexOf("?");
  return q < 0 ? path : path.slice(0, q);
}
