/**
 * Typed failures of the image build, so callers (the manager on first start,
 * the CLI) can tell "install Docker" from "fix the recipe" without matching
 * message text.
 *
 * @module
 */

/** Base class: every build failure carries the image it concerns. */
export class ImageBuildError extends Error {
  constructor(
    message: string,
    readonly image?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The docker CLI is missing or the engine does not answer. */
export class EngineUnavailableError extends ImageBuildError {}

/** No recipe matches the requested name or alias. */
export class UnknownImageError extends ImageBuildError {}

/** debootstrap failed (mirror unreachable, not root, missing tool). */
export class DebootstrapError extends ImageBuildError {}

/** apt inside `docker build` failed; `packages` names the culprits when apt said so. */
export class AptError extends ImageBuildError {
  constructor(message: string, image: string, readonly packages: string[]) {
    super(message, image);
  }
}

/** Any other failing step of `docker build` / `docker import`. */
export class DockerBuildError extends ImageBuildError {}
