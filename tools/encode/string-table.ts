// Interned byte strings: each distinct byte string is stored once and referred to by index.
export class StringTable {
  private readonly index = new Map<string, number>();
  private readonly items: Uint8Array[] = [];
  /** JS string -> index, in front of the byte-keyed index: most lookups repeat a string. */
  private readonly byText = new Map<string, number>();
  private static readonly utf8 = new TextEncoder();

  intern(value: string | Uint8Array): number {
    if (typeof value === "string") {
      let i = this.byText.get(value);
      if (i === undefined) {
        i = this.internBytes(StringTable.utf8.encode(value));
        this.byText.set(value, i);
      }
      return i;
    }
    return this.internBytes(value);
  }

  private internBytes(value: Uint8Array): number {
    const bytes = value;
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
