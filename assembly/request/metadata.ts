// Typed dynamic metadata. `get_property(["metadata"])` (the top-level token alone) returns Envoy's
// whole envoy.config.core.v3.Metadata as protobuf wire bytes (Envoy
// source/extensions/common/wasm/context.cc getProperty -> serializeValue, CelValue::Type::kMessage
// -> SerializeToString; the `metadata` activation value is CelProtoWrapper::CreateMessage of
// StreamInfo::dynamicMetadata(), expr/context.cc). Unlike sub-paths, which go through CEL maps
// and lose the types, the message keeps each google.protobuf.Value's kind, which is what Envoy's
// Matchers::MetadataMatcher looks at (RBAC `metadata` principals/permissions).
//
// Messages read here (field numbers from the .proto files):
//   Metadata  { map<string, Struct> filter_metadata = 1; map<string, Any> typed_filter_metadata = 2; }
//   Struct    { map<string, Value> fields = 1; }            map entry: { key = 1; value = 2; }
//   Value     { oneof kind { NullValue null_value = 1; double number_value = 2; string string_value = 3;
//               bool bool_value = 4; Struct struct_value = 5; ListValue list_value = 6; } }
//   ListValue { repeated Value values = 1; }
//
// A path is walked as Envoy's Config::Metadata::metadataValue does: filter_metadata[filter], then
// one Struct field per key; an intermediate value that is not a struct ends the walk (not found).
// Lists are never indexed. Maps keep the last entry of a key (protobuf map semantics).
//
// Nothing here recurses: a path is walked key by key, and any value is skipped by its length. Every
// read is bounds-checked; bytes that are not what Envoy's serializer writes (a varint over 10 bytes,
// a length past the end, a group, a Value with two kinds) make the result MALFORMED, which the
// caller treats as UNKNOWN (decided fail-safe), never a trap.

export namespace MdKind {
  export const NotFound: u8 = 0;
  export const String: u8 = 1;
  export const List: u8 = 2;
  /** null, number, bool, struct, or a Value with no kind: never matched by a string matcher. */
  export const Other: u8 = 3;
  export const Malformed: u8 = 4;
}

/** valueKind's answer for a struct_value (outPtr/outLen = the Struct message). */
export const STRUCT_KIND: u8 = 5;

// Results of the last call, read by the caller right after it (the filter is single-threaded).
let outPtr: usize = 0;
let outLen: usize = 0;
let pos: usize = 0;
let bad = false;

export function mdPtr(): usize {
  return outPtr;
}
export function mdLen(): usize {
  return outLen;
}

function varint(end: usize): u64 {
  let v: u64 = 0;
  let shift: u64 = 0;
  while (true) {
    if (pos >= end || shift > 63) {
      bad = true;
      return 0;
    }
    const b = <u64>load<u8>(pos++);
    v |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) return v;
    shift += 7;
  }
}

/** Skips the payload of a field of wire type `wire` at pos; sets `bad` when it cannot. */
function skip(wire: u32, end: usize): void {
  if (wire == 0) {
    varint(end);
  } else if (wire == 1) {
    if (end - pos < 8) bad = true;
    else pos += 8;
  } else if (wire == 5) {
    if (end - pos < 4) bad = true;
    else pos += 4;
  } else if (wire == 2) {
    const n = varint(end);
    if (!bad) {
      if (n > <u64>(end - pos)) bad = true;
      else pos += <usize>n;
    }
  } else {
    bad = true; // groups (3, 4) and invalid wire types
  }
}

/** A length-delimited payload at pos: sets outPtr/outLen and moves past it. */
function delimited(end: usize): bool {
  const n = varint(end);
  if (bad) return false;
  if (n > <u64>(end - pos)) {
    bad = true;
    return false;
  }
  outPtr = pos;
  outLen = <usize>n;
  pos += <usize>n;
  return true;
}

function sameBytesAt(a: usize, b: usize, n: usize): bool {
  return memory.compare(a, b, n) == 0;
}

/**
 * The value of key (k, kn) in a protobuf map field `field` of the message at [p, p+n): a map entry
 * is a message { key = 1 (bytes); value = 2 (message) }. The last entry with that key wins. Returns
 * 1 with the value message at outPtr/outLen (an entry without a value field has an empty one),
 * 0 when the key is absent, -1 when the bytes are malformed.
 */
