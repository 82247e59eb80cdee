// Go's encoding/json.Marshal, for byte-exact plugin stdin and cache files: libcni round-trips every
// config through map[string]interface{} (keys sorted, bytewise), escapes <, > and & (HTML-safe), and
// writes structs (go-cni's capability structs, libcni's result types) in field order. A JS object is
// a Go map unless goStruct() marked it; JSON.parse gives maps, as Go's Unmarshal into interface{} does.
import type { Json } from './conf.js';

const structs = new WeakSet<object>();

/** Marks an object as a Go struct: marshalled in insertion (field) order, not sorted. */
export function goStruct<T extends object>(o: T): T {
  structs.add(o);
  return o;
}

const HEX = '0123456789abcdef';

/** A Go string literal as encoding/json writes it (HTML-safe; a lone surrogate is invalid UTF-8 to Go: U+FFFD). */
export function goString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!;
        i++;
      } else out += '\ufffd';
      continue;
    }
    if (c >= 0xdc00 && c <= 0xdfff) {
      out += '\ufffd';
      continue;
    }
    switch (c) {
      case 0x22:
        out += '\\"';
        continue;
      case 0x5c:
        out += '\\\\';
        continue;
      case 0x08:
        out += '\\b';
        continue;
      case 0x0c:
        out += '\\f';
        continue;
      case 0x0a:
        out += '\\n';
        continue;
      case 0x0d:
        out += '\\r';
        continue;
      case 0x09:
        out += '\\t';
        continue;
    }
    if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += '\\u' + HEX[(c >> 12) & 15]! + HEX[(c >> 8) & 15]! + HEX[(c >> 4) & 15]! + HEX[c & 15]!;
      continue;
    }
    out += s[i]!;
  }
  return out + '"';
}

/** Go's map key order: bytewise on the UTF-8 encoding (not JS's UTF-16 order). */
function goKeyOrder(keys: string[]): string[] {
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
}

/** A float64 as Go writes it: JS's shortest form, which Go's 'f'/'e' choice matches, but -0 stays "-0". */
function goNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`json: unsupported value: ${n}`);
  return Object.is(n, -0) ? '-0' : JSON.stringify(n);
}

/** json.Marshal of a value made of JSON data, Go maps (plain objects) and Go structs (goStruct). */
export function goMarshal(v: Json | undefined | object): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return goNumber(v);
    case 'string':
      return goString(v);
  }
  if (Array.isArray(v)) return `[${v.map((x) => goMarshal(x as Json)).join(',')}]`;
  const o = v as Record<string, Json | undefined>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined);
  const ordered = structs.has(o) ? keys : goKeyOrder(keys);
  return `{${ordered.map((k) => `${goString(k)}:${goMarshal(o[k])}`).join(',')}}`;
}

/** Go's json.Unmarshal into map[string]interface{} then Marshal: what InjectConf does to a config's bytes. */
export function goRemarshal(text: string): string {
  return goMarshal(JSON.parse(text) as Json);
}
