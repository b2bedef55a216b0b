import { Scorer, watch } from "../client/scoreline.js";
import { startServer, TOKEN } from "./support/server.ts";

for (const transport of ["websocket", "sse", "ndjson", "poll", "auto"] as const) {
  Deno.test(`smoke ${transport}`, async () => {
    await using server = await startServer();
    const scorer = new Scorer({ server: server.url, token: TOKEN });
    await scorer.put("g1", { home: { name: "A" }, away: { name: "B" } });
    const h = watch({ server: server.url, games: ["g1", "g2"], transport });
    const seen: string[] = [];
    h.addEventListener("status", (e) => seen.push(JSON.stringify(e.detail)));
    let n = 0;
    for await (const c of h) {
      console.log(
        transport,
        c.changed,
        [...c.games.values()].map((g) => `${g.id}:${g.home.score}:${g.version}`),
      );
      if (++n === 1) {
        await scorer.score("g1", "home", 1);
        await scorer.put("g2", { home: { name: "C" }, away: { name: "D" } });
        await scorer.event("g1", { kind: "goal", side: "home", points: 1 });
      }
      if (c.games.get("g1")?.home.score === 2 && c.games.has("g2")) break;
    }
    console.log(seen, h.now() - Date.now());
    await h.close();
  });
}