export function mapValue(p: usize, n: usize, field: u32, k: usize, kn: usize): i32 {
  bad = false;
  pos = p;
  const end = p + n;
  let found = false;
  let vPtr: usize = 0;
  let vLen: usize = 0;
  while (pos < end) {
    const tag = varint(end);
    if (bad) return -1;
    const wire = <u32>(tag & 7);
    if (<u32>(tag >> 3) != field || wire != 2) {
      skip(wire, end);
      if (bad) return -1;
      continue;
    }
    if (!delimited(end)) return -1;
    const entryEnd = outPtr + outLen;
    const after = pos;
    pos = outPtr;
    // Fields of the entry; a repeated key or value field keeps the last (a repeated value
    // message would merge in protobuf, which Envoy's serializer never writes: malformed).
    let keyPtr: usize = 0;
    let keyLen: usize = 0;
    let ePtr: usize = 0;
    let eLen: usize = 0;
    let values = 0;
    while (pos < entryEnd) {
      const t = varint(entryEnd);
      if (bad) return -1;
      const w = <u32>(t & 7);
      const f = <u32>(t >> 3);
      if ((f == 1 || f == 2) && w == 2) {
        if (!delimited(entryEnd)) return -1;
        if (f == 1) {
          keyPtr = outPtr;
          keyLen = outLen;
        } else {
          ePtr = outPtr;
          eLen = outLen;
          values++;
        }
      } else {
        skip(w, entryEnd);
        if (bad) return -1;
      }
    }
    if (values > 1) return -1;
    pos = after;
    if (keyLen == kn && sameBytesAt(keyPtr, k, kn)) {
      found = true;
      vPtr = ePtr;
      vLen = eLen;
    }
  }
  if (!found) return 0;
  outPtr = vPtr;
  outLen = vLen;
  return 1;
}

/**
 * The kind of the google.protobuf.Value message at [p, p+n). For a string, outPtr/outLen are its
 * bytes; for a list or struct, the ListValue/Struct message. A Value with more than one kind field
 * is Malformed (protobuf would keep the last one or merge messages; Envoy never writes it).
 */
export function valueKind(p: usize, n: usize): u8 {
  bad = false;
  pos = p;
  const end = p + n;
  let kind: u8 = MdKind.Other;
  let kinds = 0;
  let sPtr: usize = 0;
  let sLen: usize = 0;
  while (pos < end) {
    const tag = varint(end);
    if (bad) return MdKind.Malformed;
    const w = <u32>(tag & 7);
    const f = <u32>(tag >> 3);
    if (f >= 1 && f <= 6) kinds++;
    if ((f == 3 || f == 5 || f == 6) && w == 2) {
      if (!delimited(end)) return MdKind.Malformed;
      sPtr = outPtr;
      sLen = outLen;
      kind = f == 3 ? MdKind.String : f == 6 ? MdKind.List : STRUCT_KIND;
    } else {
      skip(w, end);
      if (bad) return MdKind.Malformed;
      if (f >= 1 && f <= 6) kind = MdKind.Other;
    }
  }
  if (kinds > 1) return MdKind.Malformed;
  outPtr = sPtr;
  outLen = sLen;
  return kind;
}

/**
 * Walks a path through the Metadata message at [md, md+mdn). `path` is a sequence of segments,
 * each a u32 length (little-endian) then its bytes: the filter name, then one or more Struct keys
 * (decode/reach.ts checked the shape). Returns an MdKind; String/List leave the string bytes or the
 * ListValue message at mdPtr()/mdLen().
 */
export function lookup(md: usize, mdn: usize, path: usize, pathLen: usize): u8 {
  const pathEnd = path + pathLen;
  let sp = path;
  let segLen = <usize>load<u32>(sp);
  // filter_metadata[filter]
  let r = mapValue(md, mdn, 1, sp + 4, segLen);
  if (r < 0) return MdKind.Malformed;
  if (r == 0) return MdKind.NotFound;
  sp += 4 + segLen;
  let sPtr = outPtr;
  let sLen = outLen;
  while (true) {
    segLen = <usize>load<u32>(sp);
    r = mapValue(sPtr, sLen, 1, sp + 4, segLen);
    if (r < 0) return MdKind.Malformed;
    if (r == 0) return MdKind.NotFound;
    sp += 4 + segLen;
    const kind = valueKind(outPtr, outLen);
    if (kind == MdKind.Malformed) return kind;
    if (sp >= pathEnd) return kind == STRUCT_KIND ? MdKind.Other : kind;
    // More keys: only a struct can be walked into (metadataValue); anything else is not found.
    if (kind != STRUCT_KIND) return MdKind.NotFound;
    sPtr = outPtr;
    sLen = outLen;
  }
  return MdKind.NotFound;
}

/**
 * Iterates the elements of a ListValue message: call listFirst, then listNext until it returns
 * false. Each element's kind is in listKind(), a string's bytes at mdPtr()/mdLen().
 */
let listPos: usize = 0;
let listEnd: usize = 0;
let elemKind: u8 = 0;

export function listBegin(p: usize, n: usize): void {
  listPos = p;
  listEnd = p + n;
}

export function listKind(): u8 {
  return elemKind;
}

/** The next element; false at the end. A malformed element or list gives listKind() Malformed. */
export function listNext(): bool {
  while (listPos < listEnd) {
    bad = false;
    pos = listPos;
    const tag = varint(listEnd);
    if (bad) {
      listPos = listEnd;
      elemKind = MdKind.Malformed;
      return true;
    }
    const w = <u32>(tag & 7);
    if (<u32>(tag >> 3) != 1 || w != 2) {
      skip(w, listEnd);
      if (bad) {
        listPos = listEnd;
        elemKind = MdKind.Malformed;
        return true;
      }
      listPos = pos;
      continue;
    }
    if (!delimited(listEnd)) {
      listPos = listEnd;
      elemKind = MdKind.Malformed;
      return true;
    }
    listPos = pos;
    const k = valueKind(outPtr, outLen);
    elemKind = k == STRUCT_KIND ? MdKind.Other : k;
    return true;
  }
  return false;
}
