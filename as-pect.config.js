// as-pect configuration for the filter's unit tests (tests/assembly/**/*.spec.ts).
//
// It also provides a minimal stand-in for Envoy's proxy-wasm host (env.proxy_*), driven by the
// tests through `testhost.*` imports (tests/assembly/helpers/host.ts), so that the ABI layer,
// the lifecycle and whole decisions can be unit-tested in AssemblyScript. It follows Envoy where
// it matters to the filter: values are returned through the module's `malloc` (nothing for empty
// values), NotFound for absent properties and headers, i64 metric deltas. The strict host that
// stands in for Envoy in integration tests is tools/host/, not this.
import { existsSync, readFileSync } from "node:fs";

const OK = 0;
const NOT_FOUND = 1;

function freshState() {
  return {
    props: new Map(), // latin1(path) -> Uint8Array
    propStatus: new Map(), // latin1(path) -> status to return instead
    headers: new Map(), // name -> Uint8Array
    headerStatus: 0, // non-zero: every header read returns it
    config: null, // Uint8Array | null
    reply: null, // { status, details, body }
    replies: 0,
    filterState: new Map(), // latin1(key) -> Uint8Array
    metricNames: new Map(), // id -> name
    metricIds: new Map(), // name -> id
    metricValues: new Map(), // name -> number
    logs: [], // { level, message }
    calls: new Map(), // host function -> count
    tickPeriod: 0,
  };
}

