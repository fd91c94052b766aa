import { firstLine } from "./_child.ts";
const server = new Deno.Command(Deno.execPath(), { args: ["run", "-A", new URL("./_proto_http.ts", import.meta.url).pathname], stdin: "piped", stdout: "piped", stderr: "inherit" }).spawn();
const s = JSON.parse(await firstLine(server));
const cpu = () => { const f = Deno.readTextFileSync(`/proc/${server.pid}/stat`).split(") ")[1].split(" "); return (Number(f[11]) + Number(f[12])) * 10; };
const variants: [string, number][] = [["node:http", s.httpPort], ["Deno.serve", s.servePort], ["node:net", s.nodePort], ["Deno.listen", s.denoPort]];
for (let round = 0; round < 2; round++) for (const [name, p] of variants) {
  const c0 = cpu();
  const out = await new Deno.Command(Deno.execPath(), { env: { MS: "3000" }, args: ["run", "-A", new URL("./_gw_load.ts", import.meta.url).pathname, String(p), `/session/${s.sessionId}`, "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"] }).output();
  const c1 = cpu();
  const per = Number(new TextDecoder().decode(out.stdout).trim().split(" ")[1]);
  console.log(name.padEnd(12), "per_s", per, "server µs/req", ((c1 - c0) * 1000 / (per * 3)).toFixed(1));
}
await server.stdin.close(); await server.status;
