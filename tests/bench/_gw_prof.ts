// temporary (issue 17): profile the gateway server under load
import { firstLine } from "./_child.ts";
const flags = (Deno.env.get("FLAGS") ?? "--cpu-prof --cpu-prof-dir=/tmp/i17/gprof").split(" ").filter(Boolean);
const server = new Deno.Command(Deno.execPath(), {
  args: ["run", ...flags, "-A", new URL("./_gateway_server.ts", import.meta.url).pathname],
  stdin: "piped", stdout: "piped", stderr: "inherit",
}).spawn();
const { port, plainPort, sessionId } = JSON.parse(await firstLine(server));
const which = Deno.env.get("WHICH") === "plain" ? plainPort : port;
const out = await new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", new URL("./_gw_load.ts", import.meta.url).pathname, String(which), `/session/${sessionId}`, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
}).output();
console.log(new TextDecoder().decode(out.stdout).trim(), new TextDecoder().decode(out.stderr).slice(0, 300));
await server.stdin.close();
await server.status;