function fakeHost() {
  let exports = null;
  let s = freshState();
  const mem = () => new Uint8Array(exports.memory.buffer);
  const view = () => new DataView(exports.memory.buffer);
  const bytes = (p, n) => mem().slice(p >>> 0, (p >>> 0) + (n >>> 0));
  const key = (p, n) => Buffer.from(bytes(p, n)).toString("latin1");
  const count = (name) => s.calls.set(name, (s.calls.get(name) ?? 0) + 1);
  const give = (value, pp, lp) => {
    let p = 0;
    if (value.length > 0) {
      if (typeof exports.malloc !== "function") throw new Error("the spec must `export { malloc }` to use the fake host");
      p = exports.malloc(value.length);
      mem().set(value, p);
    }
    view().setUint32(pp, p, true);
    view().setUint32(lp, value.length, true);
    return OK;
  };

  const env = {
    proxy_log(level, p, n) {
      count("proxy_log");
      s.logs.push({ level, message: Buffer.from(bytes(p, n)).toString("utf8") });
      return OK;
    },
    proxy_get_property(pp, pl, outP, outL) {
      count("proxy_get_property");
      const k = key(pp, pl);
      if (s.propStatus.has(k)) return s.propStatus.get(k);
      if (!s.props.has(k)) return NOT_FOUND;
      return give(s.props.get(k), outP, outL);
    },
    proxy_set_property(pp, pl, vp, vl) {
      count("proxy_set_property");
      s.filterState.set(key(pp, pl), bytes(vp, vl));
      return OK;
    },
    proxy_get_header_map_value(type, kp, kl, outP, outL) {
      count("proxy_get_header_map_value");
      if (s.headerStatus !== 0) return s.headerStatus;
      const k = key(kp, kl).toLowerCase();
      if (type !== 0 || !s.headers.has(k)) return NOT_FOUND;
      return give(s.headers.get(k), outP, outL);
    },
    proxy_send_local_response(status, dp, dl, bp, bl) {
      count("proxy_send_local_response");
      s.replies++;
      s.reply = { status, details: key(dp, dl), body: key(bp, bl) };
      return OK;
    },
    proxy_get_buffer_bytes(type, start, max, outP, outL) {
      count("proxy_get_buffer_bytes");
      if (type !== 7 || s.config === null) return NOT_FOUND;
      return give(s.config.subarray(start, start + max), outP, outL);
    },
    proxy_define_metric(type, np, nl, outId) {
      count("proxy_define_metric");
      const name = key(np, nl);
      if (!s.metricIds.has(name)) {
        const id = 4 + 4 * s.metricIds.size + type;
        s.metricIds.set(name, id);
        s.metricNames.set(id, name);
        s.metricValues.set(name, 0);
      }
      view().setUint32(outId, s.metricIds.get(name), true);
      return OK;
    },
    proxy_set_tick_period_milliseconds(ms) {
      count("proxy_set_tick_period_milliseconds");
      s.tickPeriod = ms;
      return OK;
    },
    // The ext_authz stage's calls: this fake host has no clusters and no paused streams (the
    // real calls are tested through tools/host against loopback servers, tests/extauthz/).
    proxy_get_header_map_pairs(_type, pp, lp) {
      count("proxy_get_header_map_pairs");
      return give(new Uint8Array(0), pp, lp);
    },
    proxy_http_call() {
      count("proxy_http_call");
      return 2; // BadArgument: unknown cluster
    },
    proxy_grpc_call() {
      count("proxy_grpc_call");
      return 4; // ParseFailure
    },
    proxy_set_effective_context() {
      return 2;
    },
    proxy_continue_stream() {
      return OK;
    },
    proxy_replace_header_map_value() {
      return OK;
    },
    proxy_add_header_map_value() {
      return OK;
    },
    proxy_remove_header_map_value() {
      return OK;
    },
    proxy_increment_metric(id, delta) {
      count("proxy_increment_metric");
      const name = s.metricNames.get(id);
      if (name === undefined) return NOT_FOUND;
      if (delta <= 0n) return 2;
      s.metricValues.set(name, s.metricValues.get(name) + Number(delta));
      return OK;
    },
  };

  // Copies text into the module at out (cap bytes); returns the full length (-1 when absent).
  const put = (text, out, cap) => {
    if (text === null || text === undefined) return -1;
    const b = typeof text === "string" ? Buffer.from(text, "latin1") : text;
    mem().set(b.subarray(0, Math.min(cap, b.length)), out);
    return b.length;
  };

  const testhost = {
    reset() {
      s = freshState();
    },
    /** Keeps metrics (defined once per VM) but clears everything else. */
    resetRequest() {
      const { metricNames, metricIds, metricValues } = s;
      s = Object.assign(freshState(), { metricNames, metricIds, metricValues });
    },
    setProperty(pp, pl, vp, vl) {
      s.props.set(key(pp, pl), bytes(vp, vl));
    },
    setPropertyStatus(pp, pl, status) {
      s.propStatus.set(key(pp, pl), status);
    },
    setHeader(np, nl, vp, vl) {
      s.headers.set(key(np, nl).toLowerCase(), bytes(vp, vl));
    },
    setHeaderStatus(status) {
      s.headerStatus = status;
    },
    setConfig(p, n) {
      s.config = bytes(p, n);
    },
    replyStatus() {
      return s.reply === null ? 0 : s.reply.status;
    },
    replyCount() {
      return s.replies;
    },
    replyDetails(out, cap) {
      return put(s.reply === null ? null : s.reply.details, out, cap);
    },
    replyBody(out, cap) {
      return put(s.reply === null ? null : s.reply.body, out, cap);
    },
    filterState(kp, kl, out, cap) {
      const v = s.filterState.get(key(kp, kl));
      return put(v === undefined ? null : Buffer.from(v), out, cap);
    },
    filterStateCount() {
      return s.filterState.size;
    },
    tickPeriod() {
      return s.tickPeriod;
    },
    metric(np, nl) {
      const v = s.metricValues.get(key(np, nl));
      return v === undefined ? -1 : v;
    },
    calls(np, nl) {
      return s.calls.get(key(np, nl)) ?? 0;
    },
    logCount(level) {
      return s.logs.filter((l) => l.level === level).length;
    },
    lastLog(out, cap) {
      return put(s.logs.length === 0 ? null : Buffer.from(s.logs[s.logs.length - 1].message, "utf8"), out, cap);
    },
    /** Reads a repository file (test vectors) into module memory; 1 (NotFound) when missing. */
    readFile(pp, pl, outP, outL) {
      const path = Buffer.from(bytes(pp, pl)).toString("utf8");
      if (!existsSync(path)) return NOT_FOUND;
      return give(new Uint8Array(readFileSync(path)), outP, outL);
    },
  };

  return {
    imports: { env, testhost },
    bind(e) {
      exports = e;
    },
  };
}

export default {
  entries: ["tests/assembly/**/*.spec.ts"],
  include: [],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const host = fakeHost();
    const result = await instantiate(binary, createImports(host.imports));
    host.bind(result.exports);
    return result;
  },
  outputBinary: false,
};
