// Interned byte strings: each distinct byte string is stored once and referred to by index.
export class StringTable {
  private readonly index = new Map<string, number>();
  private readonly items: Uint8Array[] = [];
  private static readonly utf8 = new TextEncoder();

  intern(value: string | Uint8Array): number {
    const bytes = typeof value === "string" ? StringTable.utf8.encode(value) : value;
    const key = Buffer.from(bytes).toString("latin1");
    let i = this.index.get(key);
    if (i === undefined) {
      i = this.items.length;
      this.items.push(bytes);
      this.index.set(key, i);
    }
    return i;
  }

  get entries(): readonly Uint8Array[] {
    return this.items;
  }
}
