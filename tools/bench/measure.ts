// Timing: interleaved rounds (each candidate measured in every round, so machine noise hits all of
// them alike), medians over rounds, warm-up first.
import { EnvoyHost } from "../host/index.ts";
import type { StreamSpec } from "../host/types.ts";
import type { Workload } from "../model/case-file.ts";
import { nodeForWorkload } from "../cases/request-stream.ts";

export interface Timed {
  nsPerRequest: number;
}

export async function startFilterHost(wasm: Uint8Array, configuration: string, workload: Workload): Promise<EnvoyHost> {
  const host = await EnvoyHost.create({ wasm, configuration, node: nodeForWorkload(workload), workers: 1, rootId: "meshauthz" });
  if (!host.configAccepted) throw new Error(`configuration rejected: ${host.configError}`);
  return host;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Where request i of the mix goes: one host for all, or one host per request (the floor). */
export type Candidate = (i: number) => EnvoyHost;

export function measure(candidates: Candidate[], streams: StreamSpec[], o: { rounds: number; perRound: number }): Timed[] {
  const run = (c: Candidate, n: number) => {
    for (let i = 0; i < n; i++) {
      const k = i % streams.length;
      c(k).request(streams[k]);
    }
  };
  for (const c of candidates) run(c, o.perRound * 2);
  const samples: number[][] = candidates.map(() => []);
  for (let r = 0; r < o.rounds; r++) {
    candidates.forEach((c, k) => {
      const t0 = process.hrtime.bigint();
      run(c, o.perRound);
      samples[k].push(Number(process.hrtime.bigint() - t0) / o.perRound);
    });
  }
  return samples.map((s) => ({ nsPerRequest: median(s) }));
}
