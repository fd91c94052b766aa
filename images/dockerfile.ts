/**
 * Turns a recipe into a docker build context (Dockerfile, runner, driver
 * config) and computes the recipe hash that keys the build cache.
 *
 * @module
 */
import type { Recipe } from "./recipe.ts";
import { sha256Hex } from "./hash.ts";

const RUNNER_DIR = new URL("./runner/", import.meta.url).pathname;

/** The runner's files (name → text), sorted by name: Python modules and the language drivers (bai_node.js, bai_lua.lua, bai_php.php). */
export async function runnerFiles(): Promise<[string, string][]> {
  const files: [string, string][] = [];
  for await (const e of Deno.readDir(RUNNER_DIR)) {
    if (
      e.isFile && /\.(py|js|lua|php)$/.test(e.name) &&
      !e.name.endsWith("_test.py")
    ) {
      files.push([e.name, await Deno.readTextFile(RUNNER_DIR + e.name)]);
    }
  }
  return files.sort(([a], [b]) => a.localeCompare(b));
}

/** The `ai.backend.*` labels of a recipe's image. */
export function labelsOf(
  recipe: Recipe,
  recipeHash: string,
): Record<string, string> {
  return {
    "ai.backend.kernelspec": "1",
    "ai.backend.features": recipe.features,
    "ai.backend.resource.min.cpu": String(recipe.minCpu),
    "ai.backend.resource.min.mem": recipe.minMem,
    "ai.backend.base-distro": "debian12",
    "ai.backend.runtime-type": recipe.runtimeType,
    "ai.backend.runtime-path": recipe.runtimePath,
    "ai.backend.service-ports": recipe.servicePorts,
    "ai.backend.languages": recipe.languages.join(" "),
    "ai.backend.recipe-name": recipe.name,
    "ai.backend.recipe-hash": recipeHash,
    ...recipe.labels,
  };
}

/** Content hash of recipe + runner + base image id: an unchanged one is not rebuilt. */
export async function recipeHash(
  recipe: Recipe,
  baseId: string,
): Promise<string> {
  const runner = await runnerFiles();
  return (await sha256Hex(JSON.stringify({ recipe, runner, baseId }))).slice(
    0,
    16,
  );
}

/**
 * The one RUN that installs a recipe's packages and cleans up in the same
 * layer. Unchanged text for recipes without forceInstall/prune, so their
 * cached layers stay valid.
 */
export function packageLayer(recipe: Recipe): string {
  let cmd = "RUN mkdir -p /usr/share/man/man1 && apt-get update -q";
  if (recipe.packages.length) {
    cmd +=
      " && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends " +
      recipe.packages.join(" ");
  }
  if (recipe.forceInstall.length) {
    cmd +=
      " && mkdir -p /tmp/bai-debs && cd /tmp/bai-debs && apt-get download " +
      recipe.forceInstall.join(" ") +
      " && DEBIAN_FRONTEND=noninteractive dpkg -i --force-depends *.deb && cd / && rm -rf /tmp/bai-debs";
  }
  cmd +=
    " && apt-get clean && rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/* /usr/share/locale/*";
  if (recipe.prune.length) cmd += " && rm -rf " + recipe.prune.join(" ");
  return cmd;
}

/** The Dockerfile text for a recipe. */
export function dockerfile(
  recipe: Recipe,
  baseRef: string,
  labels: Record<string, string>,
): string {
  const lines = [`FROM ${baseRef}`];
  if (recipe.packages.length || recipe.forceInstall.length) {
    lines.push(packageLayer(recipe));
  }
  for (const cmd of recipe.setup) lines.push(`RUN ${cmd}`);
  lines.push(
    "RUN useradd -u 1000 -U -d /home/work -m -s /bin/bash work",
    "COPY runner.py /opt/kernel/runner",
    "COPY lib/ /opt/kernel/lib/",
    "COPY driver.json apps.json /opt/kernel/",
    "RUN chmod 755 /opt/kernel/runner && python3 -m compileall -q /opt/kernel/lib",
    "ENV HOME=/home/work PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8",
    "USER 1000:1000",
    "WORKDIR /home/work",
    `LABEL ${
      Object.entries(labels).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(
        " \\\n      ",
      )
    }`,
    'CMD ["/usr/bin/python3", "-u", "/opt/kernel/runner"]',
  );
  return lines.join("\n") + "\n";
}

/** Writes the build context for a recipe into `dir`. */
export async function writeContext(
  dir: string,
  recipe: Recipe,
  baseRef: string,
  labels: Record<string, string>,
) {
  await Deno.mkdir(`${dir}/lib`, { recursive: true });
  for (const [name, text] of await runnerFiles()) {
    await Deno.writeTextFile(
      name === "runner.py" ? `${dir}/runner.py` : `${dir}/lib/${name}`,
      text,
    );
  }
  await Deno.writeTextFile(`${dir}/driver.json`, JSON.stringify(recipe.driver));
  await Deno.writeTextFile(
    `${dir}/apps.json`,
    JSON.stringify({ servicePorts: recipe.servicePorts, apps: recipe.apps }),
  );
  await Deno.writeTextFile(
    `${dir}/Dockerfile`,
    dockerfile(recipe, baseRef, labels),
  );
}
