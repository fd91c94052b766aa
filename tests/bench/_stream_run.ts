/**
 * One WebSocket run, as the benches time it: open a signed
 * `/stream/session/{name}/execute`, send the code, read frames until
 * `finished`, close. Resolves with the run's stdout and when `finished`
 * came (`performance.now()`, so a timing leaves the close out); rejects on
 * an `error` frame or an early close.
 *
 * @module
 */
import { openSignedSocket } from "../../routes/cli/sign.ts";

/** The stdout of one streamed run of `code` in session `name`, and when it finished. */
export async function streamRun(
  endpoint: string,
  creds: Parameters<typeof openSignedSocket>[1],
  name: string,
  code = "print(1)",
): Promise<{ out: string; finishedAt: number }> {
  const ws = await openSignedSocket(
    endpoint,
    creds,
    `/stream/session/${name}/execute`,
  );
  let out = "";
  await new Promise<void>((resolve, reject) => {
    ws.onmessage = (e) => {
      const f = JSON.parse(e.data);
      for (const [kind, data] of f.console ?? []) {
        if (kind === "stdout") out += data;
      }
      if (f.status === "finished") resolve();
      else if (f.status === "error") reject(new Error(e.data));
    };
    ws.onclose = () => reject(new Error("closed before finished"));
    ws.send(JSON.stringify({ code, mode: "query" }));
  });
  const finishedAt = performance.now();
  ws.onclose = null;
  ws.close();
  return { out, finishedAt };
}
