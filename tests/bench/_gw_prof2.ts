// temporary (issue 17): loadgen CPU
import { firstLine } from "./_child.ts";
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_gateway_server.ts", import.meta.url).pathname],
  stdin: "piped", stdout: "piped", stderr: "inherit",
}).spawn();
const { port, plainPort, sessionId } = JSON.parse(await firstLine(server));
for (const p of [port, plainPort]) {
  const out = await new Deno.Command("bash", {
    args: ["-c", `time deno run -A ${new URL("./_gw_load.ts", import.meta.url).pathname} ${p} /session/${sessionId} AKIAIOSFODNN7EXAMPLE wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`],
  }).output();
  console.log(p === port ? "node:http" : "Deno.serve", new TextDecoder().decode(out.stdout).trim(), new TextDecoder().decode(out.stderr).trim().replace(/\n/g, " "));
}
await server.stdin.close();
await server.status;
