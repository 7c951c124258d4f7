// Context bookkeeping: stream -> root survives heavy churn and overlapping streams.
import { contextCreated, contextDeleted, pluginOfStream, rootPlugin, setRootPlugin, streamCount } from "../../assembly/lifecycle/contexts";
import { Plugin } from "../../assembly/decide/plugin";

describe("contexts", () => {
  it("maps streams to their root under churn, with deletions in any order", () => {
    const a = Plugin.failed("a");
    const b = Plugin.failed("b");
    contextCreated(1, 0);
    contextCreated(2, 0);
    setRootPlugin(1, a);
    setRootPlugin(2, b);
    let seed: u32 = 7;
    const live = new Array<u32>();
    let next: u32 = 100;
    for (let step = 0; step < 20000; step++) {
      seed = seed * 1103515245 + 12345;
      if (live.length < 300 && ((seed >>> 16) & 1) == 0) {
        const id = next++;
        contextCreated(id, (id & 1) + 1);
        live.push(id);
      } else if (live.length > 0) {
        const k = <i32>((seed >>> 8) % <u32>live.length);
        const id = live[k];
        live[k] = live[live.length - 1];
        live.pop();
        expect<bool>(pluginOfStream(id) === ((id & 1) == 0 ? a : b)).toBe(true);
        contextDeleted(id);
        expect<bool>(pluginOfStream(id) === null).toBe(true);
      }
    }
    expect<u32>(streamCount()).toBe(<u32>live.length);
    for (let i = 0; i < live.length; i++) {
      expect<bool>(pluginOfStream(live[i]) === ((live[i] & 1) == 0 ? a : b)).toBe(true);
    }
  });
  it("unknown streams and deleted roots have no plugin", () => {
    expect<bool>(pluginOfStream(999999) === null).toBe(true);
    contextCreated(5, 0);
    expect<bool>(rootPlugin(5)!.invalid).toBe(true);
    contextCreated(50000, 5);
    contextDeleted(5);
    expect<bool>(pluginOfStream(50000) === null).toBe(true);
    contextDeleted(50000);
  });
});
