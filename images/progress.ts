/**
 * Build progress: stage events for callers (the manager's first start) and a
 * stderr printer with elapsed time for the CLI.
 *
 * @module
 */

/** One progress event. `stage` is coarse (base, build, cached, done); `message` is for people. */
export interface ProgressEvent {
  image: string;
  stage: "base" | "build" | "step" | "cached" | "done";
  message: string;
  elapsedMs: number;
}

/** What build code reports to. */
export interface Progress {
  stage(stage: ProgressEvent["stage"], message: string): void;
}

/** A Progress for one image that forwards events to a callback. */
export function progressFor(
  image: string,
  onProgress?: (e: ProgressEvent) => void,
): Progress {
  const t0 = performance.now();
  return {
    stage(stage, message) {
      onProgress?.({
        image,
        stage,
        message,
        elapsedMs: Math.round(performance.now() - t0),
      });
    },
  };
}

/** The CLI's display: `[  12.3s] python  build  Step 3/9 : RUN apt-get ...` on stderr. */
export function printProgress(e: ProgressEvent): void {
  const secs = (e.elapsedMs / 1000).toFixed(1).padStart(6);
  console.error(
    `[${secs}s] ${e.image.padEnd(10)} ${e.stage.padEnd(6)} ${e.message}`,
  );
}
