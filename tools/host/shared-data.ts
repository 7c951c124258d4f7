// Process-wide shared key/value data and queues (cpp-host context.cc SharedData). Istio sets no
// vm_id, so every VM of the plugin shares one namespace. Queue readiness callbacks
// (proxy_on_queue_ready) are not delivered: this host has no event loop between streams.

import { WasmResult } from "./envoy-abi.ts";

export class SharedData {
  private readonly data = new Map<string, { value: Uint8Array; cas: number }>();
  private cas = 1;
  private readonly queueTokens = new Map<string, number>();
  private readonly queues = new Map<number, Uint8Array[]>();
  private nextQueueToken = 1;

  private nextCas(): number {
    const c = this.cas;
    this.cas = (this.cas + 1) >>> 0 || 1; // 0 is not a valid CAS value
    return c;
  }

  get(vmId: string, key: string): { value: Uint8Array; cas: number } | undefined {
    return this.data.get(`${vmId}\0${key}`);
  }

  set(vmId: string, key: string, value: Uint8Array, cas: number): WasmResult {
    const k = `${vmId}\0${key}`;
    const existing = this.data.get(k);
    if (existing && cas !== 0 && cas !== existing.cas) return WasmResult.CasMismatch;
    this.data.set(k, { value, cas: this.nextCas() });
    return WasmResult.Ok;
  }

  registerQueue(vmId: string, name: string): number {
    const k = `${vmId}\0${name}`;
    let token = this.queueTokens.get(k);
    if (token === undefined) {
      token = this.nextQueueToken++;
      this.queueTokens.set(k, token);
      this.queues.set(token, []);
    }
    return token;
  }

  resolveQueue(vmId: string, name: string): number {
    return this.queueTokens.get(`${vmId}\0${name}`) ?? 0;
  }

  dequeue(token: number): { status: WasmResult; value?: Uint8Array } {
    const q = this.queues.get(token);
    if (!q) return { status: WasmResult.NotFound };
    const v = q.shift();
    if (v === undefined) return { status: WasmResult.Empty };
    return { status: WasmResult.Ok, value: v };
  }

  enqueue(token: number, value: Uint8Array): WasmResult {
    const q = this.queues.get(token);
    if (!q) return WasmResult.NotFound;
    q.push(value);
    return WasmResult.Ok;
  }
}
