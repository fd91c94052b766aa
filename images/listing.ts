/**
 * Kernel images as admins list them: what an image's labels say (its
 * recipe, languages, features, minimum resources) and which agents have
 * it. Agents read their engines; the manager merges their reports, so the
 * manager itself needs no Docker.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mergeImages } from "./listing.ts";
 * const img = { ref: "bai/python:3.11", id: "sha256:1", sizeBytes: 1, created: 0,
 *   labels: { "ai.backend.recipe-name": "python", "ai.backend.languages": "python" } };
 * const list = mergeImages([{ agent: "a1", images: [img] }, { agent: "a2", images: [img] }]);
 * assert.deepEqual(list[0].agents, ["a1", "a2"]);
 * assert.equal(list[0].name, "python");
 * ```
 *
 * @module
 */

/** What admin listings show of an image. */
export interface ImageInfo {
  ref: string;
  name: string;
  id: string;
  languages: string[];
  features: string[];
  minCpu: number;
  minMem: string;
  recipeHash: string;
  sizeBytes: number;
  created: string;
  labels: Record<string, string>;
}

/** An image and the agents that have it. */
export type ListedImage = ImageInfo & { agents: string[] };

/** The facts an engine gives about one image ref. */
export interface ImageFacts {
  ref: string;
  id: string;
  sizeBytes: number;
  /** An ISO date, or seconds since the epoch (the Engine API's list form). */
  created: string | number;
  labels: Record<string, string>;
}

const words = (s: string | undefined) => (s ?? "").split(" ").filter(Boolean);

/** Reads an image's labels (images/dockerfile.ts writes them). */
export function describeImage(f: ImageFacts): ImageInfo {
  const l = f.labels;
  return {
    ref: f.ref,
    name: l["ai.backend.recipe-name"] ?? f.ref,
    id: f.id,
    languages: words(l["ai.backend.languages"]),
    features: words(l["ai.backend.features"]),
    minCpu: Number(l["ai.backend.resource.min.cpu"] ?? 1),
    minMem: l["ai.backend.resource.min.mem"] ?? "",
    recipeHash: l["ai.backend.recipe-hash"] ?? "",
    sizeBytes: f.sizeBytes,
    created: typeof f.created === "number"
      ? new Date(f.created * 1000).toISOString()
      : f.created,
    labels: l,
  };
}

/** One entry per image ref, with the agents reporting it, sorted by ref. */
export function mergeImages(
  reports: { agent: string; images: ImageFacts[] }[],
): ListedImage[] {
  const byRef = new Map<string, ListedImage>();
  for (const { agent, images } of reports) {
    for (const img of images) {
      const seen = byRef.get(img.ref);
      if (seen) seen.agents.push(agent);
      else byRef.set(img.ref, { ...describeImage(img), agents: [agent] });
    }
  }
  return [...byRef.values()].sort((a, b) => a.ref.localeCompare(b.ref));
}
